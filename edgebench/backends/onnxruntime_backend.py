"""onnxruntime: execution providers with options, intra/inter-op threads, graph optimisation level."""

from __future__ import annotations

from typing import Any

from edgebench.backends.base import Backend, RuntimeInfo, Session, TensorSpec, load_error, resolve_threads, rule

_ORT_DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(bool)": "bool",
    "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32",
    "tensor(uint64)": "uint64",
    "tensor(string)": "string",
}

#: onnxruntime's load errors (as 1.32 words them) in edgebench's words; the first match wins
LOAD_ERRORS = (
    rule(r"(?P<domain>[\w.]+):(?P<op>\w+)\(-?\d+\) is not a registered function/op",
         "{runtime} {version} has no operator {op} in domain {domain}"),
    rule(r'In Node, \("[^"]*", (?P<op>\w+), "(?P<domain>)".*No Op registered for \w+ with domain_version of '
         r"(?P<opset>\d+)", "{runtime} {version} has no operator {op} in domain ai.onnx (opset {opset})"),
    rule(r'In Node, \("[^"]*", (?P<op>\w+), "(?P<domain>[^"]+)".*No Op registered for \w+ with domain_version of '
         r"(?P<opset>\d+)", "{runtime} {version} has no operator {op} in domain {domain} (opset {opset})"),
    rule(r'In Node, \("[^"]*", (?P<op>\w+), "(?P<domain>[^"]*)".*No opset import for domain',
         "operator {op} is in domain {domain}, which the model does not import (no opset_import names it)"),
    rule(r"Could not find an implementation for (?P<op>\w+)\((?P<opset>\d+)\) node",
         "{runtime} {version} has no implementation of operator {op} (opset {opset}) for these types on the "
         "chosen providers"),
    rule(r"Opset (?P<opset>\d+) is under development.*support for domain (?P<domain>\S+?) is till opset "
         r"(?P<latest>\d+)", "it uses opset {opset} of domain {domain}; {runtime} {version} supports up to {latest}"),
    rule(r"Unsupported model IR version: (?P<ir>\d+), max supported IR version: (?P<latest>\d+)",
         "its IR version is {ir}; {runtime} {version} reads up to {latest}"),
    rule(r'External data path does not exist: "(?P<file>[^"]+)"', "its external data file {file} is missing"),
    rule(r"External data path does not exist: (?P<file>\S+)", "its external data file {file} is missing"),
    # onnxruntime <= 1.19 (the last for Python 3.9) says it this way
    rule(r"cannot get file size: No such file or directory \[(?P<file>[^\]]+)\]",
         "its external data file {file} is missing"),
    rule(r"Protobuf parsing failed", "it does not parse as an ONNX model"),
    rule(r"NO_SUCHFILE", "file not found"),
)

GRAPH_OPTIMIZATION = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC",
                      "extended": "ORT_ENABLE_EXTENDED", "all": "ORT_ENABLE_ALL"}
EXECUTION_MODES = ("sequential", "parallel")


def _spec(arg: Any) -> TensorSpec:
    if arg.shape is None:  # the model does not give the rank
        return TensorSpec(arg.name, _ORT_DTYPES.get(arg.type, arg.type), None)
    shape = tuple(d if isinstance(d, int) and d >= 0 else -1 for d in arg.shape)
    return TensorSpec(arg.name, _ORT_DTYPES.get(arg.type, arg.type), shape)


class OnnxRuntimeSession(Session):
    def __init__(self, ort_session: Any, runtime_version: str, threads: int, settings: dict[str, Any]) -> None:
        self._session = ort_session
        self._version = runtime_version
        self._threads = threads
        self._settings = settings
        self.inputs = [_spec(a) for a in ort_session.get_inputs()]
        self.outputs = [_spec(a) for a in ort_session.get_outputs()]
        self._output_names = [o.name for o in self.outputs]

    def run(self) -> Any:
        return self._session.run(self._output_names, self.feeds)

    def end_profiling(self) -> str:
        """The JSON trace file of a session loaded with ``enable_profiling`` (the per-operator pass)."""
        return str(self._session.end_profiling())

    def info(self) -> RuntimeInfo:
        return RuntimeInfo("onnxruntime", self._version, {
            "providers_used": list(self._session.get_providers()),
            "intra_op_threads": self._threads,
            "inter_op_threads": self._settings.get("inter_op_threads", 1),
            "graph_optimization": self._settings.get("graph_optimization", "all"),
            "execution_mode": self._settings.get("execution_mode", "sequential"),
        })


class OnnxRuntimeBackend(Backend):
    name = "onnxruntime"
    formats = ("onnx",)
    runtime_modules = ("onnxruntime",)
    settings_schema = {
        "threads": (int, str),
        "inter_op_threads": (int,),
        "graph_optimization": (str,),
        "execution_mode": (str,),
        "providers": (list,),
        "provider_options": (dict,),
    }
    list_settings = frozenset({"providers"})
    settings_choices = {"graph_optimization": tuple(GRAPH_OPTIMIZATION), "execution_mode": EXECUTION_MODES}

    @classmethod
    def check_setting(cls, key: str, value: Any) -> str | None:
        if key == "providers":
            if not value:
                return "an empty list: name at least one execution provider"
            bad = [p for p in value if not isinstance(p, str) or not p]
            if bad:
                return f"expected execution provider names such as \"CPUExecutionProvider\", got {bad[0]!r}"
        if key == "provider_options":
            for provider, options in value.items():
                if not isinstance(options, dict):
                    return (f"{provider}: expected a table of that provider's options, "
                            f"got {type(options).__name__} {options!r}")
        return super().check_setting(key, value)

    @classmethod
    def probe(cls) -> dict[str, Any]:
        import onnxruntime as ort

        return {"version": ort.__version__, "providers": list(ort.get_available_providers())}

    @staticmethod
    def requested_providers(settings: dict[str, Any]) -> list[str]:
        return [p for p in settings.get("providers", ["CPUExecutionProvider"])]

    def load(self, model_path: str, settings: dict[str, Any]) -> Session:
        import onnxruntime as ort

        options = ort.SessionOptions()
        threads = resolve_threads(settings.get("threads", "all"))
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = int(settings.get("inter_op_threads", 1))
        level = settings.get("graph_optimization", "all")
        if level not in GRAPH_OPTIMIZATION:
            raise ValueError(f"graph_optimization {level!r} is not one of {', '.join(GRAPH_OPTIMIZATION)}")
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, GRAPH_OPTIMIZATION[level])
        mode = settings.get("execution_mode", "sequential")
        options.execution_mode = (ort.ExecutionMode.ORT_PARALLEL if mode == "parallel"
                                  else ort.ExecutionMode.ORT_SEQUENTIAL)
        if settings.get("enable_profiling"):  # the untimed per-operator pass only, never the timed loop
            options.enable_profiling = True
            options.profile_file_prefix = str(settings["profile_file_prefix"])
        providers = self.requested_providers(settings)
        provider_options = settings.get("provider_options", {})
        try:
            session = ort.InferenceSession(
                model_path, sess_options=options, providers=providers,
                provider_options=[dict(provider_options.get(p, {})) for p in providers],
            )
        except Exception as exc:  # onnxruntime's own types (Fail, InvalidGraph, ...), not importable by name
            raise load_error(model_path, exc, LOAD_ERRORS, "{runtime} {version} cannot load it",
                             runtime="onnxruntime", version=ort.__version__) from None
        return OnnxRuntimeSession(session, ort.__version__, threads, settings)

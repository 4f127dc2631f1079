"""onnxruntime: execution providers with options, intra/inter-op threads, graph optimisation level."""

from __future__ import annotations

from typing import Any

from edgebench.backends.base import Backend, RuntimeInfo, Session, TensorSpec, resolve_threads

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

GRAPH_OPTIMIZATION = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC",
                      "extended": "ORT_ENABLE_EXTENDED", "all": "ORT_ENABLE_ALL"}


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
        providers = self.requested_providers(settings)
        provider_options = settings.get("provider_options", {})
        session = ort.InferenceSession(
            model_path, sess_options=options, providers=providers,
            provider_options=[dict(provider_options.get(p, {})) for p in providers],
        )
        return OnnxRuntimeSession(session, ort.__version__, threads, settings)

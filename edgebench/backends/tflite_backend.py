"""TFLite: LiteRT (``ai_edge_litert``), else ``tflite_runtime``, else ``tensorflow.lite``; delegates."""

from __future__ import annotations

import importlib
from typing import Any

from edgebench.backends.base import Backend, RuntimeInfo, Session, TensorSpec, load_error, resolve_threads, rule

#: (module holding Interpreter, distribution name used for the version), in order of preference
RUNTIMES = (
    ("ai_edge_litert.interpreter", "ai-edge-litert"),
    ("tflite_runtime.interpreter", "tflite-runtime"),
    ("tensorflow.lite", "tensorflow"),
)

#: LiteRT's / TFLite's load errors, in edgebench's words; the first match wins
LOAD_ERRORS = (
    rule(r"Encountered unresolved custom op: (?P<op>[^\s.]+)", "{runtime} {version} has no custom op {op}"),
    rule(r"Didn't find op for builtin opcode '(?P<op>\w+)' version '(?P<opset>\d+)'",
         "{runtime} {version} has no builtin op {op} version {opset} (the model is newer than the runtime)"),
    rule(r"Regular TensorFlow ops are not supported|Select TensorFlow op",
         "it needs TensorFlow (select, Flex) ops, which {runtime} {version} runs only with the Flex delegate"),
    rule(r"not a valid Flatbuffer", "it is not a valid TFLite flatbuffer"),
    # LiteRT < 2.3 reads a damaged flatbuffer without verifying it: other words for the same thing
    rule(r"model identifier '(?P<found>[^']*)', should be 'TFL3'",
         "it is not a valid TFLite flatbuffer (its identifier is {found!r}, not 'TFL3')"),
    rule(r"^bad_alloc$|std::bad_alloc", "it is not a valid TFLite flatbuffer ({runtime} {version} ran out of memory "
                                        "reading it)"),
    rule(r"Could not open", "it cannot be opened"),
)


def import_interpreter_module() -> tuple[Any, str, str]:
    """The first TFLite runtime that imports: (module, distribution, version)."""
    from importlib import metadata

    errors = []
    for module_name, dist in RUNTIMES:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            errors.append(f"{module_name}: {exc}")
            continue
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = getattr(module, "__version__", "unknown")
        return module, dist, version
    raise ImportError("no TFLite runtime could be imported (" + "; ".join(errors) + ")")


def _spec(detail: dict[str, Any]) -> TensorSpec:
    signature = detail.get("shape_signature")
    shape = tuple(int(d) for d in (signature if signature is not None and len(signature) else detail["shape"]))
    scale, zero_point = detail.get("quantization", (0.0, 0))
    dtype = getattr(detail["dtype"], "__name__", str(detail["dtype"]))
    if scale:
        return TensorSpec(detail["name"], dtype, shape, float(scale), int(zero_point))
    return TensorSpec(detail["name"], dtype, shape)


class TFLiteSession(Session):
    def __init__(self, interpreter: Any, dist: str, version: str, threads: int, delegates: list[str]) -> None:
        self._interpreter = interpreter
        self._dist = dist
        self._version = version
        self._threads = threads
        self._delegates = delegates
        self._details = interpreter.get_input_details()
        self.inputs = [_spec(d) for d in self._details]
        self.outputs = [_spec(d) for d in interpreter.get_output_details()]
        self._indices: list[tuple[int, str]] = []

    def resize(self, shapes: dict[str, tuple[int, ...]]) -> None:
        for detail in self._details:
            shape = shapes.get(detail["name"])
            if shape is not None and tuple(detail["shape"]) != tuple(shape):
                self._interpreter.resize_tensor_input(detail["index"], list(shape), strict=False)
        self._interpreter.allocate_tensors()

    def prepare(self, feeds: dict[str, Any]) -> None:
        self.feeds = feeds
        for detail in self._details:
            self._interpreter.set_tensor(detail["index"], feeds[detail["name"]])

    def run(self) -> Any:
        self._interpreter.invoke()

    def output_values(self) -> Any:
        return [self._interpreter.get_tensor(d["index"]) for d in self._interpreter.get_output_details()]

    def info(self) -> RuntimeInfo:
        return RuntimeInfo(self._dist, self._version, {"num_threads": self._threads,
                                                       "delegates_used": self._delegates})


class TFLiteBackend(Backend):
    name = "tflite"
    formats = ("tflite",)
    runtime_modules = ("ai_edge_litert", "tflite_runtime", "tensorflow")
    settings_schema = {
        "threads": (int, str),
        "delegates": (list,),
        "xnnpack": (bool,),
    }
    list_settings = frozenset({"delegates"})

    @classmethod
    def check_setting(cls, key: str, value: Any) -> str | None:
        if key == "delegates":
            for index, entry in enumerate(value):
                if isinstance(entry, str) and entry:
                    continue
                if isinstance(entry, dict):
                    unknown = sorted(set(entry) - {"library", "options"})
                    if unknown:
                        return f"delegate {index}: unknown key {unknown[0]!r} (known: library, options)"
                    if isinstance(entry.get("library"), str) and entry["library"] and isinstance(
                            entry.get("options", {}), dict):
                        continue
                return (f"delegate {index}: expected a library path or {{ library = \"...\", options = {{ ... }} }}, "
                        f"got {entry!r}")
        return super().check_setting(key, value)

    @classmethod
    def probe(cls) -> dict[str, Any]:
        _, dist, version = import_interpreter_module()
        return {"version": version, "runtime": dist}

    def load(self, model_path: str, settings: dict[str, Any]) -> Session:
        module, dist, version = import_interpreter_module()
        threads = resolve_threads(settings.get("threads", "all"))
        delegates = []
        used = []
        for entry in settings.get("delegates", []):
            # a delegate is a shared library path, or a table {library = "...", options = {...}}
            library = entry if isinstance(entry, str) else entry["library"]
            options = {} if isinstance(entry, str) else dict(entry.get("options", {}))
            delegates.append(module.load_delegate(library, options))
            used.append(library)
        kwargs: dict[str, Any] = {"model_path": model_path, "num_threads": threads}
        if delegates:
            kwargs["experimental_delegates"] = delegates
        if settings.get("xnnpack") is False and hasattr(module, "OpResolverType"):
            kwargs["experimental_op_resolver_type"] = module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        try:  # a missing op shows in allocate_tensors, not in the constructor
            interpreter = module.Interpreter(**kwargs)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError, MemoryError) as exc:
            raise load_error(model_path, exc, LOAD_ERRORS, "{runtime} {version} cannot load it",
                             runtime=dist, version=version) from None
        if settings.get("xnnpack", True) and not delegates:
            used.append("XNNPACK (default)")
        return TFLiteSession(interpreter, dist, version, threads, used)

"""The backend interface: load a model, describe its inputs, run one inference."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence


@dataclass(frozen=True)
class TensorSpec:
    """An input or output as the runtime reports it; -1 marks a dynamic dimension, a shape of None an input
    whose rank the model does not give."""

    name: str
    dtype: str
    shape: tuple[int, ...] | None
    scale: float | None = None
    zero_point: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "dtype": self.dtype,
                               "shape": list(self.shape) if self.shape is not None else None}
        if self.scale is not None:
            out["quantization"] = {"scale": self.scale, "zero_point": self.zero_point}
        return out


@dataclass
class RuntimeInfo:
    name: str
    version: str
    details: dict[str, Any] = field(default_factory=dict)


class Session:
    """A loaded model, ready to run. ``run`` is what the timed loop calls."""

    inputs: Sequence[TensorSpec] = ()
    outputs: Sequence[TensorSpec] = ()

    def prepare(self, feeds: dict[str, Any]) -> None:
        """Bind inputs (once, outside the timed loop) for runtimes that copy them in."""
        self.feeds = feeds

    def run(self) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def resize(self, shapes: dict[str, tuple[int, ...]]) -> None:
        """Fix dynamic dimensions (batch) before inputs are built. Default: nothing to do."""

    def info(self) -> RuntimeInfo:  # pragma: no cover - interface
        raise NotImplementedError


class Backend:
    """A runtime plugin. Class attributes describe it without importing the runtime."""

    name: ClassVar[str] = ""
    formats: ClassVar[tuple[str, ...]] = ()
    runtime_modules: ClassVar[tuple[str, ...]] = ()
    #: setting name -> accepted Python types of one value (after TOML parsing)
    settings_schema: ClassVar[dict[str, tuple[type, ...]]] = {}
    #: settings whose single value is itself a list (so the matrix axis is a list of lists)
    list_settings: ClassVar[frozenset[str]] = frozenset()
    #: False for a backend that never reads the model (null): the suite's ``models[].inputs`` do not apply
    reads_model: ClassVar[bool] = True

    @classmethod
    def installed(cls) -> str | None:
        """None when a runtime module can be imported, else why not (checked without importing it)."""
        if not cls.runtime_modules:
            return None
        for module in cls.runtime_modules:
            try:
                if importlib.util.find_spec(module) is not None:
                    return None
            except (ImportError, ValueError):
                continue
        return f"runtime not installed (none of: {', '.join(cls.runtime_modules)})"

    @classmethod
    def probe(cls) -> dict[str, Any]:
        """Inside a worker: runtime version and what it offers (providers, delegates)."""
        return {}

    def load(self, model_path: str, settings: dict[str, Any]) -> Session:  # pragma: no cover - interface
        raise NotImplementedError


def resolve_threads(value: Any) -> int:
    """``"all"`` (or 0) means every core the worker may use."""
    import os

    if value in ("all", 0, None):
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            return os.cpu_count() or 1
    return int(value)

"""The backend interface: load a model, describe its inputs, run one inference."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Pattern, Sequence, Tuple

from edgebench.errors import ModelError

#: (what a runtime's load error says, what edgebench says instead): the groups of the first fill the second
LoadErrorRule = Tuple[Pattern[str], str]


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

    def output_values(self) -> Any:
        """The outputs of the last ``run`` (a list of arrays, in ``outputs`` order), for runtimes whose ``run``
        does not return them; read by the untimed fidelity pass only."""
        return None

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
    #: string settings -> the values they may take
    settings_choices: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: numeric settings -> (minimum, maximum); ``*threads`` settings are bounded by the suite for every backend
    settings_ranges: ClassVar[dict[str, tuple[float, float]]] = {}

    @classmethod
    def check_setting(cls, key: str, value: Any) -> str | None:
        """Why one value of a setting (type already checked) is wrong, or None. The suite calls this while it
        is parsed, so a bad value is one line naming file and key before the run, not a failure of every case
        in the worker. Backends with structured settings (delegates, provider options) extend it."""
        choices = cls.settings_choices.get(key)
        if choices is not None and value not in choices:
            return f"must be one of {', '.join(choices)}, got {value!r}"
        bounds = cls.settings_ranges.get(key)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            return f"must be between {bounds[0]} and {bounds[1]}, got {value!r}"
        return None
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
        from edgebench.optional import hint

        return f"runtime not installed (none of: {', '.join(cls.runtime_modules)}): {hint(cls.runtime_modules[0])}"

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


def load_error(model_path: str, exc: BaseException, rules: Sequence[LoadErrorRule], fallback: str,
               **names: str) -> ModelError:
    """A runtime's failure to load ``model_path`` as one line: the file, what is wrong in edgebench's words
    (the first rule whose pattern the runtime's text matches, else ``fallback``), then the runtime's own text.
    ``names`` (runtime, version) fill the words too."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    words = fallback.format(**names)
    for pattern, template in rules:
        found = pattern.search(text)
        if found:
            groups = {k: v for k, v in found.groupdict().items() if v is not None}
            words = template.format(**names, **groups)
            break
    return ModelError(f"{model_path}: {words}: {text}")


def rule(pattern: str, words: str) -> LoadErrorRule:
    return re.compile(pattern), words

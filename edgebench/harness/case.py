"""A case: one cell of the matrix, as it travels to a worker (plain JSON, nothing else)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from edgebench.config.suite import RunRules


@dataclass(frozen=True)
class Case:
    case_id: str
    model: str
    precision: str
    format: str
    model_path: str
    model_sha256: str
    backend: str
    settings: Mapping[str, Any]
    scenario: str
    batch: int = 1
    duration_s: float | None = None
    rules: RunRules = field(default_factory=RunRules)
    seed: int = 0
    input_shapes: Mapping[str, list[int]] = field(default_factory=dict)
    #: set when the case cannot run here; the runner records it as skipped with this reason
    skip_reason: str | None = None
    #: the sampling spec the worker hands to the sensors (empty: no sensors)
    sensors: Mapping[str, Any] = field(default_factory=dict)
    #: the concurrent scenario: streams run at once, each its own session and thread
    concurrency: int = 1
    #: the LoadGen-driven scenarios: LoadgenSettings.to_json() (empty: the case does not go through LoadGen)
    loadgen: Mapping[str, Any] = field(default_factory=dict)

    @property
    def threads(self) -> Any:
        return self.settings.get("threads", "all")

    def labels(self) -> dict[str, Any]:
        """The values include/exclude rules and ``--filter`` match against."""
        return {"model": self.model, "precision": self.precision, "format": self.format,
                "backend": self.backend, "scenario": self.scenario, "batch": self.batch,
                "concurrency": self.concurrency, "case_id": self.case_id, **self.settings}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["settings"] = dict(self.settings)
        data["input_shapes"] = {k: list(v) for k, v in self.input_shapes.items()}
        data["sensors"] = dict(self.sensors)
        data["loadgen"] = dict(self.loadgen)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Case:
        values = dict(data)
        values["rules"] = RunRules(**values.get("rules", {}))
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in known})


def make_case_id(model: str, precision: str, backend: str, settings: Mapping[str, Any],
                 scenario: str, batch: int, concurrency: int = 1) -> str:
    """Readable, stable and safe as a directory name: ``kws_dscnn.fp32.onnxruntime.threads=1.single_stream.b1``
    (``...threads=1.concurrent.c4.b1`` for 4 concurrent streams)."""
    parts = [model, precision, backend]
    for key in sorted(settings):
        value = settings[key]
        if isinstance(value, list):
            value = "+".join(str(v if not isinstance(v, dict) else v.get("library", "delegate")) for v in value)
        parts.append(f"{key}={value}")
    parts += [scenario, *([f"c{concurrency}"] if concurrency != 1 else []), f"b{batch}"]
    text = ".".join(str(p) for p in parts)
    return "".join(c if c.isalnum() or c in "._=+-" else "_" for c in text)

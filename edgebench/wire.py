"""What crosses the wire to a device: a case (one cell of the matrix) and the rules of its timed loop.

The host builds these from the suite and the profile (``edgebench.config`` parses, ``edgebench.harness.matrix``
expands), sends ``Case.to_json()`` to a worker, and the worker rebuilds the case with ``Case.from_json``. So this
module sits below everything: plain dataclasses and the standard library, no TOML parser, no downloader, and
Python 3.8 syntax (it ships in the agent). A case's other parts travel as plain dicts: the input specs
(``edgebench.worker.inputs.InputSpec.to_json``), the LoadGen settings (``config.loadgen_settings``), the sensor spec.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

#: a worker (and the agent's ``system`` command) prints its result as one stdout line: this prefix, then JSON.
#: Runtimes may print lines of their own; the transport takes the last line that starts with it.
RESULT_PREFIX = "EDGEBENCH-RESULT "


@dataclass(frozen=True)
class RunRules:
    """When the timed loop may stop (pyperf/LoadGen style: a minimum count AND a minimum duration).

    The suite's ``[rules]`` table is read and bounded by ``edgebench.config.suite.parse_run_rules``."""

    warmup_iterations: int = 10
    warmup_seconds: float = 0.2
    min_iterations: int = 50
    min_seconds: float = 1.0
    max_seconds: float = 10.0
    max_iterations: int = 1_000_000
    #: stop early once the CI of the median is narrower than this fraction of the median
    target_ci_rel_width: float = 0.01
    confidence: float = 0.95
    #: fresh worker processes per case, run in rounds interleaved across cases (pyperf/asv style), so the
    #: summary and ``compare`` see run-to-run variance, not only the spread within one process
    processes: int = 1

    def fast(self) -> RunRules:
        """``--fast``: a smoke test of the suite, not a measurement to keep."""
        return RunRules(warmup_iterations=2, warmup_seconds=0.0, min_iterations=10, min_seconds=0.05,
                        max_seconds=0.5, max_iterations=self.max_iterations,
                        target_ci_rel_width=0.05, confidence=self.confidence, processes=1)

#: the untimed fidelity pass's fixed inputs per case (without labelled data)
DEFAULT_FIDELITY_INPUTS = 8


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
    #: per input name, what the suite says about it (``InputSpec.to_json()``: shape, value, range, normal, data)
    inputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: set when the case cannot run here; the runner records it as skipped with this reason
    skip_reason: str | None = None
    #: the sampling spec the worker hands to the sensors (empty: no sensors)
    sensors: Mapping[str, Any] = field(default_factory=dict)
    #: the concurrent scenario: streams run at once, each its own session and thread
    concurrency: int = 1
    #: set when the case's model file cannot be measured (missing, truncated, ...): the runner records the case
    #: failed with this line, naming the suite, the key and the file, and does not run it
    model_problem: str | None = None
    #: the suite file and the model's key in it (``models[0]``): input errors found in the worker name them
    suite_path: str = ""
    model_key: str = ""
    #: input names of the model's other files (another format): ``inputs`` for them do not apply to this one
    inputs_elsewhere: list[str] = field(default_factory=list)
    #: the LoadGen-driven scenarios: LoadgenSettings.to_json() (empty: the case does not go through LoadGen)
    loadgen: Mapping[str, Any] = field(default_factory=dict)
    #: a generated variant: its recipe, tool, calibration and size (edgebench.optimise.variants); {} otherwise
    variant: Mapping[str, Any] = field(default_factory=dict)
    #: after the timed loop, a separate untimed pass with the runtime's per-operator profiler
    profile_ops: bool = False
    #: the untimed fidelity pass: how many fixed inputs (0: none); every labelled sample with ``accuracy``
    fidelity_inputs: int = DEFAULT_FIDELITY_INPUTS
    #: ``[models.accuracy]`` (config/accuracy.py): the host scores the fidelity pass's outputs against its labels
    accuracy: Mapping[str, Any] = field(default_factory=dict)

    @property
    def data_files(self) -> list[Mapping[str, Any]]:
        """The data files the inputs read (``{"path", "sha256", "bytes"}``): shipped to a device with the model."""
        return [spec["data"] for spec in self.inputs.values() if spec.get("data")]

    def with_data_paths(self, paths: Mapping[str, str]) -> Case:
        """The case with each data file at ``paths[sha256]`` (its copy in a device's cache)."""
        inputs = {name: ({**spec, "data": {**spec["data"], "path": paths[spec["data"]["sha256"]]}}
                         if spec.get("data") and spec["data"].get("sha256") in paths else dict(spec))
                  for name, spec in self.inputs.items()}
        return replace(self, inputs=inputs)

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
        data["inputs"] = {k: dict(v) for k, v in self.inputs.items()}
        data["sensors"] = dict(self.sensors)
        data["loadgen"] = dict(self.loadgen)
        data["variant"] = dict(self.variant)
        data["accuracy"] = dict(self.accuracy)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Case:
        values = dict(data)
        values["rules"] = RunRules(**values.get("rules", {}))
        if "inputs" not in values and values.get("input_shapes"):  # a run directory from before ``inputs``
            values["inputs"] = {name: {"shape": list(shape), "key": f"input_shapes.{name}"}
                                for name, shape in values["input_shapes"].items()}
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

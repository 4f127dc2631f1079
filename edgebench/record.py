"""The typed view of a run directory: one frozen record per case, and the run's header, parsed once from run.json.

Every reader (analysis, reporting, the CLI) gets these from ``RunStore.cases()`` and ``RunStore.run_info``
and reads attributes; only the store (``results.store``) writes run.json. Parsing is lenient by design: a
key an older run lacks reads as None (or its default), a key a newer edgebench added is ignored, so every run
directory this version accepts (``schema.upgrade``) can be read. What a reader cannot do without (a case id
and a status) is checked by the store before a record is built.

Two things are decided here, once, so that no reader has to know them:

* the **device** of a case: the profile it ran on (a farm run lists several, each case names its own) and
  the host that device reported (its environment's hostname);
* the **threads** of a case: the count the runtime reported, under each backend's own spelling
  (``RUNTIME_THREAD_KEYS``), else the suite's setting (``"all"`` or a number), else None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple

#: how each backend spells the thread count it used in its runtime info: onnxruntime, tflite, any other
RUNTIME_THREAD_KEYS = ("intra_op_threads", "num_threads", "threads")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(data: Mapping[str, Any], key: str) -> Optional[str]:
    """``data[key]`` as text; None when it is absent or null."""
    value = data.get(key)
    return None if value is None else str(value)


def _number(value: Any) -> Any:
    """A figure as stored (an int stays an int: reports print 45 and 45.0 differently), or None when it is
    missing or not a number."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> Optional[int]:
    """A count as stored, or None when it is missing or not an int (a bool is not a count)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def resolve_threads(runtime: Mapping[str, Any], settings: Mapping[str, Any]) -> Any:
    """The thread count of a case: what the runtime reported (each backend's spelling), else the setting."""
    for key in RUNTIME_THREAD_KEYS:
        if runtime.get(key) is not None:
            return runtime[key]
    return settings.get("threads")


# -- the run header ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Environment:
    """What the device said about itself when probed (``edgebench.harness.environment``)."""

    hostname: str | None = None
    os: str | None = None
    kernel: str | None = None
    machine: str | None = None
    cpu_model: str | None = None
    cpu_count: int | None = None
    python: str | None = None
    #: the smallest step perf_counter_ns made between back-to-back calls on the device (None: older runs)
    timer_resolution_ns: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> Environment:
        data = _map(data)
        return cls(**{k: _text(data, k)
                      for k in ("hostname", "os", "kernel", "machine", "cpu_model", "python")},
                   cpu_count=_int(data.get("cpu_count")), timer_resolution_ns=_int(data.get("timer_resolution_ns")))


@dataclass(frozen=True)
class DeviceInfo:
    """One device of a run: its profile (name, hardware, price, sensors) and the environment it reported."""

    name: str
    profile_path: str | None = None
    board: str = ""
    cpu: str = ""
    cores: int | None = None
    price_usd: float | None = None
    tdp_w: float | None = None
    total_power_channel: str | None = None
    environment: Environment = field(default_factory=Environment)
    #: the profile's transport table as run.json keeps it (secrets redacted): ``--resume`` reads the address
    transport: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def host(self) -> str | None:
        """The host name the device reported (None when it was never probed)."""
        return self.environment.hostname

    @classmethod
    def from_json(cls, profile: Any, environment: Any, name: str | None = None,
                  profile_path: str | None = None) -> DeviceInfo:
        profile = _map(profile)
        hardware = _map(profile.get("device"))
        sensors = _map(profile.get("sensors"))
        channel = sensors.get("total_power_channel")
        return cls(name=str(name or profile.get("name") or "unknown"),
                   profile_path=str(profile["path"]) if profile.get("path") is not None else profile_path,
                   board=str(hardware.get("board") or ""), cpu=str(hardware.get("cpu") or ""),
                   cores=_int(hardware.get("cores")),
                   price_usd=_number(hardware.get("price_usd")), tdp_w=_number(hardware.get("tdp_w")),
                   total_power_channel=channel if isinstance(channel, str) else None,
                   environment=Environment.from_json(environment), transport=dict(_map(profile.get("transport"))))


@dataclass(frozen=True)
class RunHeader:
    """What run.json says about the run as a whole.

    ``device`` is the run's name for where it ran: the profile's name, or ``farm`` for a farm run, whose
    ``devices`` are each of its profiles (in the order given). A single-device run has that one device."""

    device: str
    devices: Tuple[DeviceInfo, ...]
    farm: bool
    environment: Environment
    suite: str
    rules: Mapping[str, Any]
    state: str | None
    created_at: float | None
    finished_at: float | None
    edgebench_version: str
    git_commit: str | None
    fast: bool
    scheduler: str | None = None
    #: the suite's ``[reference]`` for output fidelity (precision, backend, ...); empty: the default reference
    reference: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def confidence(self) -> float:
        value = _number(self.rules.get("confidence"))
        return 0.95 if value is None else value

    def device_info(self, name: str | None) -> DeviceInfo | None:
        """The device of that name (None for a name the run does not list)."""
        for device in self.devices:
            if device.name == name:
                return device
        return None

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> RunHeader:
        profile = _map(document.get("profile"))
        name = str(profile.get("name", "unknown"))
        farm = _map(document.get("farm"))
        if farm:
            profiles = _map(document.get("profiles"))
            environments = _map(document.get("environments"))
            paths = _map(farm.get("profile_paths"))
            listed = farm.get("devices")
            names = [str(d) for d in listed] if isinstance(listed, list) else [str(d) for d in profiles]
            devices = tuple(DeviceInfo.from_json(profiles.get(d), environments.get(d), d, paths.get(d))
                            for d in names)
        else:
            devices = (DeviceInfo.from_json(profile, document.get("environment"), name),)
        suite = _map(document.get("suite"))
        created, finished = document.get("created_at"), document.get("finished_at")
        return cls(device=name, devices=devices, farm=bool(farm),
                   environment=Environment.from_json(document.get("environment")),
                   suite=str(suite.get("name", "")), rules=dict(_map(suite.get("rules"))),
                   state=_text(document, "state"),
                   created_at=_number(created), finished_at=_number(finished),
                   edgebench_version=str(document.get("edgebench_version", "")),
                   git_commit=_text(document, "git_commit"),
                   fast=bool(document.get("fast")),
                   scheduler=_text(farm, "scheduler"),
                   reference=dict(_map(suite.get("reference"))))


# -- one case ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Latency:
    """The latency summary of a case (``analysis.stats.LatencyStats``), in ns."""

    n: int = 0
    min_ns: float | None = None
    max_ns: float | None = None
    mean_ns: float | None = None
    stdev_ns: float | None = None
    p50_ns: float | None = None
    p90_ns: float | None = None
    p95_ns: float | None = None
    p99_ns: float | None = None
    p999_ns: float | None = None
    median_ci_low_ns: float | None = None
    median_ci_high_ns: float | None = None

    def ns(self, key: str) -> float | None:
        """A statistic by its stored name (``p90_ns``); None when absent."""
        value = getattr(self, key, None) if key in self.__dataclass_fields__ else None
        return value if isinstance(value, (int, float)) else None

    def ms(self, key: str) -> float | None:
        value = self.ns(key)
        return None if value is None else value / 1e6

    @classmethod
    def from_json(cls, data: Any) -> Latency | None:
        data = _map(data)
        if not data:
            return None
        n = data.get("n")
        return cls(n=n if isinstance(n, int) else 0,
                   **{k: _number(data.get(k)) for k in cls.__dataclass_fields__ if k != "n"})


@dataclass(frozen=True)
class SensorFigures:
    """Power, energy, temperature and throttling of a case (``analysis.sensor_summary``); None: not measured."""

    power_avg_w: float | None = None
    power_idle_w: float | None = None
    energy_per_inference_mj: float | None = None
    temp_max_c: float | None = None
    throttled: bool | None = None
    throttle_flags: Tuple[str, ...] = ()
    #: the energy block of the details had channels: the figures above came from a power or energy reading
    has_energy: bool = False
    details: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> SensorFigures:
        data = _map(data)
        details = _map(data.get("details"))
        flags = _map(details.get("throttling")).get("flags") or ()
        throttled = data.get("throttled")
        return cls(power_avg_w=_number(data.get("power_avg_w")), power_idle_w=_number(data.get("power_idle_w")),
                   energy_per_inference_mj=_number(data.get("energy_per_inference_mj")),
                   temp_max_c=_number(data.get("temp_max_c")),
                   throttled=throttled if isinstance(throttled, bool) else None,
                   throttle_flags=tuple(str(f) for f in flags), has_energy=bool(details.get("energy")),
                   details=details)


@dataclass(frozen=True)
class LoadgenTrial:
    target_qps: float | None
    passed: bool
    valid: bool
    samples_per_s: float | None
    invalid_reason: str | None
    latency_ns: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Any) -> LoadgenTrial:
        data = _map(data)
        return cls(_number(data.get("target_qps")), bool(data.get("passed")), bool(data.get("valid")),
                   _number(data.get("samples_per_s")), data.get("invalid_reason"), dict(_map(data.get("latency_ns"))))


@dataclass(frozen=True)
class LoadgenFigures:
    """A LoadGen scenario's verdict and figures (``results.summary.loadgen_summary``)."""

    scenario: str | None
    valid: bool
    invalid_reason: str | None
    shortened: bool
    samples_per_s: float | None
    served_qps: float | None
    latency_bound_ms: float | None
    latency_percentile: float | None
    trials: Tuple[LoadgenTrial, ...]

    @classmethod
    def from_json(cls, data: Any) -> LoadgenFigures | None:
        data = _map(data)
        if not data:
            return None
        return cls(scenario=data.get("scenario"), valid=bool(data.get("valid")),
                   invalid_reason=data.get("invalid_reason"), shortened=bool(data.get("shortened")),
                   samples_per_s=_number(data.get("samples_per_s")), served_qps=_number(data.get("served_qps")),
                   latency_bound_ms=_number(data.get("latency_bound_ms")),
                   latency_percentile=_number(data.get("latency_percentile")),
                   trials=tuple(LoadgenTrial.from_json(t) for t in data.get("trials") or ()))


@dataclass(frozen=True)
class ProcessFigures:
    """A case run in several worker processes (``results.summary.process_summary``): per-process statistics
    in ns, their spread (stdev / mean: the case's noise floor), and two-level bootstrap intervals."""

    count: int = 0
    p50_ns: tuple[float, ...] = ()
    p90_ns: tuple[float, ...] = ()
    p99_ns: tuple[float, ...] = ()
    mean_ns: tuple[float, ...] = ()
    peak_rss_mb: tuple[float, ...] = ()
    spread: Mapping[str, float | None] = field(default_factory=dict)
    ci_ns: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def values(self, stat: str) -> tuple[float, ...]:
        """Per-process values of a statistic (``p50``, ``p90``, ``p99``, ``mean``, ``peak_rss_mb``)."""
        return getattr(self, stat if stat == "peak_rss_mb" else f"{stat}_ns", ())

    @classmethod
    def from_json(cls, data: Any) -> ProcessFigures | None:
        data = _map(data)
        if not data:
            return None

        def numbers(key: str) -> tuple[float, ...]:
            found = data.get(key)
            return tuple(float(v) for v in found if isinstance(v, (int, float))) if isinstance(found, list) else ()

        count = data.get("count")
        ci = {k: (float(v[0]), float(v[1])) for k, v in _map(data.get("ci_ns")).items()
              if isinstance(v, (list, tuple)) and len(v) == 2}
        return cls(count=count if isinstance(count, int) else 0, p50_ns=numbers("p50_ns"),
                   p90_ns=numbers("p90_ns"), p99_ns=numbers("p99_ns"), mean_ns=numbers("mean_ns"),
                   peak_rss_mb=numbers("peak_rss_mb"),
                   spread={k: _number(v) for k, v in _map(data.get("spread")).items()}, ci_ns=ci)


@dataclass(frozen=True)
class CaseSummary:
    """The per-case figures run.json keeps (``results.summary.case_summary``)."""

    latency: Latency | None = None
    throughput_ips: float | None = None
    load_ms: float | None = None
    first_inference_ms: float | None = None
    peak_rss_mb: float | None = None
    load_rss_mb: float | None = None
    sensors: SensorFigures = field(default_factory=SensorFigures)
    loadgen: LoadgenFigures | None = None
    #: the untimed passes of the optimisation study (``analysis/fidelity.py``, ``worker/untimed_passes.py``): the
    #: fidelity against the reference case, top-1 accuracy on labelled data, the per-operator profile; as stored
    fidelity: Mapping[str, Any] = field(default_factory=dict, repr=False)
    accuracy: Mapping[str, Any] = field(default_factory=dict, repr=False)
    op_profile: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: set when the case ran in several worker processes (``processes = N``)
    processes: ProcessFigures | None = None

    @classmethod
    def from_json(cls, data: Any) -> CaseSummary | None:
        data = _map(data)
        if not data:
            return None
        return cls(latency=Latency.from_json(data.get("latency")), throughput_ips=_number(data.get("throughput_ips")),
                   load_ms=_number(data.get("load_ms")), first_inference_ms=_number(data.get("first_inference_ms")),
                   peak_rss_mb=_number(data.get("peak_rss_mb")), load_rss_mb=_number(data.get("load_rss_mb")),
                   sensors=SensorFigures.from_json(data.get("sensors")),
                   loadgen=LoadgenFigures.from_json(data.get("loadgen")), fidelity=_map(data.get("fidelity")),
                   accuracy=_map(data.get("accuracy")), op_profile=_map(data.get("op_profile")),
                   processes=ProcessFigures.from_json(data.get("processes")))


@dataclass(frozen=True)
class Runtime:
    """The runtime a case ran on, as the worker reported it."""

    name: str | None
    version: str | None
    details: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        """``onnxruntime 1.17.1``, or "" when the runtime did not say its name."""
        return f"{self.name} {self.version}" if self.name else ""

    @classmethod
    def from_json(cls, data: Any) -> Runtime | None:
        data = _map(data)
        if not data:
            return None
        return cls(_text(data, "name"), _text(data, "version"), dict(data))


@dataclass(frozen=True)
class CaseRecord:
    """One case of a run: what it is, where it ran, how it ended and its figures."""

    case_id: str
    status: str
    model: str = ""
    backend: str = ""
    precision: str = ""
    format: str | None = None
    scenario: str = ""
    batch: int = 1
    concurrency: int = 1
    settings: Mapping[str, Any] = field(default_factory=dict)
    model_sha256: str | None = None
    #: the profile the case ran on: its own for a farm case, the run's otherwise
    device: str = ""
    #: the host name that device reported; None when it was never probed
    host: str | None = None
    #: a case of a farm run: it names its own device (its id ends in ``@device``), part of what the case is
    farm: bool = False
    #: the thread count, resolved once (see the module docstring); None when neither runtime nor suite said
    threads: Any = None
    runtime: Optional[Runtime] = None
    summary: Optional[CaseSummary] = None
    error: str | None = None
    skip_reason: str | None = None
    raw_file: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    #: a variant the optimisation study built (recipe, tool and version, calibration, ``file_bytes``); empty else
    variant: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def problem(self) -> str:
        """Why the case has no figures: its error or the reason it was skipped ("" when neither)."""
        return self.error or self.skip_reason or ""

    @property
    def latency(self) -> Latency | None:
        return self.summary.latency if self.summary else None

    @property
    def sensors(self) -> SensorFigures:
        return self.summary.sensors if self.summary else SensorFigures()

    @property
    def loadgen(self) -> LoadgenFigures | None:
        return self.summary.loadgen if self.summary else None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], run: RunHeader | None = None) -> CaseRecord:
        """A record of run.json's ``cases``; ``run``: its run's header (the device of a case that names none)."""
        runtime = _map(data.get("runtime"))
        settings = dict(_map(data.get("settings")))
        device = str(data.get("device") or (run.device if run else ""))
        info = run.device_info(device) if run else None
        batch, concurrency = data.get("batch"), data.get("concurrency")
        return cls(
            case_id=str(data.get("case_id", "")), status=str(data.get("status", "")),
            model=str(data.get("model", "")), backend=str(data.get("backend", "")),
            precision=str(data.get("precision", "")),
            format=_text(data, "format"),
            scenario=str(data.get("scenario", "")),
            batch=batch if isinstance(batch, int) and batch else 1,
            concurrency=concurrency if isinstance(concurrency, int) and concurrency else 1,
            settings=settings,
            model_sha256=_text(data, "model_sha256"),
            device=device, host=info.host if info else None, farm=bool(data.get("device")),
            threads=data["threads"] if data.get("threads") is not None else resolve_threads(runtime, settings),
            runtime=Runtime.from_json(runtime), summary=CaseSummary.from_json(data.get("summary")),
            error=_text(data, "error"),
            skip_reason=_text(data, "skip_reason"),
            raw_file=_text(data, "raw_file"),
            started_at=_number(data.get("started_at")), finished_at=_number(data.get("finished_at")),
            variant=_map(data.get("variant")))

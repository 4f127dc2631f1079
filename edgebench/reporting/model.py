"""The comparison table behind every report: N runs -> groups of rows, side by side on one dimension.

``--by device`` (or backend, model, precision, threads, run) puts the values of that dimension next to each
other. Rows that differ only in that dimension share a *group* (model, precision, scenario, batch, less the
``by`` dimension) and a *variant* (the other dimensions that vary: backend, threads, settings, ...). Within a
group the best value of each metric column is marked, and each value gets its ratio against the row of the
*reference* (a value of the ``by`` dimension, the first one seen by default): the reference row with the same
variant, else the first reference row of the group (a backend's settings need not exist for another backend).

Renderers (markdown, html, csv_report, json_report) only format this model; nothing here formats text.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from edgebench import __version__
from edgebench.errors import EdgebenchError
from edgebench.record import CaseRecord, DeviceInfo

BY_CHOICES = ("device", "backend", "model", "precision", "threads", "run")
#: the backend that runs no model (it measures the harness): never "best", never in a hardware choice
NULL_BACKEND = "null"
GROUP_DIMS = ("model", "precision", "scenario", "batch")
VARIANT_DIMS = ("device", "backend", "precision", "threads", "settings", "scenario", "batch", "model")


@dataclass(frozen=True)
class MetricColumn:
    key: str
    title: str
    better: str  # "min" | "max" | "" (not ranked)
    unit: str


METRICS = (
    MetricColumn("latency_p50_ms", "p50 ms", "min", "ms"),
    MetricColumn("latency_p90_ms", "p90 ms", "min", "ms"),
    MetricColumn("latency_p99_ms", "p99 ms", "min", "ms"),
    MetricColumn("throughput_ips", "inf/s", "max", "inferences/s"),
    MetricColumn("peak_rss_mb", "peak MiB", "min", "MiB"),
    MetricColumn("power_avg_w", "power W", "min", "W"),
    MetricColumn("energy_per_inference_mj", "mJ/inf", "min", "mJ"),
    MetricColumn("throttled", "throttled", "", ""),
)
#: noise between processes: the spread of the per-process medians (stdev / mean) above this fraction
PROCESS_SPREAD_LIMIT = 0.05
PROCESS_SPREAD_ADVICE = ("run more processes (processes in the suite's [rules]), quiet the machine (edgebench "
                         "system tune, close other programs), or gate such cases with a wider threshold")
#: high variation: stdev above this fraction of the mean (pyperf warns at 10 %)
VARIATION_LIMIT = 0.10

HIGH_VARIATION_ADVICE = ("the device is noisy: run `edgebench system tune` (fixed governor, no turbo, "
                         "performance power mode), close other programs, and run again")
THROTTLED_ADVICE = ("cool the device down between cases (the profile's [cooldown]) or measure throttled "
                    "performance on purpose with the sustained scenario")


@dataclass(frozen=True)
class RunInfo:
    label: str
    device: str
    board: str
    cpu: str
    suite: str
    created_at: float | None
    edgebench_version: str
    git_commit: str | None
    fast: bool
    price_usd: float | None
    tdp_w: float | None
    cases: int
    has_sensors: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Entry:
    """One case of one run, with the dimension values and the figures a report shows."""

    run: int
    case_id: str
    dims: dict[str, str]
    status: str
    error: str
    values: dict[str, Any]
    variation: float | None
    throttle_flags: tuple[str, ...]
    runtime: str
    model_sha256: str | None
    record: CaseRecord = field(repr=False)
    #: the price and power of the device the case ran on (its profile's; on a farm, each case's own device)
    price_usd: float | None = None
    tdp_w: float | None = None
    #: the host name the device reported (None when it was never probed)
    host: str | None = None

    @property
    def runs_a_model(self) -> bool:
        """False for the null backend: its figures are the harness's, not a model's on a device."""
        return self.dims["backend"] != NULL_BACKEND


@dataclass
class Row:
    entry: Entry
    by_value: str
    variant: str
    ratios: dict[str, float | None]
    best: set[str]
    is_reference: bool


@dataclass
class Group:
    title: str
    dims: dict[str, str]
    rows: list[Row]


@dataclass(frozen=True)
class Warning_:
    kind: str  # "variation" | "throttled" | "not-comparable" | "failed" | "no-sensors" | "fast"
    text: str


@dataclass(frozen=True)
class DeviceRow:
    """One device the runs ran on: its profile's name and hardware, and the host it reported."""

    name: str
    run: str
    host: str | None
    board: str
    cpu: str
    price_usd: float | None
    tdp_w: float | None
    total_power_channel: str | None


@dataclass
class HardwareRow:
    """Per device and model, the case with the highest throughput. Per-watt and per-energy figures come only
    from measured power; ``ips_per_tdp_w_estimate`` divides by the profile's TDP, a rating, not a measurement."""

    device: str
    model: str
    case: str
    throughput_ips: float | None
    power_w: float | None  # measured average power of that case; None when nothing measured it
    ips_per_w: float | None  # from the measured power only
    energy_per_inference_mj: float | None  # measured
    price_usd: float | None
    ips_per_usd: float | None
    tdp_w: float | None = None
    ips_per_tdp_w_estimate: float | None = None  # throughput / the profile's TDP: an estimate, not measured
    host: str | None = None
    #: the LoadGen server scenario: the highest QPS served within the latency bound by a valid run, its case,
    #: and per measured watt and per dollar
    served_qps: float | None = None
    server_case: str = ""
    qps_per_w: float | None = None
    qps_per_usd: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Every field; the served-QPS ones only where a server case served a rate."""
        out = asdict(self)
        if self.served_qps is None:
            for key in ("served_qps", "server_case", "qps_per_w", "qps_per_usd"):
                del out[key]
        return out


@dataclass
class ServerTrial:
    target_qps: float
    latency_ms: float | None  # the chosen percentile of the query latency, as LoadGen measured it
    passed: bool
    valid: bool


@dataclass
class ServerCurve:
    """One server case's QPS search: every trial's QPS against its latency percentile, and the bound."""

    label: str
    case_id: str
    percentile: float
    bound_ms: float
    served_qps: float | None
    valid: bool
    invalid_reason: str | None
    shortened: bool
    trials: list[ServerTrial]


@dataclass
class ParetoPoint:
    model: str
    label: str
    latency_p50_ms: float
    cost: float
    optimal: bool


#: the latency statistics a budget can be set on (``--budget-stat``), as stored (``Latency.p99_ns``...)
BUDGET_STATS = ("p50", "p90", "p95", "p99", "p999", "mean", "max")
#: a budget holds for (nearly) every query, not the typical one: p99 by default
DEFAULT_BUDGET_STAT = "p99"


@dataclass(frozen=True)
class Budget:
    """What a deployment needs: a latency statistic at most ``latency_ms`` (one query: a batch counts as one),
    and/or at least ``min_fps`` inferences per second."""

    latency_ms: float | None = None
    stat: str = DEFAULT_BUDGET_STAT
    min_fps: float | None = None

    def __post_init__(self) -> None:
        if self.stat not in BUDGET_STATS:
            raise EdgebenchError(f"--budget-stat {self.stat}: expected one of {', '.join(BUDGET_STATS)}")
        if self.latency_ms is None and self.min_fps is None:
            raise EdgebenchError("a budget needs --budget-ms or --min-fps")
        for flag, value in (("--budget-ms", self.latency_ms), ("--min-fps", self.min_fps)):
            if value is not None and not value > 0:
                raise EdgebenchError(f"{flag} {value:g}: must be above 0")

    @property
    def text(self) -> str:
        """``p99 <= 5 ms and >= 30 inf/s``"""
        parts = []
        if self.latency_ms is not None:
            parts.append(f"{self.stat} <= {self.latency_ms:g} ms")
        if self.min_fps is not None:
            parts.append(f">= {self.min_fps:g} inf/s")
        return " and ".join(parts)


@dataclass
class Candidate:
    """A device/backend/precision/threads combination that meets the budget for one model."""

    model: str
    rank: int
    device: str
    host: str | None
    case: str  # backend, precision, threads, settings, scenario, batch
    case_id: str
    run: str
    latency_ms: float  # the budget's statistic
    throughput_ips: float | None
    energy_per_inference_mj: float | None  # measured; None: nothing measured it
    power_w: float | None  # measured
    price_usd: float | None
    #: on the Pareto front of the model's candidates: no other is at least as fast and as frugal (energy),
    #: or as fast and as cheap (price), and better in one
    pareto_energy: bool = False
    pareto_price: bool = False


@dataclass
class Selection:
    """``report --budget-ms``: per model, the combinations that meet the budget, ranked by measured energy per
    inference, then the device's price, then the latency statistic; and how many did not meet it."""

    budget: Budget
    candidates: list[Candidate]
    models: list[str]  # every model with a finished case, in the order seen
    rejected: dict[str, int]  # model -> finished combinations that missed the budget

    def of(self, model: str) -> list[Candidate]:
        return [c for c in self.candidates if c.model == model]

    def to_json(self) -> dict[str, Any]:
        return {"budget": asdict(self.budget), "ranked_by": ["energy_per_inference_mj", "price_usd", "latency_ms"],
                "models": [{"model": m, "rejected": self.rejected.get(m, 0),
                            "candidates": [asdict(c) for c in self.of(m)]} for m in self.models]}


@dataclass
class ReportModel:
    by: str
    reference: str | None
    runs: list[RunInfo]
    entries: list[Entry]
    groups: list[Group]
    variant_dims: list[str]
    hardware: list[HardwareRow]
    pareto_axis: str | None  # "energy_per_inference_mj" | "power_avg_w" | None
    pareto: list[ParetoPoint]
    warnings: list[Warning_]
    generated_at: str
    version: str
    stores: list[Any] = field(repr=False, default_factory=list)
    server_curves: list[ServerCurve] = field(default_factory=list)
    devices: list[DeviceRow] = field(default_factory=list)
    #: the results tables have a device column: the runs span several devices and ``by`` is not device
    device_column: bool = False
    selection: Selection | None = None
    _studies: list[Any] | None = field(default=None, repr=False, compare=False)

    def studies(self) -> list[Any]:
        """Each run's optimisation study (``reporting.study.build_study``), built once for every renderer."""
        if self._studies is None:
            from edgebench.reporting.study import build_study

            self._studies = [build_study(store) for store in self.stores]
        return self._studies

    @property
    def has_served_qps(self) -> bool:
        return any(h.served_qps is not None for h in self.hardware)

    @property
    def shown_metrics(self) -> list[MetricColumn]:
        """The metric columns a results table shows: those with a value in at least one row."""
        return [m for m in METRICS if any(r.entry.values.get(m.key) is not None for g in self.groups for r in g.rows)]

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at, "edgebench_version": self.version, "by": self.by,
            "reference": self.reference, "runs": [r.to_json() for r in self.runs],
            "metrics": [{"key": m.key, "title": m.title, "better": m.better, "unit": m.unit} for m in METRICS],
            "devices": [asdict(d) for d in self.devices],
            "groups": [{
                "title": g.title, **{k: v for k, v in g.dims.items()},
                "rows": [{"by_value": r.by_value, "variant": r.variant, "run": self.runs[r.entry.run].label,
                          "host": r.entry.host,
                          "case_id": r.entry.case_id, "status": r.entry.status, "error": r.entry.error or None,
                          "reference": r.is_reference, **r.entry.dims, "values": r.entry.values,
                          "ratios": r.ratios, "best": sorted(r.best)} for r in g.rows],
            } for g in self.groups],
            "hardware": [h.to_json() for h in self.hardware],
            "pareto": {"axis": self.pareto_axis, "points": [p.__dict__ for p in self.pareto]},
            "warnings": [{"kind": w.kind, "text": w.text} for w in self.warnings],
            **({"server_curves": [asdict(c) for c in self.server_curves]} if self.server_curves else {}),
            **({"selection": self.selection.to_json()} if self.selection else {}),
        }


# -- building ---------------------------------------------------------------------------------------------
def open_runs(paths: Iterable[Path]) -> list[Any]:
    from edgebench.results.store import RunStore

    stores = [RunStore.open(Path(p)) for p in paths]
    if not stores:
        raise EdgebenchError("no run directory given")
    return stores


def _settings_text(settings: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={settings[k]}" for k in sorted(settings) if k != "threads")


def _run_info(store: Any, label: str, cases: Sequence[CaseRecord]) -> RunInfo:
    run = store.run_info
    first = run.devices[0] if run.devices and not run.farm else DeviceInfo(run.device)
    has_sensors = any(c.sensors.has_energy or c.sensors.temp_max_c is not None for c in cases)
    # a farm run: its devices by name, each case's own device in the rows
    device = ", ".join(d.name for d in run.devices) if run.farm else run.device
    cpus = [d.environment.cpu_model or d.cpu for d in run.devices] if run.farm else []
    return RunInfo(label=label, device=device or run.device, board=first.board,
                   cpu=", ".join(dict.fromkeys(c for c in cpus if c)) if run.farm
                   else str(run.environment.cpu_model or first.cpu or ""),
                   suite=run.suite, created_at=run.created_at, edgebench_version=run.edgebench_version,
                   git_commit=run.git_commit, fast=run.fast, price_usd=first.price_usd, tdp_w=first.tdp_w,
                   cases=len(cases), has_sensors=bool(has_sensors))


def _entry(run_index: int, device: str, run_label: str, record: CaseRecord, info: DeviceInfo | None) -> Entry:
    from edgebench.results.summary import csv_row

    row = csv_row(record)
    latency = record.latency
    mean, stdev = (latency.mean_ns, latency.stdev_ns) if latency else (None, None)
    variation = stdev / mean if mean and stdev is not None and latency and latency.n > 1 else None
    threads = record.threads
    scenario = record.scenario
    if record.concurrency > 1:
        scenario = f"{scenario} x{record.concurrency}"  # 4 concurrent streams: "concurrent x4"
    dims = {"device": device, "backend": record.backend, "model": record.model, "precision": record.precision,
            "threads": "" if threads is None else str(threads), "settings": _settings_text(record.settings),
            "scenario": scenario, "batch": str(record.batch), "run": run_label}
    values = {m.key: row.get(m.key) for m in METRICS}
    return Entry(run_index, record.case_id, dims, record.status, str(row.get("error") or ""), values, variation,
                 record.sensors.throttle_flags, record.runtime.label if record.runtime else "", record.model_sha256,
                 record, price_usd=info.price_usd if info else None, tdp_w=info.tdp_w if info else None,
                 host=record.host)


def _labels(stores: Sequence[Any]) -> list[str]:
    labels = [Path(s.directory).name or str(s.directory) for s in stores]
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if labels.count(label) == 1 else f"{label}#{seen[label]}")
    return out


def build_model(stores: Sequence[Any], by: str = "device", reference: str | None = None,
                generated_at: str | None = None, version: str = __version__,
                budget: Budget | None = None) -> ReportModel:
    """The report model of one or more runs. ``generated_at``/``version`` are injected for byte-stable tests;
    ``budget``: also select, per model, the combinations that meet it (``Selection``)."""
    if by not in BY_CHOICES:
        raise EdgebenchError(f"--by {by}: expected one of {', '.join(BY_CHOICES)}")
    labels = _labels(stores)
    cases = [s.cases() for s in stores]
    runs = [_run_info(s, label, c) for s, label, c in zip(stores, labels, cases)]
    # each row is labelled by the device its case ran on (on a farm, its own), and by its run as well when
    # another run has a device of that name
    names = [{c.device for c in run_cases} for run_cases in cases]
    entries: list[Entry] = []
    for index, (store, run) in enumerate(zip(stores, runs)):
        for record in cases[index]:
            shared = sum(record.device in n for n in names) > 1
            device = f"{record.device} ({run.label})" if shared else record.device
            entries.append(_entry(index, device, run.label, record, store.run_info.device_info(record.device)))

    group_dims = [d for d in GROUP_DIMS if d != by]
    varying = [d for d in VARIANT_DIMS if d != by and d not in group_dims
               and len({e.dims[d] for e in entries}) > 1]
    # several devices compared by something else: the device gets its own column, not a word in the variant
    device_column = "device" in varying
    keyed = list(varying)
    varying = [d for d in varying if d != "device"]
    keys = [(tuple(e.dims[d] for d in group_dims), tuple(e.dims[d] for d in keyed), e.dims[by]) for e in entries]
    if len(set(keys)) < len(keys) and len(stores) > 1 and by != "run":
        varying.append("run")

    by_order: list[str] = []
    for e in entries:
        if e.dims[by] not in by_order:
            by_order.append(e.dims[by])
    if reference is not None and reference not in by_order:
        raise EdgebenchError(f"--reference {reference}: no {by} of that name (have: {', '.join(by_order)})")
    ref = reference if reference is not None else (by_order[0] if by_order else None)

    groups: dict[tuple[str, ...], list[Entry]] = {}
    for e in entries:
        groups.setdefault(tuple(e.dims[d] for d in group_dims), []).append(e)
    built: list[Group] = []
    for gkey, members in groups.items():
        tagged = [(e, _variant(e, ["device", *varying] if device_column else varying)) for e in members]
        variants: list[str] = []
        for _, v in tagged:
            if v not in variants:
                variants.append(v)
        tagged.sort(key=lambda t: (variants.index(t[1]), by_order.index(t[0].dims[by])))
        refs: dict[str, Entry] = {}
        for e, variant in tagged:
            if e.dims[by] == ref and e.status == "ok":
                refs.setdefault(variant, e)
        first_ref = next(iter(refs.values()), None)
        rows = []
        for e, variant in tagged:
            base = refs.get(variant, first_ref)
            ratios = {m.key: _ratio(e.values.get(m.key), base.values.get(m.key) if base else None)
                      for m in METRICS if m.better}
            shown = _variant(e, varying) if device_column else variant
            rows.append(Row(e, e.dims[by], shown, ratios, set(), e.dims[by] == ref))
        _mark_best(rows)
        dims = dict(zip(group_dims, gkey))
        title = " · ".join(f"{d} {v}" if d == "batch" else v for d, v in dims.items() if v)
        built.append(Group(title, dims, rows))

    axis, pareto = _pareto(entries)
    return ReportModel(by=by, reference=ref, runs=runs, entries=entries, groups=built, variant_dims=varying,
                       hardware=_hardware(entries), pareto_axis=axis, pareto=pareto,
                       warnings=_warnings(entries, runs), generated_at=generated_at or _now(), version=version,
                       stores=list(stores), server_curves=_server_curves(entries),
                       devices=_devices(stores, runs), device_column=device_column,
                       selection=select(entries, runs, budget) if budget else None)


def _devices(stores: Sequence[Any], runs: Sequence[RunInfo]) -> list[DeviceRow]:
    """Every device of every run (a farm run has several), with the host it reported."""
    return [DeviceRow(d.name, run.label, d.host, d.board, d.environment.cpu_model or d.cpu, d.price_usd, d.tdp_w,
                      d.total_power_channel)
            for store, run in zip(stores, runs) for d in store.run_info.devices]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _variant(entry: Entry, dims: Sequence[str]) -> str:
    parts = []
    for d in dims:
        value = entry.dims[d]
        if not value:
            continue
        parts.append(value if d in ("device", "backend", "model", "precision", "scenario", "run", "settings")
                     else f"{d}={value}")
    return " ".join(parts)


def _ratio(value: Any, base: Any) -> float | None:
    if not isinstance(value, (int, float)) or not isinstance(base, (int, float)) or isinstance(value, bool):
        return None
    return value / base if base else None


def _mark_best(rows: list[Row]) -> None:
    """Mark the best value of each column among the finished cases that ran a model (not the null backend)."""
    for m in METRICS:
        if not m.better:
            continue
        scored: list[tuple[float, Row]] = [(float(r.entry.values[m.key]), r) for r in rows if r.entry.status == "ok"
                                           and r.entry.runs_a_model
                                           and isinstance(r.entry.values.get(m.key), (int, float))]
        if len(scored) < 2:
            continue
        target = min(v for v, _ in scored) if m.better == "min" else max(v for v, _ in scored)
        for value, row in scored:
            if value == target:
                row.best.add(m.key)


def _pareto(entries: Sequence[Entry]) -> tuple[str | None, list[ParetoPoint]]:
    ok = [e for e in entries if e.status == "ok" and e.runs_a_model and e.values.get("latency_p50_ms") is not None]
    for axis in ("energy_per_inference_mj", "power_avg_w"):
        points = [e for e in ok if e.values.get(axis) is not None]
        if points:
            break
    else:
        return None, []
    out = []
    for e in points:
        x, y = e.values["latency_p50_ms"], e.values[axis]
        dominated = any(o is not e and o.dims["model"] == e.dims["model"]
                        and dominates((o.values["latency_p50_ms"], o.values[axis]), (x, y)) for o in points)
        # single_stream and batch read from b1 / bN; the others (concurrent x4, sustained) are named
        scenario = "" if e.dims["scenario"] in ("single_stream", "batch") else e.dims["scenario"]
        label = " ".join(v for v in (e.dims["device"], e.dims["backend"], e.dims["precision"],
                                     f"threads={e.dims['threads']}" if e.dims["threads"] else "",
                                     e.dims["settings"], scenario, f"b{e.dims['batch']}") if v)
        out.append(ParetoPoint(e.dims["model"], label, x, y, not dominated))
    return axis, out


def _hardware(entries: Sequence[Entry]) -> list[HardwareRow]:
    best: dict[tuple[str, str], Entry] = {}
    for e in entries:
        ips = e.values.get("throughput_ips")
        if e.status != "ok" or ips is None or not e.runs_a_model:
            continue
        key = (e.dims["device"], e.dims["model"])
        if key not in best or ips > best[key].values["throughput_ips"]:
            best[key] = e
    out = []
    for (device, model), e in best.items():
        ips = e.values["throughput_ips"]
        power = e.values.get("power_avg_w")
        out.append(HardwareRow(device, model, _case_label(e), ips, power, ips / power if power else None,
                               e.values.get("energy_per_inference_mj"), e.price_usd,
                               ips / e.price_usd if e.price_usd else None, tdp_w=e.tdp_w,
                               ips_per_tdp_w_estimate=ips / e.tdp_w if e.tdp_w else None, host=e.host))
    _add_served_qps(out, entries)
    return out


def select(entries: Sequence[Entry], runs: Sequence[RunInfo], budget: Budget) -> Selection:
    """Per model, the finished combinations (not the null backend) that meet ``budget``, ranked by measured
    energy per inference (unmeasured last), then price (unknown last), then the latency statistic; with each
    model's Pareto fronts of latency against energy and against price."""
    key = f"{budget.stat}_ns"
    models: list[str] = []
    rejected: dict[str, int] = {}
    chosen: list[Candidate] = []
    for e in entries:
        latency = e.record.latency
        value = latency.ms(key) if latency else None
        if e.status != "ok" or not e.runs_a_model or value is None:
            continue
        model = e.dims["model"]
        if model not in models:
            models.append(model)
        ips = e.values.get("throughput_ips")
        meets = ((budget.latency_ms is None or value <= budget.latency_ms)
                 and (budget.min_fps is None or (ips is not None and ips >= budget.min_fps)))
        if not meets:
            rejected[model] = rejected.get(model, 0) + 1
            continue
        chosen.append(Candidate(model, 0, e.dims["device"], e.host, _case_label(e), e.case_id, runs[e.run].label,
                                value, ips, e.values.get("energy_per_inference_mj"), e.values.get("power_avg_w"),
                                e.price_usd))

    def order(c: Candidate) -> tuple[Any, ...]:
        return (c.energy_per_inference_mj is None, c.energy_per_inference_mj or 0.0,
                c.price_usd is None, c.price_usd or 0.0, c.latency_ms)

    ranked: list[Candidate] = []
    for model in models:
        mine = sorted((c for c in chosen if c.model == model), key=order)
        for rank, c in enumerate(mine, 1):
            c.rank = rank
            c.pareto_energy = _on_front(c, mine, "energy_per_inference_mj")
            c.pareto_price = _on_front(c, mine, "price_usd")
        ranked += mine
    return Selection(budget, ranked, models, rejected)


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Pareto: ``a`` is no worse than ``b`` in every coordinate and better in one (lower is better)."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def _on_front(c: Candidate, others: Sequence[Candidate], cost: str) -> bool:
    """No other candidate is at least as fast and as cheap on ``cost`` and strictly better on one of them."""
    mine = getattr(c, cost)
    if mine is None:
        return False
    return not any(o is not c and getattr(o, cost) is not None
                   and dominates((o.latency_ms, getattr(o, cost)), (c.latency_ms, mine)) for o in others)


def _case_label(e: Entry) -> str:
    return " ".join(v for v in (e.dims["backend"], e.dims["precision"],
                                f"threads={e.dims['threads']}" if e.dims["threads"] else "", e.dims["settings"],
                                e.dims["scenario"], f"b{e.dims['batch']}") if v)


def _served(e: Entry) -> float | None:
    """The QPS a LoadGen server case served within its bound, only from a run LoadGen called valid."""
    loadgen = e.record.loadgen
    if e.status != "ok" or loadgen is None or not loadgen.valid:
        return None
    return None if loadgen.served_qps is None else float(loadgen.served_qps)


def _add_served_qps(rows: list[HardwareRow], entries: Sequence[Entry]) -> None:
    best: dict[tuple[str, str], tuple[float, Entry]] = {}
    for e in entries:
        qps = _served(e) if e.runs_a_model else None
        key = (e.dims["device"], e.dims["model"])
        if qps is not None and (key not in best or qps > best[key][0]):
            best[key] = (qps, e)
    for row in rows:
        found = best.get((row.device, row.model))
        if found is None:
            continue
        qps, e = found
        power = e.values.get("power_avg_w")  # measured only: a TDP is a rating, not what the device drew
        row.served_qps, row.server_case = qps, _case_label(e)
        row.qps_per_w = qps / power if power else None
        row.qps_per_usd = qps / e.price_usd if e.price_usd else None


def _server_curves(entries: Sequence[Entry]) -> list[ServerCurve]:
    curves = []
    several_devices = len({x.dims["device"] for x in entries}) > 1
    for e in entries:
        loadgen = e.record.loadgen
        if loadgen is None or loadgen.scenario != "server" or not loadgen.trials:
            continue
        percentile = float(loadgen.latency_percentile or 0.99)
        key = "p" + f"{percentile * 100:g}".replace(".", "") + "_ns"  # 0.99 -> p99_ns, 0.999 -> p999_ns
        trials = []
        for t in loadgen.trials:
            if t.target_qps is None:
                continue
            ns = t.latency_ns.get(key)
            trials.append(ServerTrial(float(t.target_qps), ns / 1e6 if ns is not None else None, t.passed, t.valid))
        device = e.dims["device"] if several_devices else ""
        label = " ".join(v for v in (device, e.dims["model"], _case_label(e)) if v)
        curves.append(ServerCurve(label, e.case_id, percentile, float(loadgen.latency_bound_ms or 0),
                                  _served(e), loadgen.valid, loadgen.invalid_reason, loadgen.shortened, trials))
    return curves


def _listing(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _warnings(entries: Sequence[Entry], runs: Sequence[RunInfo]) -> list[Warning_]:
    out: list[Warning_] = []
    multi = len(runs) > 1

    def name(e: Entry) -> str:
        return f"{runs[e.run].label}:{e.case_id}" if multi else e.case_id

    noisy = [e for e in entries if e.status == "ok" and e.variation is not None and e.variation > VARIATION_LIMIT]
    if noisy:
        noisy.sort(key=lambda e: -(e.variation or 0))
        cases = [f"{name(e)} ({100 * (e.variation or 0):.0f}%)" for e in noisy]
        out.append(Warning_("variation", f"high variation: latency stdev above {100 * VARIATION_LIMIT:.0f}% of the "
                                         f"mean in {len(noisy)} case(s): {_listing(cases)}; {HIGH_VARIATION_ADVICE}"))
    spread = {}
    for e in entries:
        processes = e.record.summary.processes if e.status == "ok" and e.record.summary else None
        floor = processes.spread.get("p50") if processes else None
        if floor is not None and floor > PROCESS_SPREAD_LIMIT:
            spread[name(e)] = floor
    if spread:
        cases = [f"{c} ({100 * f:.0f}%)" for c, f in sorted(spread.items(), key=lambda item: -item[1])]
        out.append(Warning_("process_spread", f"noise between processes: the median differs by more than "
                                              f"{100 * PROCESS_SPREAD_LIMIT:.0f}% (stdev / mean) between the worker "
                                              f"processes of {len(spread)} case(s): {_listing(cases)}; a gate "
                                              f"threshold below that is undecidable: {PROCESS_SPREAD_ADVICE}"))
    throttled = [e for e in entries if e.values.get("throttled") is True]
    if throttled:
        cases = [f"{name(e)} ({'; '.join(e.throttle_flags[:2]) or 'throttled'})" for e in throttled]
        out.append(Warning_("throttled", f"throttled in {len(throttled)} case(s): {_listing(cases)}; "
                                         f"{THROTTLED_ADVICE}"))
    if multi:
        versions: dict[str, dict[str, list[str]]] = {}
        models: dict[str, dict[str, list[str]]] = {}
        for e in entries:
            if e.runtime:
                backend_name = e.runtime.split(" ")[0]
                versions.setdefault(backend_name, {}).setdefault(e.runtime, [])
                if runs[e.run].label not in versions[backend_name][e.runtime]:
                    versions[backend_name][e.runtime].append(runs[e.run].label)
            if e.model_sha256:
                # per precision and format: a bundled model ships as an .onnx and a .tflite file of each
                # precision, different files by design; only the same one differing between runs matters
                kind = " ".join(v for v in (e.dims["precision"], e.record.format and f".{e.record.format}") if v)
                file = f"{e.dims['model']} ({kind} file)" if kind else e.dims["model"]
                models.setdefault(file, {}).setdefault(e.model_sha256, [])
                if runs[e.run].label not in models[file][e.model_sha256]:
                    models[file][e.model_sha256].append(runs[e.run].label)
        for backend_name, seen in versions.items():
            if len(seen) > 1:
                where = "; ".join(f"{v} in {', '.join(r)}" for v, r in seen.items())
                out.append(Warning_("not-comparable", f"runtime {backend_name} differs between runs ({where}): "
                                                      f"their results are not comparable"))
        for model, seen in models.items():
            if len(seen) > 1:
                where = "; ".join(f"sha256 {s[:12]} in {', '.join(r)}" for s, r in seen.items())
                out.append(Warning_("not-comparable", f"model {model} is a different file across runs ({where}): "
                                                      f"its results are not comparable"))
    failed = [e for e in entries if e.status not in ("ok", "skipped")]
    if failed:
        out.append(Warning_("failed", f"{len(failed)} case(s) did not finish: "
                                      + _listing([f"{name(e)} ({e.status}: {e.error})" for e in failed], 3)))
    for run in runs:
        if not run.has_sensors:
            whose = (f"the profiles of {run.device} list" if ", " in run.device  # a farm's devices
                     else f"the profile of {run.device} lists")
            out.append(Warning_("no-sensors", f"{run.label}: no power, energy or temperature readings ({whose} no "
                                              f"sensor that gave any); those columns are empty"))
        if run.fast:
            out.append(Warning_("fast", f"{run.label} was made with --fast: a smoke test, not a measurement to keep"))
    return out

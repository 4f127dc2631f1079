"""Gate rules: the small language people type into CI YAML, and the metrics it can name.

    RULE   := METRIC "." STAT ":" [SIGN] NUMBER ("%" | UNIT) ["@" SCOPE]
    SCOPE  := KEY "=" GLOB ("," KEY "=" GLOB)*        KEY: model, backend, precision, scenario, case, device

    latency.p90:+5%                 fail when the p90 latency grew by more than 5 %
    latency.p50:+0.2ms              ... by more than 0.2 ms
    memory.peak:+10%                peak RSS of the worker
    energy.per_inference:+3%
    throughput.mean:-5%             fail when throughput dropped by more than 5 %
    latency.p99:+10%@model=kws_*,backend=tflite
    server.qps:-5%                  the LoadGen server scenario: fail when the served QPS at the bound dropped 5 %
    offline.throughput:-5%          the LoadGen offline scenario: samples/s
    fidelity.cosine:>=0.99          a bound on the current run alone: its outputs against the reference
    fidelity.max_abs_err:<=0.05     (fidelity.cosine, .snr_db, .top1_agreement, .max_abs_err, .mean_abs_err)
    accuracy.top1:>=0.9             with labelled data ([models.accuracy])

The sign says which way is worse. It may be left out (the metric's worse direction is used); the opposite
sign is an error, since "latency.p50:-5%" would fail a pipeline for getting faster.
A rule only names a threshold; whether a change is also statistically significant is decided in
``edgebench.analysis.compare``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Mapping

from edgebench.errors import EdgebenchError
from edgebench.record import CaseRecord

_MS = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3}
_MIB = {"b": 1 / 2**20, "kb": 1 / 2**10, "kib": 1 / 2**10, "mb": 1.0, "mib": 1.0, "gb": 2**10, "gib": 2**10}
_MJ = {"uj": 1e-3, "µj": 1e-3, "mj": 1.0, "j": 1e3}
_W = {"mw": 1e-3, "w": 1.0}
_IPS = {"ips": 1.0, "/s": 1.0}
_C = {"c": 1.0}

#: latency statistic name -> key in the latency summary
LATENCY_STATS = {"min": "min_ns", "mean": "mean_ns", "p50": "p50_ns", "median": "p50_ns", "p90": "p90_ns",
                 "p95": "p95_ns", "p99": "p99_ns", "p999": "p999_ns", "p99.9": "p999_ns", "max": "max_ns"}
SCOPE_KEYS = ("model", "backend", "precision", "scenario", "case", "device")


class RuleError(EdgebenchError):
    """A gate rule cannot be parsed; the message quotes the rule."""


@dataclass(frozen=True)
class Metric:
    """What a rule can gate on. ``worse`` is +1 when a larger value is worse, -1 when a smaller one is."""

    name: str
    unit: str  # the unit values are reported in
    worse: int
    units: Mapping[str, float]  # accepted threshold units (lower case) -> factor to ``unit``
    sampled: bool  # True: raw samples exist, so significance can be tested
    #: a metric only one scenario has (server.qps): the rule applies to that scenario's cases alone
    scenario: str | None = None

    def value(self, record: CaseRecord) -> float | None:
        """The metric of one case (its summary), in ``unit``; None when absent."""
        summary = record.summary
        if summary is None:
            return None
        family, _, stat = self.name.partition(".")
        latency = summary.latency
        if family == "latency":
            ns = latency.ns(LATENCY_STATS[stat]) if latency else None
            return None if ns is None else ns / 1e6
        if family == "throughput":
            if stat == "mean":  # batch / mean latency; overlapping streams: what finished over wall time
                return summary.throughput_ips
            ns = latency.p50_ns if latency else None
            return record.concurrency * record.batch * 1e9 / ns if ns else None
        if family == "fidelity":  # the untimed pass against the reference (analysis/fidelity.py)
            found = summary.fidelity.get(stat)
            if found is None and stat == "snr_db" and summary.fidelity.get("exact"):
                return float("inf")
            return None if found is None or isinstance(found, bool) else float(found)
        if family == "accuracy":
            found = summary.accuracy.get(stat)
            return None if found is None else float(found)
        if family in _LOADGEN_KEYS:  # LoadGen's figure, only from a run it called valid
            loadgen = summary.loadgen
            found = getattr(loadgen, _LOADGEN_KEYS[family]) if loadgen and loadgen.valid else None
            return None if found is None else float(found)
        key = _SUMMARY_KEYS[self.name]
        found = getattr(summary.sensors, key) if key in _SENSOR_KEYS else getattr(summary, key)
        return None if found is None or isinstance(found, bool) else float(found)


_SUMMARY_KEYS = {"memory.peak": "peak_rss_mb", "memory.load": "load_rss_mb", "load.time": "load_ms",
                 "load.first_inference": "first_inference_ms", "energy.per_inference": "energy_per_inference_mj",
                 "power.avg": "power_avg_w", "temperature.max": "temp_max_c"}
_SENSOR_KEYS = ("energy_per_inference_mj", "power_avg_w", "temp_max_c")
#: the LoadGen scenario metrics: family -> key in the summary's loadgen block
_LOADGEN_KEYS = {"server": "served_qps", "offline": "samples_per_s"}


def _build_metrics() -> dict[str, Metric]:
    metrics: dict[str, Metric] = {}
    for stat in LATENCY_STATS:
        metrics[f"latency.{stat}"] = Metric(f"latency.{stat}", "ms", +1, _MS, True)
    for stat in ("mean", "p50"):
        metrics[f"throughput.{stat}"] = Metric(f"throughput.{stat}", "inferences/s", -1, _IPS, True)
    metrics["memory.peak"] = Metric("memory.peak", "MiB", +1, _MIB, False)
    metrics["memory.load"] = Metric("memory.load", "MiB", +1, _MIB, False)
    metrics["load.time"] = Metric("load.time", "ms", +1, _MS, False)
    metrics["load.first_inference"] = Metric("load.first_inference", "ms", +1, _MS, False)
    metrics["energy.per_inference"] = Metric("energy.per_inference", "mJ", +1, _MJ, False)
    metrics["power.avg"] = Metric("power.avg", "W", +1, _W, False)
    metrics["temperature.max"] = Metric("temperature.max", "C", +1, _C, False)
    metrics["server.qps"] = Metric("server.qps", "QPS", -1, {"qps": 1.0, "/s": 1.0}, False, "server")
    for stat, worse in (("cosine", -1), ("snr_db", -1), ("top1_agreement", -1), ("max_abs_err", +1),
                        ("mean_abs_err", +1)):
        metrics[f"fidelity.{stat}"] = Metric(f"fidelity.{stat}", "", worse, {"": 1.0, "db": 1.0}, False)
    metrics["accuracy.top1"] = Metric("accuracy.top1", "", -1, {"": 1.0}, False)
    metrics["offline.throughput"] = Metric("offline.throughput", "samples/s", -1, _IPS, False, "offline")
    return metrics


METRICS = _build_metrics()

_BOUND = re.compile(r"^(?P<metric>[a-z_]+\.[a-z0-9_.]+?):(?P<bound>>=|<=)(?P<amount>-?(?:\d+(?:\.\d*)?|\.\d+)"
                    r"(?:[eE][-+]?\d+)?)(?:@(?P<scope>.+))?$")
_RULE = re.compile(r"^(?P<metric>[a-z_]+\.[a-z0-9_.]+?):(?P<sign>[+-]?)(?P<amount>\d+(?:\.\d*)?|\.\d+)"
                   r"(?P<unit>%|[a-zA-Zµ/]+)(?:@(?P<scope>.+))?$")


@dataclass(frozen=True)
class Rule:
    text: str
    metric: Metric
    amount: float  # in percent when ``relative``, else in metric.unit
    relative: bool
    scope: tuple[tuple[str, str], ...] = ()
    #: ``>=`` or ``<=``: a bound on the current run's value alone (``fidelity.cosine:>=0.99``), no baseline needed
    bound: str | None = None

    def violates(self, current: float) -> bool:
        return current < self.amount if self.bound == ">=" else current > self.amount

    def applies(self, record: CaseRecord) -> bool:
        """Whether a case record is inside the rule's scope (every key=glob must match), and has the metric."""
        if self.metric.scenario is not None and record.scenario != self.metric.scenario:
            return False
        for key, pattern in self.scope:
            if key == "case":
                value = record.case_id
            else:  # model, backend, precision, scenario, device (the case's own: on a farm, each case's)
                value = str(getattr(record, key))
            if not fnmatch.fnmatchcase(value, pattern):
                return False
        return True

    def exceeded(self, baseline: float, current: float) -> tuple[float | None, bool, bool]:
        """(relative change, beyond the threshold in the worse direction, ... in the better direction)."""
        relative = (current / baseline - 1.0) if baseline else (0.0 if current == baseline else None)
        if self.relative:
            if relative is None:
                return None, self.metric.worse * (current - baseline) > 0, self.metric.worse * (current - baseline) < 0
            delta = relative * 100.0
        else:
            delta = current - baseline
        worse = self.metric.worse * delta > self.amount
        better = -self.metric.worse * delta > self.amount
        return relative, worse, better

    def threshold_text(self) -> str:
        if self.bound:
            return f"{self.bound}{self.amount:g}"
        sign = "+" if self.metric.worse > 0 else "-"
        unit = "%" if self.relative else f" {self.metric.unit}"
        return f"{sign}{self.amount:g}{unit}"


def parse_rule(text: str) -> Rule:
    """Parse one rule; a bad rule raises RuleError naming it and what is wrong."""
    raw = text.strip()
    bounded = _BOUND.match(raw)
    if bounded:
        metric = METRICS.get(bounded["metric"])
        if metric is None:
            raise RuleError(f"gate rule {text!r}: unknown metric {bounded['metric']!r} "
                            f"(known: {', '.join(sorted(METRICS))})")
        worse_bound = "<=" if metric.worse < 0 else ">="
        if bounded["bound"] == worse_bound:
            raise RuleError(f"gate rule {text!r}: {metric.name} is better when "
                            f"{'higher' if metric.worse < 0 else 'lower'}: write {metric.name}:"
                            f"{'>=' if metric.worse < 0 else '<='}{bounded['amount']}")
        return Rule(raw, metric, float(bounded["amount"]), False, _scope(text, bounded["scope"]), bounded["bound"])
    match = _RULE.match(raw)
    if not match:
        raise RuleError(f"gate rule {text!r}: expected METRIC.STAT:+N% or METRIC.STAT:+N<unit> "
                        f"(for example latency.p90:+5%, memory.peak:+10MB, throughput.mean:-5%)")
    name = match["metric"]
    metric = METRICS.get(name)
    if metric is None:
        raise RuleError(f"gate rule {text!r}: unknown metric {name!r} (known: {', '.join(sorted(METRICS))})")
    sign = match["sign"]
    if sign and (1 if sign == "+" else -1) != metric.worse:
        expected = "+" if metric.worse > 0 else "-"
        raise RuleError(f"gate rule {text!r}: {name} gets worse when it {'grows' if metric.worse > 0 else 'drops'}; "
                        f"write {name}:{expected}{match['amount']}{match['unit']}")
    amount = float(match["amount"])
    unit = match["unit"]
    relative = unit == "%"
    if not relative:
        factor = metric.units.get(unit.lower())
        if factor is None:
            raise RuleError(f"gate rule {text!r}: unit {unit!r} does not fit {name} "
                            f"(use % or one of: {', '.join(sorted(metric.units))})")
        amount *= factor
    return Rule(raw, metric, amount, relative, _scope(text, match["scope"]))


def _scope(text: str, scope_text: str | None) -> tuple[tuple[str, str], ...]:
    scope: list[tuple[str, str]] = []
    if scope_text:
        for part in scope_text.split(","):
            key, eq, pattern = part.partition("=")
            key = key.strip()
            if not eq or key not in SCOPE_KEYS or not pattern.strip():
                raise RuleError(f"gate rule {text!r}: scope {part!r}: expected KEY=GLOB with KEY one of "
                                f"{', '.join(SCOPE_KEYS)}")
            scope.append((key, pattern.strip()))
    return tuple(scope)


def parse_rules(texts: list[str] | tuple[str, ...]) -> list[Rule]:
    """Every rule, in order; a comma-free list of texts (each ``--fail-on`` is one rule)."""
    return [parse_rule(t) for t in texts]


#: what ``edgebench compare`` gates on when no --fail-on is given
DEFAULT_RULES = ("latency.p50:+5%", "latency.p90:+10%", "memory.peak:+10%")

"""Compare a current run with a baseline: per case and rule a verdict, better / worse / same / incomparable.

A case is *worse* only when the change passes the rule's threshold AND the statistic the rule names (median,
p90, p99, mean...) changed significantly: the (1 - alpha) interval of the ratio current/baseline of that
statistic, from a two-level bootstrap over the case's worker processes and then their samples
(``analysis.bootstrap``), excludes 1, and, with several processes on both sides, the per-process values of
that statistic separate (``analysis.process_test``: an exact rank test at alpha; a bootstrap over three
processes alone is too confident). The interval includes run-to-run variance when the case ran in several
processes (``processes = N``); with one process it cannot, so tail and mean rules are *undecidable* there,
and so is any change when the processes are too few for the rank test to reach alpha (fewer than 5 at 0.01).
A change beyond the threshold that is not significant, with the threshold below the case's noise floor (the
between-process spread), is undecidable too: reported, not flipped. ``undecidable`` does not fail the gate.

A latency difference within the device's timer resolution (``environment.timer_resolution_ns``) is never
significant. Null-backend cases (the harness's calibration) are gated only by rules scoped to ``backend=null``.

``test="mwu"`` keeps the former Mann-Whitney U on latency ranks (Mann & Whitney 1947; tie-corrected variance as
in Hollander, Wolfe & Chicken, *Nonparametric Statistical Methods*, 3rd ed., 4.1) for the centre; it tests a
shift of the whole distribution, not the median or the mean, which is why it is no longer the default.

Metrics without samples (memory, energy, power, load time) are one number per process: judged on the threshold
alone, or, for peak memory with several processes on both sides, on whether the processes of the two runs
separate.

Results are *incomparable* when their checked context differs (device, runtime and its version, model sha256,
threads, precision, the run rules, a case's inputs or seed), unless ``allow_mismatch``; then the differences are
kept as notes. A case missing, skipped, lost or pending in either run is incomparable; one that failed in the
current run is worse.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

from edgebench.analysis.bootstrap import STATISTICS
from edgebench.analysis.gates import Rule
from edgebench.analysis.process_test import processes_needed, smallest_p
from edgebench.errors import EdgebenchError
from edgebench.record import CaseRecord, RunHeader

DEFAULT_ALPHA = 0.01
BETTER, WORSE, SAME, INCOMPARABLE, UNDECIDABLE = "better", "worse", "same", "incomparable", "undecidable"
VERDICTS = (WORSE, INCOMPARABLE, UNDECIDABLE, BETTER, SAME)  # worst first: the order reports list checks in
_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}
TESTS = ("auto", "mwu", "bootstrap")
_TAIL = {"p90", "p95", "p99", "p999", "p99.9", "max"}
#: statistics one worker process cannot decide: they move from run to run more than its own samples show
NEEDS_PROCESSES = _TAIL | {"mean"}
#: run rules whose change does not change what is measured (only how its interval is reported): a note
HARMLESS_RULES = ("confidence",)

#: exit codes of ``edgebench compare``
EXIT_PASS, EXIT_REGRESSION, EXIT_USAGE, EXIT_INCOMPARABLE = 0, 1, 2, 4


class CompareError(EdgebenchError):
    pass


# -- statistics -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestResult:
    test: str
    p_value: float | None  # None for the bootstrap (an interval, not a p-value)
    significant: bool
    direction: int  # +1: current tends larger, -1: smaller, 0: no shift
    detail: str


def mann_whitney_u(baseline: Sequence[float], current: Sequence[float]) -> tuple[float, float, float]:
    """(U of current, z, two-sided p). U counts pairs with current > baseline (ties count one half)."""
    import numpy as np

    x = np.asarray(current, dtype=np.float64)
    y = np.asarray(baseline, dtype=np.float64)
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("Mann-Whitney U needs samples on both sides")
    both = np.concatenate([x, y])
    n = n1 + n2
    order = np.argsort(both, kind="mergesort")
    ordered = both[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, n])
    mid_ranks = starts + (counts + 1) / 2.0  # 1-based mean rank of each tie group
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(mid_ranks, counts)
    u = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2.0
    mean_u = n1 * n2 / 2.0
    ties = float(np.sum(counts.astype(np.float64) ** 3 - counts))
    variance = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if variance <= 0:
        return u, 0.0, 1.0
    delta = u - mean_u
    corrected = max(abs(delta) - 0.5, 0.0)  # continuity correction
    z = math.copysign(corrected / math.sqrt(variance), delta)
    return u, z, math.erfc(abs(z) / math.sqrt(2.0))


def mwu_test(baseline: Sequence[float], current: Sequence[float], alpha: float) -> TestResult:
    u, z, p = mann_whitney_u(baseline, current)
    direction = 0 if z == 0 else (1 if z > 0 else -1)
    share = u / (len(baseline) * len(current))
    shown = f"p={p:.2g}" if p > 0 else "p<1e-300"
    return TestResult("mann-whitney", p, p < alpha, direction,
                      f"U={u:.0f}, z={z:.2f}, {shown}, P(current>baseline)={share:.3f}")


def _bootstrap_stat(sorted_values: Any, stat: str, draws: int, rng: Any) -> Any:
    import numpy as np

    n = len(sorted_values)
    q = STATISTICS[stat]
    if q is None:  # the mean
        mean = float(sorted_values.mean())
        sd = float(sorted_values.std(ddof=1)) if n > 1 else 0.0
        return mean + sd / math.sqrt(n) * rng.standard_normal(draws)
    k = min(max(int(round(q * (n - 1))) + 1, 1), n)  # 1-based rank of the order statistic
    if n == 1:
        return np.full(draws, float(sorted_values[0]))
    u = rng.beta(k, n + 1 - k, size=draws)
    index = np.clip(np.ceil(u * n).astype(np.int64) - 1, 0, n - 1)
    return sorted_values[index]


def bootstrap_test(baseline: Sequence[float], current: Sequence[float], stat: str, alpha: float,
                   seed: int = 20240601) -> TestResult:
    """Percentile bootstrap of the ratio current/baseline of ``stat`` (a latency statistic name)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    draws = max(4000, int(math.ceil(40.0 / alpha)))
    b = np.sort(np.asarray(baseline, dtype=np.float64))
    c = np.sort(np.asarray(current, dtype=np.float64))
    rb = _bootstrap_stat(b, stat, draws, rng)
    rc = _bootstrap_stat(c, stat, draws, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = rc / rb
    ratio = ratio[np.isfinite(ratio)]
    if len(ratio) == 0:
        return TestResult("bootstrap", None, False, 0, "no finite bootstrap ratio")
    low, high = (float(v) for v in np.quantile(ratio, [alpha / 2, 1 - alpha / 2]))
    direction = 1 if low > 1 else (-1 if high < 1 else 0)
    return TestResult("bootstrap", None, direction != 0, direction,
                      f"{100 * (1 - alpha):g}% interval of the {stat} ratio [{low:.4f}, {high:.4f}]")


def significance(baseline: Sequence[float], current: Sequence[float], stat: str, alpha: float,
                 test: str = "auto") -> TestResult:
    """Is the change of ``stat`` between two raw latency samples significant at ``alpha``?"""
    if test not in TESTS:
        raise CompareError(f"unknown test {test!r} (known: {', '.join(TESTS)})")
    if test == "auto":
        test = "bootstrap" if stat in _TAIL else "mwu"
    if test == "mwu":
        return mwu_test(baseline, current, alpha)
    return bootstrap_test(baseline, current, stat, alpha)


# -- context ----------------------------------------------------------------------------------------------
def _device_context(run: RunHeader) -> dict[str, Any]:
    return {"device": run.device, "cpu": run.environment.cpu_model, "machine": run.environment.machine}


def case_context(record: CaseRecord) -> dict[str, Any]:
    runtime = record.runtime
    return {"case device": record.device if record.farm else None,
            "runtime": runtime.name if runtime else None, "runtime version": runtime.version if runtime else None,
            "model sha256": record.model_sha256, "threads": record.threads, "precision": record.precision or None}


def context_differences(base_run: RunHeader, cur_run: RunHeader,
                        base: CaseRecord | None, cur: CaseRecord | None) -> list[str]:
    """What differs in the checked context, one phrase each ("runtime version 1.16.0 != 1.17.1")."""
    out = []
    pairs = list(zip(_device_context(base_run).items(), _device_context(cur_run).values()))
    if base is not None and cur is not None:
        pairs += list(zip(case_context(base).items(), case_context(cur).values()))
    for (key, old), new in pairs:
        if old is None or new is None:  # a failed case has no runtime; its status speaks for it
            continue
        if old != new:
            shown = [str(v)[:12] if key == "model sha256" else str(v) for v in (old, new)]
            out.append(f"{key} {shown[0]} != {shown[1]}")
    return out


# -- verdicts ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One case under one rule."""

    case_id: str
    model: str
    backend: str
    rule: str
    metric: str
    unit: str
    threshold: str
    verdict: str
    baseline: float | None = None
    current: float | None = None
    change: float | None = None  # relative: +0.06 is 6 % larger
    test: str | None = None
    p_value: float | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    baseline_label: str
    current_label: str
    alpha: float
    test: str
    rules: list[str]
    checks: list[Check] = field(default_factory=list)
    new_cases: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: one line per case whose noise floor is above a threshold gated on it: what to do about it
    noise: list[str] = field(default_factory=list)
    #: case id -> the larger of the two runs' between-process spread of the median (None: one process)
    noise_floors: dict[str, float | None] = field(default_factory=dict)

    def noise_summary(self) -> str | None:
        """One line on the measured noise floor of the compared cases (what ``compare`` prints)."""
        if not self.noise_floors:
            return None
        known = {c: f for c, f in self.noise_floors.items() if f is not None}
        if not known:
            return (f"noise floor unknown: the cases ran in one worker process each (processes = "
                    f"{processes_needed(self.alpha)} in the suite's [rules] measures it, and lets tail and mean rules "
                    f"decide)")
        worst = max(known, key=lambda c: known[c])
        low, high = min(known.values()), known[worst]
        return (f"noise floor (the median's spread between processes): {100 * low:.1f}-{100 * high:.1f}% over "
                f"{len(known)} cases, largest {worst}")

    def count(self, verdict: str) -> int:
        return sum(1 for c in self.checks if c.verdict == verdict)

    def sorted_checks(self) -> list[Check]:
        """The checks worst first (in VERDICTS order), then by case id and rule."""
        return sorted(self.checks, key=lambda c: (_VERDICT_RANK[c.verdict], c.case_id, c.rule))

    @property
    def outcome(self) -> str:
        if self.count(WORSE):
            return "regression"
        if self.count(INCOMPARABLE) or not self.checks:
            return "incomparable"
        return "pass"

    @property
    def exit_code(self) -> int:
        return {"regression": EXIT_REGRESSION, "incomparable": EXIT_INCOMPARABLE}.get(self.outcome, EXIT_PASS)

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline_label, "current": self.current_label, "outcome": self.outcome,
            "exit_code": self.exit_code, "alpha": self.alpha, "test": self.test, "rules": list(self.rules),
            "counts": {v: self.count(v) for v in VERDICTS}, "new_cases": list(self.new_cases),
            "notes": list(self.notes), "noise": list(self.noise), "noise_floors": dict(self.noise_floors),
            "checks": [c.to_json() for c in self.checks],
        }


#: case id -> the samples of each of its worker processes (one list for a case run in one process)
SampleLoader = Callable[[str], Sequence[Sequence[float]]]


def process_groups(raw: Mapping[str, Any]) -> list[list[float]]:
    """A raw case file's samples, one list per worker process (``processes``), else the one ``latency_ns``."""
    processes = raw.get("processes")
    if isinstance(processes, list) and processes:
        groups = [list(p.get("latency_ns") or []) for p in processes if isinstance(p, Mapping)]
        return [g for g in groups if g]
    samples = raw.get("latency_ns") or []
    return [list(samples)] if samples else []


def as_groups(samples: Sequence[Any]) -> list[Sequence[float]]:
    """Samples as per-process groups: a flat sequence of numbers is one process."""
    if len(samples) and isinstance(samples[0], (int, float)) or hasattr(samples, "dtype"):
        return [samples]
    return list(samples)


def _stat_of(metric_name: str) -> str:
    """The latency statistic a sampled metric tests: the one it names (throughput.mean: the mean latency)."""
    family, _, stat = metric_name.partition(".")
    if family == "latency":
        return "p50" if stat == "median" else stat
    return "mean" if stat == "mean" else "p50"


def noise_floor(record: CaseRecord, stat: str) -> float | None:
    """The case's between-process spread of ``stat`` (as ``_stat_of`` names it: p50, never median; stdev / mean
    of the per-process values); None when it ran in one process (then the run cannot know its own noise)."""
    processes = record.summary.processes if record.summary else None
    if processes is None or processes.count < 2:
        return None
    return processes.spread.get(stat)


def _stored(record: CaseRecord, stat: str) -> Sequence[float]:
    """The per-process values of ``stat`` the summary keeps (p50, p90, p99, mean); () for the others."""
    processes = record.summary.processes if record.summary else None
    return processes.values(stat) if processes else ()


def _process_count(record: CaseRecord) -> int:
    processes = record.summary.processes if record.summary else None
    return processes.count if processes else 1


def judge(rule: Rule, base: CaseRecord, cur: CaseRecord, base_samples: SampleLoader,
          cur_samples: SampleLoader, alpha: float, test: str, resolution_ns: int | None = None,
          drawn: Any = None) -> Check:
    """The verdict of one rule on one case present, and ok, in both runs.

    Worse (better) needs the change beyond the threshold AND the (1 - alpha) interval of the ratio of the very
    statistic the rule names, from the two-level bootstrap, above (below) 1. A tail or mean rule on a case run
    in one process is *undecidable*: its samples cannot show how much the next run's tail moves. A change
    beyond the threshold that is not significant, where the threshold is below the case's noise floor (the
    between-process spread), is undecidable too, instead of a coin-flip "same"."""
    metric = rule.metric
    common: dict[str, Any] = {"case_id": cur.case_id, "model": cur.model, "backend": cur.backend, "rule": rule.text,
                              "metric": metric.name, "unit": metric.unit, "threshold": rule.threshold_text()}
    old, new = metric.value(base), metric.value(cur)
    if rule.bound:  # a bound on the current run alone: no baseline value, no significance
        if new is None:
            return Check(**common, verdict=INCOMPARABLE, baseline=old, current=None,
                         detail=f"{metric.name} is missing in the current run")
        bad = rule.violates(new)
        return Check(**common, verdict=WORSE if bad else SAME, baseline=old, current=new, test="bound",
                     detail=f"{metric.name} {new:.6g} {'violates' if bad else 'within'} {rule.threshold_text()}")
    if old is None or new is None:
        side = "either run" if old is None and new is None else ("the baseline" if old is None else "the current run")
        return Check(**common, verdict=INCOMPARABLE, baseline=old, current=new,
                     detail=f"{metric.name} is missing in {side}")
    change, beyond_worse, beyond_better = rule.exceeded(old, new)
    if metric.name.startswith("latency.") and resolution_ns and abs(new - old) * 1e6 <= resolution_ns:
        return Check(**common, verdict=SAME, baseline=old, current=new, change=change,
                     detail=f"the difference, {abs(new - old) * 1e6:.0f} ns, is within the timer's resolution "
                            f"({resolution_ns} ns)")
    if not (beyond_worse or beyond_better):
        return Check(**common, verdict=SAME, baseline=old, current=new, change=change, detail="within the threshold")
    if not metric.sampled:
        return _judge_process_level(rule, base, cur, common, old, new, change, beyond_worse)
    stat = _stat_of(metric.name)
    floor = max((f for f in (noise_floor(base, stat), noise_floor(cur, stat)) if f is not None), default=None)
    counts = (_process_count(base), _process_count(cur))
    processes = min(counts)
    if test == "mwu":  # the old test, kept on request: a shift of the whole distribution, not the statistic
        flat_base = [v for g in as_groups(base_samples(base.case_id)) for v in g]
        flat_cur = [v for g in as_groups(cur_samples(cur.case_id)) for v in g]
        result = mwu_test(flat_base, flat_cur, alpha)
    else:
        if stat in NEEDS_PROCESSES and processes < 2:
            return Check(**common, verdict=UNDECIDABLE, baseline=old, current=new, change=change,
                         test="two-level bootstrap",
                         detail=f"undecidable at this noise: one worker process per case cannot tell a {stat} "
                                f"change from run-to-run variance; set processes = {processes_needed(alpha)} (or "
                                f"more) in the suite's [rules]")
        result = hierarchical_test(as_groups(base_samples(base.case_id)), as_groups(cur_samples(cur.case_id)),
                                   stat, alpha, drawn, (("baseline", base.case_id), ("current", cur.case_id)),
                                   (_stored(base, stat), _stored(cur, stat)))
    wanted = 1 if beyond_worse else -1  # latency samples for both families: worse means larger samples
    if result.significant and result.direction == wanted:
        verdict = WORSE if beyond_worse else BETTER
        return Check(**common, verdict=verdict, baseline=old, current=new, change=change, test=result.test,
                     p_value=result.p_value, detail=f"significant: {result.detail}")
    best_p = smallest_p(*counts)
    if processes >= 2 and test != "mwu" and best_p >= alpha:
        return Check(**common, verdict=UNDECIDABLE, baseline=old, current=new, change=change, test=result.test,
                     p_value=result.p_value,
                     detail=f"undecidable at this noise: {counts[0]} vs {counts[1]} processes cannot show a "
                            f"significant change at alpha={alpha:g} (the process-level test's smallest p is "
                            f"{best_p:.2g}); set processes = {processes_needed(alpha)} (or more) in the suite's "
                            f"[rules]; {result.detail}")
    if rule.relative and floor is not None and rule.amount < 100 * floor:
        return Check(**common, verdict=UNDECIDABLE, baseline=old, current=new, change=change, test=result.test,
                     p_value=result.p_value,
                     detail=f"undecidable at this noise: the threshold {rule.threshold_text()} is below this "
                            f"case's noise floor ({100 * floor:.1f}% between processes); {result.detail}")
    return Check(**common, verdict=SAME, baseline=old, current=new, change=change, test=result.test,
                 p_value=result.p_value,
                 detail=f"beyond the threshold but not significant at alpha={alpha:g} ({result.detail})")


def _judge_process_level(rule: Rule, base: CaseRecord, cur: CaseRecord, common: dict[str, Any], old: float,
                         new: float, change: float | None, beyond_worse: bool) -> Check:
    """Memory and the other one-number-per-process metrics. With several processes on both sides, peak memory
    is judged on the per-process values: worse only when every current process is beyond every baseline
    process (the change is larger than the process-to-process spread); else on the threshold alone."""
    verdict = WORSE if beyond_worse else BETTER
    base_p = base.summary.processes if base.summary else None
    cur_p = cur.summary.processes if cur.summary else None
    if rule.metric.name == "memory.peak" and base_p and cur_p and len(base_p.peak_rss_mb) > 1 \
            and len(cur_p.peak_rss_mb) > 1:
        worse_side = min(cur_p.peak_rss_mb) > max(base_p.peak_rss_mb)
        better_side = max(cur_p.peak_rss_mb) < min(base_p.peak_rss_mb)
        if (beyond_worse and worse_side) or (not beyond_worse and better_side):
            return Check(**common, verdict=verdict, baseline=old, current=new, change=change, test="process level",
                         detail=f"every process of one run is beyond every process of the other "
                                f"({len(base_p.peak_rss_mb)} vs {len(cur_p.peak_rss_mb)} processes)")
        return Check(**common, verdict=SAME, baseline=old, current=new, change=change, test="process level",
                     detail="beyond the threshold, but the processes of the two runs overlap")
    return Check(**common, verdict=verdict, baseline=old, current=new, change=change, test="threshold only",
                 detail="one value per run: no samples to test significance on")


def hierarchical_test(baseline: Sequence[Sequence[float]], current: Sequence[Sequence[float]], stat: str,
                      alpha: float, drawn: Any = None, keys: tuple[Any, Any] = (None, None),
                      stored: tuple[Sequence[float], Sequence[float]] = ((), ())) -> TestResult:
    """Significant when the (1 - alpha) two-level bootstrap interval of current/baseline of ``stat`` excludes 1
    (``analysis.bootstrap``) and, with at least two processes on both sides, the processes themselves separate
    on ``stat`` in the same direction (``analysis.process_test``: an exact rank test, p < alpha); the p-value
    is the process level's. ``drawn``: a ``bootstrap.ReplicateCache`` shared by a comparison's rules, ``keys``
    naming the two sides' cases in it; ``stored``: each side's per-process values of ``stat`` as its summary
    keeps them (the very figures ``bootstrap.statistic`` gives), used when there is one per process."""
    from edgebench.analysis import bootstrap
    from edgebench.analysis.process_test import exact_test

    found = bootstrap.ratio_interval(baseline, current, stat, alpha, cache=drawn, keys=keys)
    label = "two-level bootstrap"
    if found is None:
        return TestResult(label, None, False, 0, "no finite bootstrap ratio")
    low, high = found
    direction = 1 if low > 1 else (-1 if high < 1 else 0)
    where = {1: "above 1 (current slower)", -1: "below 1 (current faster)", 0: "contains 1"}[direction]
    detail = (f"the {100 * (1 - alpha):g}% interval of the {stat} ratio current/baseline is "
              f"[{low:.4f}, {high:.4f}], {where}")
    if len(baseline) < 2 or len(current) < 2:
        return TestResult(label, None, direction != 0, direction,
                          f"{detail}; {len(baseline)} vs {len(current)} processes")
    levels = [list(known) if len(known) == len(groups) else [bootstrap.statistic(g, stat) for g in groups]
              for groups, known in zip((baseline, current), stored)]
    ranks = exact_test(levels[0], levels[1])
    agree = direction != 0 and ranks.direction == direction and ranks.p_value < alpha
    return TestResult(f"{label} + process ranks", ranks.p_value, agree, direction if agree else 0,
                      f"{detail}; {ranks.describe()}")


def gated(rule: Rule, record: CaseRecord) -> bool:
    """Whether a rule gates a case: in its scope, and not a null-backend case (the harness's calibration)
    unless the rule's scope names the null backend itself (``@backend=null``)."""
    if not rule.applies(record):
        return False
    if record.backend != "null":
        return True
    return any(key == "backend" and pattern != "*" and fnmatch.fnmatchcase("null", pattern)
               for key, pattern in rule.scope)


def rules_differences(base_run: RunHeader, cur_run: RunHeader) -> tuple[list[str], list[str]]:
    """(differences of the run rules that change what is measured, harmless ones)."""
    from dataclasses import asdict as as_dict

    from edgebench.wire import RunRules

    defaults = as_dict(RunRules())  # a run from before a rule existed ran with its default
    changed: list[str] = []
    harmless: list[str] = []
    for key in sorted(set(base_run.rules) | set(cur_run.rules)):
        old, new = base_run.rules.get(key, defaults.get(key)), cur_run.rules.get(key, defaults.get(key))
        if old != new:
            (harmless if key in HARMLESS_RULES else changed).append(f"rules.{key} {old} != {new}")
    return changed, harmless


def _spec_differences(base_spec: Mapping[str, Any], cur_spec: Mapping[str, Any]) -> list[str]:
    """What differs in the planned inputs of a case (the data it is fed) and its seed."""
    out = []
    if base_spec and cur_spec:
        if (base_spec.get("inputs") or {}) != (cur_spec.get("inputs") or {}):
            out.append("inputs differ")
        if base_spec.get("seed") != cur_spec.get("seed"):
            out.append(f"seed {base_spec.get('seed')} != {cur_spec.get('seed')}")
    return out


def compare_runs(baseline: Any, current: Any, rules: Sequence[Rule], alpha: float = DEFAULT_ALPHA,
                 allow_mismatch: bool = False, test: str = "auto",
                 labels: tuple[str, str] | None = None) -> Comparison:
    """Compare two RunStore objects case by case (matched by case id, else by ``identity``, see pair_cases)."""
    if not 0 < alpha < 1:
        raise CompareError(f"alpha must be between 0 and 1, got {alpha}")
    if test not in TESTS:
        raise CompareError(f"unknown test {test!r} (known: {', '.join(TESTS)})")
    base_label, cur_label = labels or (str(baseline.directory), str(current.directory))
    result = Comparison(base_label, cur_label, alpha, test, [r.text for r in rules])
    base_run, cur_run = baseline.run_info, current.run_info
    base_by_id = {r.case_id: r for r in baseline.cases()}
    cur_by_id = {r.case_id: r for r in current.cases()}
    base_specs, cur_specs = baseline.case_specs(), current.case_specs()
    cache: dict[tuple[int, str], Sequence[Sequence[float]]] = {}
    steps = [r for r in (base_run.environment.timer_resolution_ns, cur_run.environment.timer_resolution_ns) if r]
    resolution_ns = max(steps) if steps else None

    def loader(store: Any) -> SampleLoader:
        def load(case_id: str) -> Sequence[Sequence[float]]:
            key = (id(store), case_id)
            if key not in cache:
                cache[key] = process_groups(store.load_raw(case_id))
            return cache[key]
        return load

    base_samples, cur_samples = loader(baseline), loader(current)
    from edgebench.analysis.bootstrap import ReplicateCache

    # every sampled statistic the rules name, drawn from one set of resamples per case and run
    drawn = ReplicateCache(sorted({_stat_of(r.metric.name) for r in rules if r.metric.sampled}))
    run_diffs = context_differences(base_run, cur_run, None, None)
    rule_diffs, harmless = rules_differences(base_run, cur_run)
    run_diffs += rule_diffs
    if harmless:
        result.notes.append("run rules differ in what only changes the reported intervals: " + "; ".join(harmless))
    if run_diffs and allow_mismatch:
        result.notes.append("context differs (allowed by --allow-mismatch): " + "; ".join(run_diffs))
    pairs = pair_cases(base_by_id, cur_by_id)
    for base_id, cur_id in pairs.items():
        if base_id != cur_id:
            result.notes.append(f"paired {base_id} with {cur_id}: same model, precision, backend, threads, scenario, "
                                f"batch and concurrency; other settings differ")
    paired = set(pairs.values())
    result.new_cases = [cid for cid in cur_by_id if cid not in paired]
    null_skipped = null_gated = False
    noisy: dict[str, tuple[float, float]] = {}  # case -> (noise floor, smallest relative threshold on it)
    for case_id, base in base_by_id.items():
        cur = cur_by_id.get(pairs.get(case_id, ""))
        probe = cur or base
        diffs: list[str] | None = None  # the case's context differences: found once, for its first compared rule
        for rule in rules:
            if not gated(rule, probe):
                null_skipped = null_skipped or (probe.backend == "null" and rule.applies(probe))
                continue
            null_gated = null_gated or probe.backend == "null"
            common: dict[str, Any] = {"case_id": case_id, "model": probe.model, "backend": probe.backend,
                                      "rule": rule.text, "metric": rule.metric.name, "unit": rule.metric.unit,
                                      "threshold": rule.threshold_text()}
            if cur is None:
                result.checks.append(Check(**common, verdict=INCOMPARABLE, detail="case missing from the current run"))
                continue
            if base.status == "skipped" and cur.status == "skipped":
                continue  # not measured in either run (e.g. a runtime this machine lacks): noted once below
            if base.status != "ok":
                result.checks.append(Check(**common, verdict=INCOMPARABLE,
                                           detail=f"no baseline measurement (status {base.status})"))
                continue
            if cur.status == "failed":  # it ran and broke: that is a regression
                result.checks.append(Check(**common, verdict=WORSE,
                                           detail=f"failed in the current run: {cur.problem}".rstrip(": ")))
                continue
            if cur.status != "ok":  # skipped, lost, never run: nothing to compare, not evidence of worse
                result.checks.append(Check(**common, verdict=INCOMPARABLE,
                                           detail=f"{cur.status} in the current run: {cur.problem}".rstrip(": ")))
                continue
            if diffs is None:
                diffs = context_differences(base_run, cur_run, base, cur) + rule_diffs + _spec_differences(
                    base_specs.get(case_id) or {}, cur_specs.get(cur.case_id) or {})
            if diffs and not allow_mismatch and not rule.bound:  # a bound judges the current run alone
                old, new = rule.metric.value(base), rule.metric.value(cur)
                change = rule.exceeded(old, new)[0] if old is not None and new is not None else None
                result.checks.append(Check(**common, verdict=INCOMPARABLE, baseline=old, current=new, change=change,
                                           detail="not comparable: " + "; ".join(diffs)))
                continue
            if cur.case_id not in result.noise_floors:
                floors = [f for f in (noise_floor(base, "p50"), noise_floor(cur, "p50")) if f is not None]
                result.noise_floors[cur.case_id] = max(floors) if floors else None
            check = judge(rule, base, cur, base_samples, cur_samples, alpha, test, resolution_ns, drawn)
            if diffs:
                check = replace(check, detail=f"{check.detail} [mismatch allowed: {'; '.join(diffs)}]")
            result.checks.append(check)
            if rule.metric.sampled and rule.relative:
                stat = _stat_of(rule.metric.name)
                floors = [f for f in (noise_floor(base, stat), noise_floor(cur, stat)) if f is not None]
                if floors and 100 * max(floors) > rule.amount:
                    known = noisy.get(cur.case_id)
                    if known is None or max(floors) > known[0]:
                        noisy[cur.case_id] = (max(floors), rule.amount)
    skipped_both = sorted(cid for cid, b in base_by_id.items()
                          if b.status == "skipped" and (cur_by_id.get(pairs.get(cid, "")) or b).status == "skipped"
                          and cid in pairs)
    if skipped_both:
        result.notes.append(f"skipped in both runs, not compared: {', '.join(skipped_both)}")
    if null_skipped and not null_gated:
        result.notes.append("null-backend cases measure the harness (calibration): not gated; a rule scoped "
                            "@backend=null gates them")
    processes = max((_process_count(r) for r in cur_by_id.values()), default=1)
    more = max(processes_needed(alpha), 2 * processes)
    for case_id, (floor, amount) in sorted(noisy.items()):
        result.noise.append(f"{case_id}: noise floor {100 * floor:.1f}% between processes is above the "
                            f"{amount:g}% threshold: run more processes (processes = {more}), "
                            f"quiet the machine (edgebench system tune), or gate it at >= {100 * floor * 2:.0f}%")
    if not result.checks and not skipped_both:
        result.notes.append("no case of the baseline matched the rules' scope: nothing was compared")
    return result


def identity(record: CaseRecord) -> tuple[Any, ...]:
    """What makes two cases the same measurement when their ids differ (only in backend settings); a farm
    case's device is part of it (a run's own device is checked once for the whole run)."""
    return (record.device if record.farm else None, record.model, record.precision, record.backend,
            str(record.threads), record.scenario, record.batch, record.concurrency)


def pair_cases(base: Mapping[str, CaseRecord], cur: Mapping[str, CaseRecord]) -> dict[str, str]:
    """baseline case id -> current case id: equal ids first; then a left-over baseline case is paired with
    the one left-over current case of the same identity (a setting such as busy_wait_us changed)."""
    pairs = {cid: cid for cid in base if cid in cur}
    left_base = [cid for cid in base if cid not in pairs]
    left_cur = [cid for cid in cur if cid not in base]
    for cid in left_base:
        key = identity(base[cid])
        same_base = [b for b in left_base if identity(base[b]) == key]
        same_cur = [c for c in left_cur if identity(cur[c]) == key]
        if len(same_base) == 1 and len(same_cur) == 1:
            pairs[cid] = same_cur[0]
    return pairs

"""A two-level (hierarchical) bootstrap of latency statistics: processes first, then samples within each.

One worker process per case measures how the samples of *that* process spread, not how the next process (a new
model load, a new memory layout, another moment of the machine) would land: process-to-process ratios of the
median of 0.90-1.68 have been seen on a shared 2-core VM. So, as pyperf and asv do, a case runs in several
processes, and an interval that should hold for the next run resamples at both levels (Davison & Hinkley,
*Bootstrap Methods and their Application*, 1997, 2.4: resample the groups, then resample within each chosen
group):

1. draw P processes with replacement from the P measured ones;
2. from each drawn process with n_i samples, draw n_i samples with replacement;
3. pool them and compute the statistic (median, p90, p99, mean).

With one process, step 1 is trivial and the result is the ordinary bootstrap of the samples: within-run noise
only, which is why ``analysis.compare`` will not decide a tail or mean rule from it.

Cost: a replicate draws at most ``MAX_DRAWS_PER_PROCESS`` samples from a process (all n_i when fewer). With
more, the within-process part of the variance is overstated by n_i / MAX_DRAWS_PER_PROCESS, which errs towards
wider intervals (fewer false alarms), and is negligible next to the between-process part once n_i is in the
thousands; the null backend's 200 000 samples a second would otherwise cost seconds per case.

The statistic is the pooled one, the same figure the summary reports; quantiles interpolate linearly between
order statistics (``edgebench.quantiles``). numpy only (the host's analysis needs it anyway).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

#: statistic name -> quantile (None: the mean)
STATISTICS = {"p50": 0.5, "median": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999, "p99.9": 0.999,
              "min": 0.0, "max": 1.0, "mean": None}
DEFAULT_REPLICATES = 2000
SEED = 20261129
#: replicates whose processes (level 1) are drawn in one call: about this many samples' worth; the samples
#: (level 2) are drawn one replicate at a time. It fixes the order of the random draws, hence the replicates
_CHUNK_SAMPLES = 4_000_000
MAX_DRAWS_PER_PROCESS = 4000


def statistic(values: Any, name: str) -> float:
    """The statistic ``name`` of pooled samples (linear interpolation for quantiles)."""
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    q = STATISTICS[name]
    return float(array.mean()) if q is None else float(np.quantile(array, q))


def replicates(groups: Sequence[Sequence[float]], names: Sequence[str], count: int = DEFAULT_REPLICATES,
               seed: int = SEED) -> dict[str, Any]:
    """``count`` two-level bootstrap replicates of each statistic in ``names``: name -> numpy array.

    ``groups``: one sequence of samples per process (empty ones are ignored)."""
    import numpy as np

    parts = [np.asarray(g, dtype=np.float64) for g in groups if len(g)]
    if not parts:
        raise ValueError("no samples")
    rng = np.random.default_rng(seed)
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pooled = np.concatenate(parts)
    out: dict[str, list[Any]] = {name: [] for name in names}
    quantiles = [q for q in (STATISTICS[name] for name in names) if q is not None]
    draws = np.minimum(sizes, MAX_DRAWS_PER_PROCESS)
    per_chunk = max(1, _CHUNK_SAMPLES // max(1, int(draws.sum())))
    done = 0
    while done < count:
        block = min(per_chunk, count - done)
        chosen = rng.integers(0, len(parts), size=(block, len(parts)))  # level 1: processes
        for row in range(block):
            # level 2: n_i samples (at most MAX_DRAWS_PER_PROCESS) of each drawn process i, with replacement
            picked = chosen[row]
            counts = draws[picked]
            starts = np.repeat(offsets[picked], counts)
            within = np.floor(rng.random(int(counts.sum())) * np.repeat(sizes[picked], counts)).astype(np.int64)
            sample = pooled[starts + within]
            found = iter(np.quantile(sample, quantiles) if quantiles else ())  # in the order of names
            for name in names:
                out[name].append(float(sample.mean()) if STATISTICS[name] is None else float(next(found)))
        done += block
    return {name: np.asarray(values) for name, values in out.items()}


def interval(groups: Sequence[Sequence[float]], name: str, confidence: float = 0.95,
             count: int = DEFAULT_REPLICATES, seed: int = SEED) -> tuple[float, float]:
    """Percentile interval of the statistic ``name`` at ``confidence``, run-to-run variance included."""
    return intervals(groups, [name], confidence, count, seed)[name]


def intervals(groups: Sequence[Sequence[float]], names: Sequence[str], confidence: float = 0.95,
              count: int = 1000, seed: int = SEED) -> dict[str, tuple[float, float]]:
    """Several statistics' intervals from one set of resamples (what the summary stores)."""
    import numpy as np

    drawn = replicates(groups, names, count, seed)
    tail = (1.0 - confidence) / 2.0
    return {name: tuple(float(v) for v in np.quantile(drawn[name], [tail, 1.0 - tail]))  # type: ignore[misc]
            for name in names}


class ReplicateCache:
    """Replicates drawn once per (groups, count, seed) for every statistic asked of them: the draws do not
    depend on which statistics are taken, so each statistic gets the very values a call of its own would give
    (a comparison's p50 and p90 rules on one case resample it once, not twice)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self._drawn: dict[Any, dict[str, Any]] = {}

    def get(self, key: Any, groups: Sequence[Sequence[float]], name: str, count: int, seed: int) -> Any:
        """``replicates(groups, [name], count, seed)[name]``; ``key`` names ``groups`` (a case of one run)."""
        entry = (key, count, seed)
        drawn = self._drawn.get(entry)
        if drawn is None or name not in drawn:
            names = self.names if name in self.names else (name,)
            drawn = {**(drawn or {}), **replicates(groups, names, count, seed)}
            self._drawn[entry] = drawn
        return drawn[name]


def ratio_interval(baseline: Sequence[Sequence[float]], current: Sequence[Sequence[float]], name: str,
                   alpha: float, count: int | None = None, seed: int = SEED, cache: ReplicateCache | None = None,
                   keys: tuple[Any, Any] = (None, None)) -> tuple[float, float] | None:
    """The (1 - alpha) percentile interval of current/baseline of the statistic ``name``, each side resampled
    at both levels independently; None when no replicate gives a finite ratio (a zero baseline). With
    ``cache``, each side's replicates are drawn once under its key in ``keys`` (baseline's, current's)."""
    import numpy as np

    draws = count or max(DEFAULT_REPLICATES, int(math.ceil(20.0 / alpha)))
    if cache is None:  # the two sides' entries differ by their seeds even under the same key
        cache = ReplicateCache([name])
    base = cache.get(keys[0], baseline, name, draws, seed)
    cur = cache.get(keys[1], current, name, draws, seed + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = cur / base
    ratio = ratio[np.isfinite(ratio)]
    if len(ratio) == 0:
        return None
    low, high = np.quantile(ratio, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


def spread(values: Sequence[float]) -> float | None:
    """Between-process spread: the coefficient of variation (stdev / mean) of per-process figures; None with
    fewer than two processes or a zero mean."""
    if len(values) < 2:
        return None
    mean = math.fsum(values) / len(values)
    if mean == 0:
        return None
    var = math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return math.sqrt(var) / abs(mean)

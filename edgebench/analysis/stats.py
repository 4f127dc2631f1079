"""Summary statistics of latency samples, standard library only (the worker uses it on the device too).

Percentiles interpolate linearly between order statistics (Hyndman & Fan type 7, numpy's default).
Confidence intervals of a quantile come from order statistics (distribution-free): with B ~ Binomial(n, q),
the interval [x_(l), x_(u)] covers the q-quantile with probability P(l <= B < u); ranks are found exactly for
n <= 2000 and by the normal approximation above (Conover, *Practical Nonparametric Statistics*, 3rd ed., 3.2).
Outliers use the modified z-score 0.6745 (x - median) / MAD with the cut-off 3.5 (Iglewicz & Hoaglin,
*How to Detect and Handle Outliers*, 1993), as hyperfine does; when MAD is 0, the mean absolute deviation
scaled by 1.253314 stands in, and when that is 0 too, nothing is an outlier.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Sequence

PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)
OUTLIER_Z = 3.5
_EXACT_CI_LIMIT = 2000


def percentile_sorted(sorted_values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (type 7) on already-sorted values."""
    n = len(sorted_values)
    if n == 0:
        raise ValueError("no samples")
    position = (n - 1) * pct / 100.0
    low = math.floor(position)
    high = min(low + 1, n - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def _binomial_cdf_table(n: int, q: float) -> list[float]:
    """P(B <= k) for k = 0..n, computed in log space to stay finite for large n."""
    log_q, log_1q = math.log(q), math.log1p(-q)
    cdf, total = [], 0.0
    for k in range(n + 1):
        log_p = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_q + (n - k) * log_1q
        total += math.exp(log_p)
        cdf.append(min(total, 1.0))
    return cdf


def quantile_ci_ranks(n: int, q: float, confidence: float) -> tuple[int, int, bool]:
    """1-based ranks (l, u) of the order statistics bounding the q-quantile, and whether the level is met.

    The interval is chosen symmetric in tail probability: l is the largest rank with P(B < l) <= alpha/2,
    u the smallest with P(B >= u) <= alpha/2.
    """
    if n < 1:
        raise ValueError("no samples")
    alpha = 1.0 - confidence
    if n <= _EXACT_CI_LIMIT:
        cdf = _binomial_cdf_table(n, q)
        # P(B < l) = cdf[l-1] ; need cdf[l-1] <= alpha/2
        lower = 0
        for rank in range(1, n + 1):
            if cdf[rank - 1] <= alpha / 2:
                lower = rank
            else:
                break
        upper = n + 1
        for rank in range(n, 0, -1):
            # P(B >= u) = 1 - cdf[u-1]
            if 1.0 - cdf[rank - 1] <= alpha / 2:
                upper = rank
            else:
                break
    else:
        z = NormalDist().inv_cdf(1 - alpha / 2)
        spread = z * math.sqrt(n * q * (1 - q))
        lower = math.floor(n * q - spread)
        upper = math.ceil(n * q + spread) + 1
    met = lower >= 1 and upper <= n
    return max(lower, 1), min(upper, n), met


def quantile_ci(sorted_values: Sequence[float], q: float, confidence: float) -> tuple[float, float, bool]:
    lower, upper, met = quantile_ci_ranks(len(sorted_values), q, confidence)
    return sorted_values[lower - 1], sorted_values[upper - 1], met


def median_ci_rel_width(sorted_values: Sequence[float], confidence: float) -> float:
    """Width of the CI of the median relative to the median; inf until the level can be met."""
    low, high, met = quantile_ci(sorted_values, 0.5, confidence)
    median = percentile_sorted(sorted_values, 50.0)
    if not met or median <= 0:
        return math.inf
    return (high - low) / median


@dataclass(frozen=True)
class LatencyStats:
    """Summary of one case's latency samples, in nanoseconds."""

    n: int
    min_ns: float
    max_ns: float
    mean_ns: float
    stdev_ns: float
    p50_ns: float
    p90_ns: float
    p95_ns: float
    p99_ns: float
    p999_ns: float
    mad_ns: float
    iqr_ns: float
    outliers_low: int
    outliers_high: int
    median_ci_low_ns: float
    median_ci_high_ns: float
    p90_ci_low_ns: float
    p90_ci_high_ns: float
    ci_confidence: float
    ci_level_met: bool

    def to_json(self) -> dict[str, float | int | bool]:
        return asdict(self)


def summarize(samples_ns: Sequence[float], confidence: float = 0.95) -> LatencyStats:
    """Every summary the results carry, recomputable from the raw samples."""
    values = sorted(samples_ns)
    n = len(values)
    if n == 0:
        raise ValueError("no samples")
    mean = math.fsum(values) / n
    stdev = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    median = percentile_sorted(values, 50.0)
    deviations = sorted(abs(v - median) for v in values)
    mad = percentile_sorted(deviations, 50.0)
    low_count, high_count = count_outliers(values, median, mad, mean_abs_dev=math.fsum(deviations) / n)
    median_ci = quantile_ci(values, 0.5, confidence)
    p90_ci = quantile_ci(values, 0.9, confidence)
    return LatencyStats(
        n=n, min_ns=values[0], max_ns=values[-1], mean_ns=mean, stdev_ns=stdev,
        p50_ns=median, p90_ns=percentile_sorted(values, 90.0), p95_ns=percentile_sorted(values, 95.0),
        p99_ns=percentile_sorted(values, 99.0), p999_ns=percentile_sorted(values, 99.9),
        mad_ns=mad, iqr_ns=percentile_sorted(values, 75.0) - percentile_sorted(values, 25.0),
        outliers_low=low_count, outliers_high=high_count,
        median_ci_low_ns=median_ci[0], median_ci_high_ns=median_ci[1],
        p90_ci_low_ns=p90_ci[0], p90_ci_high_ns=p90_ci[1],
        ci_confidence=confidence, ci_level_met=median_ci[2] and p90_ci[2],
    )


def count_outliers(values: Sequence[float], median: float, mad: float, mean_abs_dev: float) -> tuple[int, int]:
    if mad > 0:
        scale = mad / 0.6745
    elif mean_abs_dev > 0:
        scale = 1.253314 * mean_abs_dev
    else:
        return 0, 0
    low = sum(1 for v in values if (v - median) / scale < -OUTLIER_Z)
    high = sum(1 for v in values if (v - median) / scale > OUTLIER_Z)
    return low, high

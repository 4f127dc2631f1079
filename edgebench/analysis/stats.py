"""Summary statistics of latency samples, standard library only.

Percentiles and the confidence intervals of quantiles come from ``edgebench.quantiles`` (shared with the worker's
stopping rule): linear interpolation between order statistics, distribution-free intervals.
Outliers use the modified z-score 0.6745 (x - median) / MAD with the cut-off 3.5 (Iglewicz & Hoaglin,
*How to Detect and Handle Outliers*, 1993), as hyperfine does; when MAD is 0, the mean absolute deviation
scaled by 1.253314 stands in, and when that is 0 too, nothing is an outlier.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

from edgebench.quantiles import percentile_sorted, quantile_ci

PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)
OUTLIER_Z = 3.5


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

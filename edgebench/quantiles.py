"""Quantiles of sorted samples and distribution-free confidence intervals for them, standard library only.

Shared by the worker on the device (the timed loop stops once the CI of the median is narrow enough) and the
host's summaries (``edgebench.analysis.stats``), so it sits below both and runs on Python 3.8.

Percentiles interpolate linearly between order statistics (Hyndman & Fan type 7, numpy's default).
Confidence intervals of a quantile come from order statistics (distribution-free): with B ~ Binomial(n, q),
the interval [x_(l), x_(u)] covers the q-quantile with probability P(l <= B < u); ranks are found exactly for
n <= 2000 and by the normal approximation above (Conover, *Practical Nonparametric Statistics*, 3rd ed., 3.2).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Sequence

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

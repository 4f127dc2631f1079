"""Statistics against values computed by hand on literal arrays."""

from __future__ import annotations

import math

import pytest

from edgebench.analysis.stats import summarize
from edgebench.quantiles import percentile_sorted, quantile_ci_ranks


def test_summary_of_five_values_with_an_outlier():
    s = summarize([4, 1, 100, 3, 2])
    assert (s.n, s.min_ns, s.max_ns, s.mean_ns) == (5, 1, 100, 22)
    assert s.stdev_ns == pytest.approx(math.sqrt(7610 / 4))  # squares of -21,-20,-19,-18,78
    assert s.p50_ns == 3
    assert s.p90_ns == pytest.approx(61.6)  # rank 3.6: 4 + 0.6 * 96
    assert s.p95_ns == pytest.approx(80.8)
    assert s.p99_ns == pytest.approx(96.16)
    assert s.mad_ns == 1  # |v - 3| = 0,1,1,2,97
    assert s.iqr_ns == 2  # p75 = 4, p25 = 2
    assert (s.outliers_low, s.outliers_high) == (0, 1)  # (100 - 3) / 1.4826 = 65.4 > 3.5
    # n = 5 cannot reach 95%: P(B = 0) = 1/32 > 0.025, so the interval is the whole range, flagged
    assert (s.median_ci_low_ns, s.median_ci_high_ns, s.ci_level_met) == (1, 100, False)


def test_median_ci_of_ten_is_second_to_ninth():
    # Binomial(10, 0.5): P(B <= 1) = 11/1024 <= 0.025 < P(B <= 2) = 56/1024
    assert quantile_ci_ranks(10, 0.5, 0.95) == (2, 9, True)
    s = summarize(list(range(10, 110, 10)))
    assert (s.median_ci_low_ns, s.median_ci_high_ns) == (20, 90)
    assert s.p50_ns == 55


def test_ci_ranks_large_n_normal_approximation():
    # n = 10000, q = 0.5: 1.959964 * sqrt(2500) = 97.998 -> floor(4902.002) = 4902, ceil(5097.998) + 1 = 5099
    assert quantile_ci_ranks(10_000, 0.5, 0.95) == (4902, 5099, True)


def test_mad_zero_falls_back_to_mean_absolute_deviation():
    s = summarize([5, 5, 5, 5, 9])
    assert s.mad_ns == 0
    # mean absolute deviation 0.8 * 1.253314 = 1.00265; (9 - 5) / 1.00265 = 3.99 > 3.5
    assert (s.outliers_low, s.outliers_high) == (0, 1)
    flat = summarize([7, 7, 7])
    assert (flat.mad_ns, flat.stdev_ns, flat.outliers_high, flat.iqr_ns) == (0, 0, 0, 0)


def test_single_sample():
    s = summarize([42])
    assert (s.n, s.p50_ns, s.p999_ns, s.stdev_ns) == (1, 42, 42, 0.0)


def test_percentile_interpolates_like_numpy():
    values = [1.0, 2.0, 4.0, 8.0]
    assert percentile_sorted(values, 50) == 3.0
    assert percentile_sorted(values, 25) == 1.75
    assert percentile_sorted(values, 100) == 8.0
    with pytest.raises(ValueError):
        percentile_sorted([], 50)

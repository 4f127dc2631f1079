"""pytest-benchmark's stats block (reporting/pytest_benchmark.py) on a tiny literal array, worked by hand."""

from __future__ import annotations

import math

import pytest

from edgebench.reporting.pytest_benchmark import pytest_benchmark_stats


def test_stats_of_five_samples_with_one_far_outlier() -> None:
    stats = pytest_benchmark_stats([1e9, 2e9, 3e9, 4e9, 100e9], with_data=True)
    # quartiles 2, 3, 4 s (linear interpolation); fences 2 - 3 = -1 and 4 + 3 = 7: only 100 s is outside
    assert (stats["q1"], stats["median"], stats["q3"], stats["iqr"]) == (2.0, 3.0, 4.0, 2.0)
    assert (stats["ld15iqr"], stats["hd15iqr"], stats["iqr_outliers"]) == (1.0, 4.0, 1)
    # mean 22 s; sample stdev sqrt((21² + 20² + 19² + 18² + 78²) / 4) = sqrt(1902.5): only 100 s is beyond it
    assert stats["mean"] == 22.0 and stats["stddev"] == pytest.approx(math.sqrt(1902.5))
    assert (stats["stddev_outliers"], stats["outliers"]) == (1, "1;1")
    assert (stats["min"], stats["max"], stats["total"], stats["rounds"]) == (1.0, 100.0, 110.0, 5)
    assert stats["ops"] == pytest.approx(1 / 22) and stats["data"] == [1.0, 2.0, 3.0, 4.0, 100.0]


def test_one_sample_has_no_spread_and_no_data_unless_asked() -> None:
    stats = pytest_benchmark_stats([5e8])
    assert (stats["stddev"], stats["iqr"], stats["iqr_outliers"], stats["ops"]) == (0.0, 0.0, 0, 2.0)
    assert "data" not in stats

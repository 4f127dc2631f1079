"""The two-level bootstrap against distributions worked out by hand or enumerated exactly."""

from __future__ import annotations

import itertools
import statistics

import numpy as np
import pytest

from edgebench.analysis import bootstrap


def _moments(values):
    return float(np.mean(values)), float(np.var(values))


def test_two_single_sample_processes_mean():
    # processes {1} and {3}: a replicate picks two processes with replacement -> 1, 2, 3 with 1/4, 1/2, 1/4
    mean, var = _moments(bootstrap.replicates([[1.0], [3.0]], ["mean"], 20000, seed=1)["mean"])
    assert mean == pytest.approx(2.0, abs=0.02)
    assert var == pytest.approx(0.5, abs=0.02)


def test_one_process_is_the_ordinary_bootstrap():
    # one process {1, 3}: two draws with replacement -> the same 1, 2, 3 distribution
    mean, var = _moments(bootstrap.replicates([[1.0, 3.0]], ["mean"], 20000, seed=2)["mean"])
    assert mean == pytest.approx(2.0, abs=0.02)
    assert var == pytest.approx(0.5, abs=0.02)


def test_between_process_variance_is_kept():
    # processes {0, 0} and {10, 10}: within-process draws change nothing; the process draw gives 0 (1/4),
    # 5 (1/2), 10 (1/4): variance 12.5. Pooling the four samples and resampling them would give 25/4 = 6.25.
    drawn = bootstrap.replicates([[0.0, 0.0], [10.0, 10.0]], ["mean"], 20000, seed=3)["mean"]
    mean, var = _moments(drawn)
    assert mean == pytest.approx(5.0, abs=0.1)
    assert var == pytest.approx(12.5, rel=0.05)
    assert set(np.unique(drawn)) == {0.0, 5.0, 10.0}


def test_median_of_three_processes_matches_enumeration():
    groups = [[1.0], [2.0], [7.0]]
    exact = [statistics.median(c) for c in itertools.product([1.0, 2.0, 7.0], repeat=3)]  # 27 equally likely
    drawn = bootstrap.replicates(groups, ["p50"], 27000, seed=4)["p50"]
    for value in set(exact):
        assert np.mean(drawn == value) == pytest.approx(exact.count(value) / 27, abs=0.015)


def test_interval_widens_with_process_spread():
    rng = np.random.default_rng(5)
    tight = [rng.normal(100, 1, 200) for _ in range(4)]
    spread_out = [rng.normal(100 + shift, 1, 200) for shift in (-10, -3, 3, 10)]
    low_t, high_t = bootstrap.interval(tight, "p50", 0.95, 500)
    low_s, high_s = bootstrap.interval(spread_out, "p50", 0.95, 500)
    assert high_s - low_s > 5 * (high_t - low_t)


def test_ratio_interval_and_spread():
    base = [[100.0] * 5, [102.0] * 5]
    assert bootstrap.ratio_interval(base, [[120.0] * 5, [121.0] * 5], "p50", 0.01)[0] > 1.1
    low, high = bootstrap.ratio_interval(base, base, "p50", 0.01)
    assert low < 1 < high
    assert bootstrap.spread([1.0]) is None
    assert bootstrap.spread([9.0, 11.0]) == pytest.approx(2 ** 0.5 / 10)

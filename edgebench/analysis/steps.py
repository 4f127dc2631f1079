"""Step detection: where a benchmark's figure moved to a new level and stayed there, across a run history.

The method is the one asv (airspeed velocity) popularised for benchmark histories, written here from its
description: fit the series with a piecewise-constant function by *penalised optimal partitioning* (the fewest
levels that explain the data: each extra level must pay a penalty), then report every boundary between two
levels as a step. Details, and why:

* The fit is on the logarithm of the figure: benchmark noise is multiplicative (a run 3 % slow is 3 % slow
  whatever the case), so one penalty serves a 20 µs and a 200 ms case alike, and a step's size is a ratio.
* The noise ``sigma`` is estimated from the differences between neighbouring runs (median absolute deviation,
  scaled to a standard deviation): a step moves one difference only, so the estimate ignores the steps it is
  meant to find, and one wild run moves a median hardly at all.
* The penalty per extra level is ``penalty * sigma**2 * log(n)`` (a BIC-like penalty: longer histories get more
  chances to look like a step by luck, so each level costs more).
* A run far from the median of its four neighbours is pulled back to ``OUTLIER_SIGMAS`` sigma of it before
  the fit (a squared error is not robust; the rolling median keeps the edge of a true step sharp).
* A level must hold ``min_runs`` runs: one or two odd runs (a noisy neighbour on the device) are not a step.
* A boundary whose levels differ by less than ``min_change`` (relative) is dropped: the fit may find a real
  but negligible shift of 0.3 %, which nobody can act on.

The cost is O(n^2) arithmetic per series, done by numpy (one loop step per run in Python): a series of a
thousand runs takes about 10 ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

#: penalty per extra level, in units of sigma**2 * log(n)
DEFAULT_PENALTY = 6.0
#: the fewest runs a level must hold
DEFAULT_MIN_RUNS = 4
#: a step smaller than this (relative change of the level) is not reported
DEFAULT_MIN_CHANGE = 0.01
#: how far (in sigma) one run may sit from the median of its neighbours before it is pulled in
OUTLIER_SIGMAS = 2.5
#: floor of the relative noise: a series of identical figures would otherwise make any wiggle a step
NOISE_FLOOR = 1e-4


@dataclass(frozen=True)
class Step:
    """A change of level in a series: runs ``[start_before, index)`` were at ``before``, runs from ``index`` on
    (up to the next step) at ``after``. Levels are medians of the figure, in its own unit."""

    index: int  # the first run at the new level
    before: float
    after: float
    #: the run before ``index``: the last one at the old level (the commit range of the step is the two runs')
    last_before: int

    @property
    def change(self) -> float:
        """Relative change of the level: +0.10 is 10 % higher."""
        return self.after / self.before - 1.0 if self.before else math.inf


def noise_sigma(log_values: np.ndarray) -> float:
    """The run-to-run noise of a (log) series, robust to steps and single outliers."""
    if len(log_values) < 3:
        return NOISE_FLOOR
    diffs = np.diff(log_values)
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    return max(1.4826 * mad / math.sqrt(2.0), NOISE_FLOOR)


def _rolling_median(y: np.ndarray, half_width: int) -> np.ndarray:
    padded = np.concatenate([np.full(half_width, y[0]), y, np.full(half_width, y[-1])])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half_width + 1)
    return np.median(windows, axis=1)


def _tame_outliers(y: np.ndarray, sigma: float) -> np.ndarray:
    """``y`` with each run pulled to within ``OUTLIER_SIGMAS`` sigma of the median of its neighbours: a squared
    error would let one wild run buy a level of its own. A rolling median keeps the edge of a real step."""
    centre = _rolling_median(y, 2)
    limit = OUTLIER_SIGMAS * sigma
    return np.clip(y, centre - limit, centre + limit)


def _partition(y: np.ndarray, penalty: float, min_runs: int) -> List[int]:
    """The boundaries of the optimal piecewise-constant fit of ``y`` (squared error + ``penalty`` per level).
    Dynamic programming over the end of the last level; the cost of every segment ending there comes from
    cumulative sums, in a few array operations on preallocated buffers (this loop is the whole cost)."""
    n = len(y)
    sums = np.concatenate([[0.0], np.cumsum(y)])
    squares = np.concatenate([[0.0], np.cumsum(y * y)])
    inverse_length = 1.0 / np.arange(n, 0, -1, dtype=np.float64)  # [1/n, ..., 1/1]: the tail is 1/(end - s)
    best = np.full(n + 1, np.inf)  # best[s]: the least cost of runs [0, s) (inf: no fit with levels >= min_runs)
    best[0] = -penalty
    previous = np.zeros(n + 1, dtype=np.int64)
    work = np.empty(n + 1)
    total = np.empty(n + 1)
    for end in range(min_runs, n + 1):
        k = end - min_runs + 1  # the starts s < k leave the last level at least min_runs long
        segment_sum = np.subtract(sums[end], sums[:k], out=work[:k])
        np.multiply(segment_sum, segment_sum, out=segment_sum)
        np.multiply(segment_sum, inverse_length[n - end:n - end + k], out=segment_sum)
        cost = np.subtract(squares[end] - squares[:k], segment_sum, out=total[:k])
        np.add(cost, best[:k], out=cost)
        pick = int(np.argmin(cost))
        best[end] = cost[pick] + penalty
        previous[end] = pick
    if not np.isfinite(best[n]):
        return []
    bounds = []
    end = n
    while end > 0:
        start = int(previous[end])
        if start > 0:
            bounds.append(start)
        end = start
    return sorted(bounds)


def detect_steps(values: Sequence[float], penalty: float = DEFAULT_PENALTY, min_runs: int = DEFAULT_MIN_RUNS,
                 min_change: float = DEFAULT_MIN_CHANGE) -> List[Step]:
    """The steps of a series of positive figures in run order (oldest first). Values that are not positive
    finite numbers are not allowed here: the caller drops runs without the figure first."""
    data = np.asarray(values, dtype=np.float64)
    if len(data) < 2 * min_runs:
        return []
    if not np.all(np.isfinite(data)) or np.any(data <= 0):
        raise ValueError("detect_steps: every value must be a positive finite number")
    y = np.log(data)
    sigma = noise_sigma(y)
    y = _tame_outliers(y, sigma)
    bounds = _partition(y, penalty * sigma * sigma * math.log(len(y)), min_runs)
    edges = [0, *bounds, len(data)]
    levels = [float(np.median(data[a:b])) for a, b in zip(edges, edges[1:])]
    steps = []
    for k, index in enumerate(bounds):
        step = Step(index=index, before=levels[k], after=levels[k + 1], last_before=index - 1)
        if abs(step.change) >= min_change:
            steps.append(step)
    return steps

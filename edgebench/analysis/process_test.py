"""The process-level test: do the worker processes of two runs separate on the statistic a rule names?

A two-level bootstrap resamples a run's P processes as if they were the whole population of runs. With few
processes that is too confident: on a shared 2-core VM, where the host slows every process that lands in a busy
spell by up to 1.7x, a run whose three kws_dscnn processes all fell in such spells and an identical run whose
processes did not gave a bootstrap interval of the median ratio of [1.006, 1.562]: "significant" at 0.01,
a false alarm. Under the null hypothesis (identical builds) the 2P per-process values are exchangeable, so the
exact distribution of the Mann-Whitney U statistic over them (Mann & Whitney 1947) says how often processes
separate that far by chance, whatever the shape of the host's noise: three processes against three separate
completely with probability 2/20 = 0.1, which can never be significant at 0.01. ``analysis.compare`` calls a
change significant only when the bootstrap interval and this test agree.

The U distribution is exact for untied values (the count of arrangements with U = u is the coefficient of q^u
in the Gaussian binomial [m+n choose m]_q, built by the recurrence N(u; m, n) = N(u - n; m - 1, n) +
N(u; m, n - 1)); ties between per-process values (rare with nanosecond floats) count one half, as in the
normal approximation. ``MAX_PROCESSES`` (50) bounds m and n, so the table has at most 2,501 entries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence


@dataclass(frozen=True)
class ProcessTest:
    u: float  # pairs (baseline process, current process) with the current one larger; ties count one half
    p_value: float  # two-sided, exact
    direction: int  # +1: current processes tend larger, -1: smaller, 0: neither
    baseline_count: int
    current_count: int

    def describe(self) -> str:
        return (f"process level: U={self.u:g} of {self.baseline_count * self.current_count} pairs, exact "
                f"p={self.p_value:.2g} over {self.baseline_count} vs {self.current_count} processes")


@lru_cache(maxsize=64)
def u_counts(m: int, n: int) -> tuple[int, ...]:
    """How many of the C(m+n, m) arrangements of m and n untied values give U = 0, 1, ..., m*n."""
    # row[j] = counts for (i, j) as i grows: N(u; i, j) = N(u - j; i - 1, j) + N(u; i, j - 1)
    previous: list[tuple[int, ...]] = [(1,)] * (n + 1)  # i = 0: U is 0 for every j
    for i in range(1, m + 1):
        current: list[tuple[int, ...]] = [(1,)]  # j = 0: U is 0
        for j in range(1, n + 1):
            size = i * j + 1
            counts = [0] * size
            for u, c in enumerate(previous[j]):  # the largest value is one of the i: it beats all j others
                counts[u + j] += c
            for u, c in enumerate(current[j - 1]):  # the largest value is one of the j
                counts[u] += c
            current.append(tuple(counts))
        previous = current
    return previous[n]


def smallest_p(m: int, n: int) -> float:
    """The smallest two-sided p the exact test can give with m and n processes (complete separation)."""
    return min(1.0, 2.0 / math.comb(m + n, m))


def processes_needed(alpha: float) -> int:
    """The fewest processes per side (the same on both) with which complete separation is significant."""
    count = 2
    while smallest_p(count, count) >= alpha:
        count += 1
    return count


def exact_test(baseline: Sequence[float], current: Sequence[float]) -> ProcessTest:
    """Exact two-sided Mann-Whitney test of per-process values (one value per worker process)."""
    m, n = len(current), len(baseline)
    if m == 0 or n == 0:
        raise ValueError("the process-level test needs a process on both sides")
    u = sum(1.0 if c > b else 0.5 if c == b else 0.0 for c in current for b in baseline)
    counts = u_counts(m, n)
    total = math.comb(m + n, m)
    # P(U <= u) and P(U >= u); a half-integer u (ties) falls between two integers: take the conservative side
    low = sum(counts[: math.floor(u) + 1]) / total
    high = sum(counts[math.ceil(u):]) / total
    p_value = min(1.0, 2.0 * min(low, high))
    centre = m * n / 2.0
    direction = 0 if u == centre else (1 if u > centre else -1)
    return ProcessTest(u, p_value, direction, n, m)

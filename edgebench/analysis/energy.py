"""Energy and average power over a window of a sensor series. Pure functions.

Preferred source: an energy counter delta (RAPL uJ with wrap-around, NVML mJ, hwmon energy uJ); else the
trapezoidal integral of sampled power (mW). mW x s = mJ. Windows are [start_ns, end_ns] on the sampler's
clock.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edgebench.sensors.channels import ENERGY_TO_MJ, POWER_TO_MW


@dataclass(frozen=True)
class WindowPower:
    avg_mw: float | None
    energy_mj: float | None  # over `duration_s`
    duration_s: float  # the part of the window the samples cover
    method: str  # "counter delta" | "power integral (trapezoid)" | "none"
    samples: int


def counter_delta(values: Sequence[int | float | None], wrap_at: int | None = None) -> float | None:
    """Sum of successive deltas of a cumulative counter, each wrap corrected: (b - a) mod (wrap_at + 1).
    A decrease with no wrap range is a reset: None. Missing readings are skipped."""
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return None
    total = 0.0
    for a, b in zip(present, present[1:]):
        if b >= a:
            total += b - a
        elif wrap_at is not None:
            total += (b - a) % (wrap_at + 1)
        else:
            return None
    return total


def _interp(t0: int, v0: float, t1: int, v1: float, t: int) -> float:
    return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)


def integrate_power_mj(
    t_ns: Sequence[int], power_mw: Sequence[float | None], start_ns: int, end_ns: int
) -> tuple[float, float] | None:
    """Trapezoidal integral of power over [start_ns, end_ns] clipped to the samples, with linear
    interpolation at the edges. Returns (energy mJ, covered seconds), or None with < 2 usable points."""
    pts = [(t, float(p)) for t, p in zip(t_ns, power_mw) if p is not None]
    if len(pts) < 2:
        return None
    lo, hi = max(start_ns, pts[0][0]), min(end_ns, pts[-1][0])
    if hi <= lo:
        return None
    times = [t for t, _ in pts]
    inner = [p for p in pts if lo < p[0] < hi]
    i = bisect_right(times, lo) - 1
    left = (lo, pts[i][1] if times[i] == lo else _interp(*pts[i], *pts[i + 1], lo))
    j = bisect_left(times, hi)
    right = (hi, pts[j][1] if times[j] == hi else _interp(*pts[j - 1], *pts[j], hi))
    seq = [left, *inner, right]
    energy = math.fsum((b[0] - a[0]) / 1e9 * (a[1] + b[1]) / 2 for a, b in zip(seq, seq[1:]))
    return energy, (hi - lo) / 1e9


def in_window(t_ns: Sequence[int], start_ns: int, end_ns: int | None = None) -> range:
    """Indexes of the samples with start_ns <= t <= end_ns (no end: to the last sample); t_ns increasing."""
    return range(bisect_left(t_ns, start_ns), len(t_ns) if end_ns is None else bisect_right(t_ns, end_ns))


def window_power(
    t_ns: Sequence[int],
    series: Mapping[str, Sequence[float | int | None]],
    channels: Sequence[str],
    start_ns: int,
    end_ns: int,
    wrap_at: Mapping[str, int | None] | None = None,
    units: Mapping[str, str] | None = None,
) -> WindowPower:
    """Average power and energy over a window from one or more channels of the same kind (summed). `units` gives
    each channel's declared unit: energy counters (uJ, mJ, J) or power (mW, uW, W)."""
    wrap_at = wrap_at or {}
    units = units or {}
    counters = [c for c in channels if units.get(c) in ENERGY_TO_MJ]
    if counters and len(counters) == len(channels):
        idx = in_window(t_ns, start_ns, end_ns)
        if len(idx) >= 2:
            total_mj = 0.0
            for c in counters:
                delta = counter_delta([series[c][k] for k in idx], wrap_at.get(c))
                if delta is None:
                    break
                total_mj += delta * ENERGY_TO_MJ[units[c]]
            else:
                dur = (t_ns[idx[-1]] - t_ns[idx[0]]) / 1e9
                if dur > 0:
                    return WindowPower(total_mj / dur, total_mj, dur, "counter delta", len(idx))
        return WindowPower(None, None, 0.0, "none", len(idx))
    summed: list[float | None] = []
    for k in range(len(t_ns)):
        vals = [series[c][k] for c in channels]
        summed.append(
            None
            if any(v is None for v in vals)
            else math.fsum(float(v) * POWER_TO_MW.get(units.get(c, ""), 1.0) for c, v in zip(channels, vals)
                           if v is not None)
        )
    got = integrate_power_mj(t_ns, summed, start_ns, end_ns)
    n = len(in_window(t_ns, start_ns, end_ns))
    if got is None:
        return WindowPower(None, None, 0.0, "none", n)
    energy, dur = got
    return WindowPower(energy / dur, energy, dur, "power integral (trapezoid)", n)


def energy_per_inference_mj(
    avg_mw: float | None, idle_mw: float | None, loop_s: float, inferences: int
) -> tuple[float | None, float | None]:
    """(total, active) mJ per inference: mean loop power x loop time / inferences (iterations x batch);
    active subtracts the idle power."""
    if avg_mw is None or inferences <= 0 or loop_s <= 0:
        return None, None
    total = avg_mw * loop_s / inferences
    active = (avg_mw - idle_mw) * loop_s / inferences if idle_mw is not None else None
    return total, active

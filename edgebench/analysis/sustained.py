"""The `sustained` scenario: when did the device start to throttle, and how much throughput did it keep?

Pure functions over the raw case: latencies (always there) and, where sampled, the sensor series.

- time to throttle: the first moment after loop start at which a throttle signal appears. From the latency
  series: the rolling median over windows of ``w = max(n // 20, 5)`` samples (stepping ``max(w // 5, 1)``)
  first exceeds DRIFT_LIMIT x the median of the first window; the onset is the window's middle sample (a
  window's median turns once half of it is slow). From the sensors: the first sample in the loop with an
  explicit flag (Pi ``*_now`` bits or a sticky bit turning on, NVML slowdown reasons, an Intel throttle
  counter increase) or a temperature at its lowest passive/hot/critical trip point. The earlier one wins.
- sustained ratio: throughput over the last tenth of the iterations over throughput over the first tenth
  (equal counts, so mean(first tenth latency) / mean(last tenth latency)); < 1 means it slowed down.

A sample's time is the sum of the latencies before it, stretched by ``loop_elapsed_ns / sum(latency_ns)``
when the loop's elapsed time is known (so the harness's own time between iterations is spread evenly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import accumulate
from statistics import median
from typing import Any

from edgebench.analysis.energy import in_window
from edgebench.analysis.throttling import DRIFT_LIMIT, trip_limits
from edgebench.sensors.readings import SLOWDOWN_REASONS, is_number

MIN_WINDOW = 5
_SIGNAL_PREFIXES = ("rpi.", "nvml.clock_event_reasons", "intel_throttle.")


def is_sustained(case: Mapping[str, Any]) -> bool:
    """A sustained case: by its scenario, or (results of older workers, without one) a loop that stopped on
    its duration."""
    if case.get("scenario") == "sustained" or case.get("stop_reason") == "duration":
        return True
    return ".sustained." in str(case.get("case_id") or "")


def sample_offsets_s(latency_ns: Sequence[int], elapsed_ns: int | None = None) -> list[float]:
    """Start time of each iteration, in seconds from loop start (see the module docstring)."""
    total = sum(latency_ns)
    scale = elapsed_ns / total if elapsed_ns and total and elapsed_ns > total else 1.0
    return [t * scale / 1e9 for t in accumulate(latency_ns, initial=0)][: len(latency_ns)]


def _window(n: int) -> int:
    """Samples in one rolling-median window over a series of n."""
    return max(n // 20, MIN_WINDOW)


def latency_onset(
    latency_ns: Sequence[int], elapsed_ns: int | None = None, limit: float = DRIFT_LIMIT
) -> tuple[float, int] | None:
    """(seconds from loop start, sample index) where the rolling median first exceeds limit x initial."""
    n = len(latency_ns)
    w = _window(n)
    if n < 2 * w:
        return None
    step = max(w // 5, 1)
    initial = median(latency_ns[:w])
    if initial <= 0:
        return None
    for i in range(step, n - w + 1, step):
        if median(latency_ns[i : i + w]) > limit * initial:
            onset = i + w // 2
            return sample_offsets_s(latency_ns, elapsed_ns)[onset], onset
    return None


def sustained_ratio(latency_ns: Sequence[int]) -> float | None:
    """Throughput of the last tenth of the iterations / that of the first tenth; None under 10 samples."""
    tenth = len(latency_ns) // 10
    if tenth < 1:
        return None
    first, last = sum(latency_ns[:tenth]), sum(latency_ns[-tenth:])
    return first / last if first > 0 and last > 0 else None


def sensor_onset(
    t_ns: Sequence[int],
    series: Mapping[str, Sequence[Any]],
    sensors_meta: Mapping[str, Mapping[str, Any]],
    loop_start_ns: int,
    loop_end_ns: int | None = None,
) -> tuple[float, str] | None:
    """(seconds from loop start, signal) of the first in-loop sample showing an explicit throttle signal."""
    idx = in_window(t_ns, loop_start_ns, loop_end_ns)
    if not idx:
        return None
    trips = (sensors_meta.get("thermal") or {}).get("trip_points_c") or {}
    limits = {f"thermal.{ch}": limit for ch, limit in trip_limits(trips).items()}
    # only these channels can give a signal below: picked once, not tested again at every sample
    watched = [(ch, values) for ch, values in series.items() if ch.startswith(_SIGNAL_PREFIXES) or ch in limits]
    base: dict[str, Any] = {}  # first in-loop value of cumulative counters and sticky bits
    for k in idx:
        for ch, values in watched:
            v = values[k] if k < len(values) else None
            if v is None:
                continue
            signal = None
            if ch.startswith("rpi.") and ch.endswith("_now") and v is True:
                signal = ch
            elif ch.startswith("rpi.") and ch.endswith("_occurred"):
                if ch not in base:
                    base[ch] = v
                elif v is True and base[ch] is False:
                    signal = ch
            elif ch == "nvml.clock_event_reasons" and is_number(v) and int(v) & SLOWDOWN_REASONS:
                signal = f"{ch} 0x{int(v):x}"
            elif ch.startswith("intel_throttle.") and ch.endswith("_count") and is_number(v):
                if ch not in base:
                    base[ch] = v
                elif v > base[ch]:
                    signal = f"{ch} +{v - base[ch]}"
            elif ch in limits and is_number(v) and v >= limits[ch]:
                signal = f"{ch} {v:g} C >= trip {limits[ch]:g} C"
            if signal is not None:
                return (t_ns[k] - loop_start_ns) / 1e9, signal
    return None


def analyse_sustained(
    latency_ns: Sequence[int],
    elapsed_ns: int | None = None,
    batch: int = 1,
    t_ns: Sequence[int] | None = None,
    series: Mapping[str, Sequence[Any]] | None = None,
    sensors_meta: Mapping[str, Mapping[str, Any]] | None = None,
    loop_start_ns: int | None = None,
    loop_end_ns: int | None = None,
) -> dict[str, Any]:
    """Time to throttle (earliest of latency and sensor signals) and the sustained/initial throughput ratio."""
    n = len(latency_ns)
    lat = latency_onset(latency_ns, elapsed_ns)
    sen = None
    if t_ns and series and loop_start_ns is not None:
        sen = sensor_onset(t_ns, series, sensors_meta or {}, loop_start_ns, loop_end_ns)
    ratio = sustained_ratio(latency_ns)
    tenth = n // 10
    ips = None
    if tenth:
        first, last = sum(latency_ns[:tenth]), sum(latency_ns[-tenth:])
        ips = (batch * tenth * 1e9 / first if first else None, batch * tenth * 1e9 / last if last else None)
    candidates = [c for c in ((lat[0], "latency") if lat else None, (sen[0], sen[1]) if sen else None) if c]
    first_signal = min(candidates, key=lambda c: c[0]) if candidates else None
    loop_s = (elapsed_ns if elapsed_ns else sum(latency_ns)) / 1e9
    return {
        "time_to_throttle_s": first_signal[0] if first_signal else None,
        "time_to_throttle_source": first_signal[1] if first_signal else None,
        "latency_onset_s": lat[0] if lat else None,
        "latency_onset_index": lat[1] if lat else None,
        "sensor_onset_s": sen[0] if sen else None,
        "sensor_onset_signal": sen[1] if sen else None,
        "sustained_ratio": ratio,
        "initial_ips": ips[0] if ips else None,
        "sustained_ips": ips[1] if ips else None,
        "loop_s": loop_s,
        "method": (
            f"rolling median over {_window(n)} samples > {DRIFT_LIMIT:g} x the first window; "
            "throughput of the last tenth / the first tenth of the iterations"
        ),
    }

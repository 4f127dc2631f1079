"""The `sustained` scenario: when did the device start to throttle, and how much throughput did it keep?

Pure functions over the raw case: latencies (always there) and, where sampled, the sensor series.

- time to throttle: the onset of a SUSTAINED slowdown or throttle signal after loop start. A change counts only
  when it lasts: it holds for at least SUSTAIN_WINDOWS (3) window lengths after its onset, a window being a
  twentieth of the loop, or, when it starts later than that before the end, from its onset to the end of the
  loop. So a 1 s bump in a 20 s loop (under 3 s) is ignored, and the time is that of the slowdown that stayed.
  From the latency series: the rolling median over windows of ``w = max(n // 20, 5)`` samples (stepping
  ``max(w // 5, 1)``) exceeds DRIFT_LIMIT x the median of the first window, for every window starting within
  3w samples of the onset (or every later window); the onset is the middle sample of the first window, to the
  sample, whose median is above the limit (a window's median turns once half of it is slow).
  From the sensors: the first in-loop sample of a signal that is on at every sample until 3/20 of the loop
  later (or until the loop's end): a Pi ``*_now`` bit, an NVML slowdown reason, a temperature at its lowest
  passive/hot/critical trip point. Cumulative signals (a Pi
  sticky ``*_occurred`` bit turning on, an Intel throttle counter increase) cannot say how long the throttling
  lasted: they count from their first event. The earlier of the latency and sensor onsets wins.
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

from edgebench.analysis.declared import RecordChannels
from edgebench.analysis.energy import in_window
from edgebench.analysis.throttling import DRIFT_LIMIT
from edgebench.sensors.channels import BITMASK, COUNTER, LEVEL, STICKY, THROTTLE_FLAG, Channel
from edgebench.sensors.readings import is_number

MIN_WINDOW = 5
WINDOWS_PER_LOOP = 20
#: a throttle signal counts only when it lasts this many window lengths (or until the loop ends)
SUSTAIN_WINDOWS = 3


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
    return max(n // WINDOWS_PER_LOOP, MIN_WINDOW)


def first_sustained(above: Sequence[bool], run: int) -> int | None:
    """Index of the first True that is followed by True at the next ``run - 1`` positions, or by True up to the
    end of ``above`` when fewer remain: the start of a change that lasts."""
    for j, on in enumerate(above):
        if on and all(above[j : j + run]):
            return j
    return None


def latency_onset(
    latency_ns: Sequence[int], elapsed_ns: int | None = None, limit: float = DRIFT_LIMIT
) -> tuple[float, int] | None:
    """(seconds from loop start, sample index) where the rolling median exceeds limit x initial and stays
    above it for SUSTAIN_WINDOWS window lengths (or to the end): see the module docstring."""
    n = len(latency_ns)
    w = _window(n)
    if n < 2 * w:
        return None
    step = max(w // 5, 1)
    initial = median(latency_ns[:w])
    if initial <= 0:
        return None
    starts = range(step, n - w + 1, step)
    above = [median(latency_ns[i : i + w]) > limit * initial for i in starts]
    j = first_sustained(above, SUSTAIN_WINDOWS * w // step + 1)
    if j is None:
        return None
    # to the sample: the first window between the last one below the limit and this one that is above it
    first = next(i for i in range(max(starts[j] - step + 1, 1), starts[j] + 1)
                 if median(latency_ns[i : i + w]) > limit * initial)
    onset = first + w // 2
    return sample_offsets_s(latency_ns, elapsed_ns)[onset], onset


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
    declared: RecordChannels,
    loop_start_ns: int,
    loop_end_ns: int | None = None,
) -> tuple[float, str] | None:
    """(seconds from loop start, signal) of the first in-loop sample of an explicit throttle signal that lasts
    (see the module docstring)."""
    idx = in_window(t_ns, loop_start_ns, loop_end_ns)
    if not idx:
        return None
    end_ns = loop_end_ns if loop_end_ns is not None else t_ns[idx[-1]]
    span_ns = (end_ns - loop_start_ns) * SUSTAIN_WINDOWS / WINDOWS_PER_LOOP
    # temperature channel -> its lowest trip point
    limits = {f"{sensor}.{of}": limit for (sensor, of), limit in declared.trip_limits().items()}
    flags = {e.key: e.channel for e in declared.series(THROTTLE_FLAG)}
    # only these channels can give a signal: picked once, not tested again at every sample
    watched = [(ch, values) for ch, values in series.items() if ch in flags or ch in limits]
    best: tuple[float, str] | None = None
    for ch, values in watched:
        signals = _signal_series(ch, [values[k] if k < len(values) else None for k in idx], flags.get(ch),
                                 limits.get(ch))
        found = _lasting(idx, t_ns, signals, span_ns)
        if found is not None:
            onset_s = (t_ns[idx[found]] - loop_start_ns) / 1e9
            if best is None or onset_s < best[0]:
                best = (onset_s, signals[found] or ch)
    return best


def _signal_series(ch: str, values: Sequence[Any], flag: Channel | None, trip_c: float | None) -> list[str | None]:
    """Per in-loop sample: the signal's description when the channel shows throttling there, else None.
    Missing readings (None) read as "no signal". Cumulative signals stay on from their first event."""
    out: list[str | None] = []
    base: Any = None  # first value of a cumulative counter or sticky bit
    fired: str | None = None
    for v in values:
        signal = None
        how = flag.signal if flag is not None else None
        if how == LEVEL:
            signal = ch if v is True else None
        elif how == STICKY:
            if base is None and v is not None:
                base = v
            elif fired is None and v is True and base is False:
                fired = ch
            signal = fired
        elif how == BITMASK and flag is not None:
            signal = f"{ch} 0x{int(v):x}" if is_number(v) and int(v) & flag.slowdown_mask else None
        elif how == COUNTER:
            if base is None and is_number(v):
                base = v
            elif fired is None and is_number(v) and v > base:
                fired = f"{ch} +{v - base}"
            signal = fired
        elif trip_c is not None and is_number(v) and v >= trip_c:
            signal = f"{ch} {v:g} C >= trip {trip_c:g} C"
        out.append(signal)
    return out


def _lasting(idx: Sequence[int], t_ns: Sequence[int], signals: Sequence[str | None], span_ns: float) -> int | None:
    """Position (in idx) of the first sample whose signal is on at every sample up to the first one at least
    ``span_ns`` later, or up to the last sample when the loop ends sooner."""
    for j, signal in enumerate(signals):
        if signal is None:
            continue
        horizon = t_ns[idx[j]] + span_ns
        k = j
        while signals[k] is not None and t_ns[idx[k]] < horizon and k + 1 < len(signals):
            k += 1
        if signals[k] is not None:
            return j
    return None


def analyse_sustained(
    latency_ns: Sequence[int],
    elapsed_ns: int | None = None,
    batch: int = 1,
    t_ns: Sequence[int] | None = None,
    series: Mapping[str, Sequence[Any]] | None = None,
    declared: RecordChannels | None = None,
    loop_start_ns: int | None = None,
    loop_end_ns: int | None = None,
) -> dict[str, Any]:
    """Time to throttle (earliest of latency and sensor signals) and the sustained/initial throughput ratio."""
    n = len(latency_ns)
    lat = latency_onset(latency_ns, elapsed_ns)
    sen = None
    if t_ns and series and loop_start_ns is not None:
        sen = sensor_onset(t_ns, series, declared or RecordChannels.from_record(series), loop_start_ns,
                           loop_end_ns)
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
            f"onset of a sustained slowdown: rolling median over {_window(n)} samples > {DRIFT_LIMIT:g} x the "
            f"first window for {SUSTAIN_WINDOWS} windows in a row (or to the end), or a throttle signal that "
            f"lasts as long; throughput of the last tenth / the first tenth of the iterations"
        ),
    }

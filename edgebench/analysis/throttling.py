"""Was the device throttled during a window? Pure functions over sensor series.

Signals: explicit flags (Pi get_throttled, NVML clock-event reasons, Intel thermal_throttle counter deltas),
temperature against thermal trip points, clocks below their maximum while loaded, and latency drift
(median of the last tenth of the loop over the median of the first tenth). Clocks below max are normal on an
idle or lightly loaded CPU, so they count as throttling only together with a drift above DRIFT_LIMIT.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from edgebench.sensors.readings import SLOWDOWN_REASONS, THROTTLE_BITS, decode_clock_event_reasons

DRIFT_LIMIT = 1.10
CLOCK_TOLERANCE = 0.95
PI_NOW = tuple(name for name in THROTTLE_BITS.values() if name.endswith("_now"))
PI_OCCURRED = tuple(name for name in THROTTLE_BITS.values() if name.endswith("_occurred"))
TRIP_KINDS = ("passive", "hot", "critical")


@dataclass(frozen=True)
class Throttling:
    throttled: bool | None  # None: no sensor could say
    flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    drift: float | None = None
    signals: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


def latency_drift(latency_ns: Sequence[int]) -> float | None:
    """median(last tenth) / median(first tenth); None with fewer than 10 samples."""
    n = len(latency_ns)
    if n < 10:
        return None
    tenth = n // 10
    first = median(latency_ns[:tenth])
    return median(latency_ns[-tenth:]) / first if first > 0 else None


def counter_increase(values: Sequence[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return present[-1] - present[0] if len(present) >= 2 else None


def pi_flags(series: Mapping[str, Sequence[bool | None]]) -> tuple[list[str], list[str]]:
    """(flags during the window, notes): a `*_now` bit set at any sample, or a sticky `*_occurred` bit that
    went from clear to set. Sticky bits already set at the start only earn a note (since boot)."""
    flags, notes = [], []
    for name in PI_NOW:
        if any(v for v in series.get(name, ())):
            flags.append(f"rpi {name}")
    for name in PI_OCCURRED:
        vals = [v for v in series.get(name, ()) if v is not None]
        if vals and not vals[0] and any(vals):
            flags.append(f"rpi {name} (during the case)")
        elif vals and vals[0]:
            notes.append(f"rpi {name} (since boot)")
    return flags, notes


def nvml_flags(masks: Sequence[int | None]) -> tuple[list[str], list[str]]:
    seen = 0
    for m in masks:
        seen |= m or 0
    flags = [f"nvml {name}" for name in decode_clock_event_reasons(seen & SLOWDOWN_REASONS)]
    power_capped = "sw_power_cap" in decode_clock_event_reasons(seen)
    notes = ["nvml sw_power_cap (normal at full load)"] if power_capped else []
    return flags, notes


def below_max_fraction(cur: Sequence[float | None], max_: Sequence[float | None] | float) -> float | None:
    """Fraction of samples where the clock ran under CLOCK_TOLERANCE x its maximum."""
    pairs = []
    for k, c in enumerate(cur):
        m = max_ if isinstance(max_, (int, float)) else max_[k]
        if c is not None and m:
            pairs.append(c < CLOCK_TOLERANCE * m)
    return sum(pairs) / len(pairs) if pairs else None


def trip_limits(trips: Mapping[str, Sequence[Sequence[Any]]]) -> dict[str, float]:
    """Channel -> its lowest passive/hot/critical trip point; channels with none of those are left out. A trip
    at or below 0 C is a disabled one (x86_pkg_temp's unset thresholds read 0), not a trip: records stored
    before the sensor dropped them still hold them."""
    out = {}
    for ch, points in trips.items():
        limits = [float(t) for t, kind in points if kind in TRIP_KINDS and float(t) > 0]
        if limits:
            out[ch] = min(limits)
    return out


def trip_crossings(
    temps: Mapping[str, Sequence[float | None]], trips: Mapping[str, Sequence[Sequence[Any]]]
) -> list[str]:
    """Channels whose max temperature reached their lowest passive/hot/critical trip point."""
    out = []
    for ch, limit in trip_limits(trips).items():
        vals = [v for v in temps.get(ch, ()) if v is not None]
        if vals and max(vals) >= limit:
            out.append(f"{ch} {max(vals):g} C >= trip {limit:g} C")
    return out


def assess(
    series: Mapping[str, Sequence[Any]],
    sensors_meta: Mapping[str, Mapping[str, Any]],
    latency_ns: Sequence[int],
) -> Throttling:
    """`series`: "<sensor>.<channel>" -> values within the loop window. `sensors_meta`: sensor -> meta()."""
    flags: list[str] = []
    notes: list[str] = []
    signals: list[str] = []
    details: dict[str, Any] = {}

    pi = {
        k.split(".", 1)[1]: v
        for k, v in series.items()
        if k.startswith("rpi.") and k.endswith(("_now", "_occurred"))
    }
    if any(v is not None for vals in pi.values() for v in vals):
        signals.append("rpi get_throttled")
        f, n = pi_flags(pi)
        flags += f
        notes += n

    masks = series.get("nvml.clock_event_reasons", ())
    if any(m is not None for m in masks):
        signals.append("nvml clock-event reasons")
        f, n = nvml_flags(masks)
        flags += f
        notes += n

    for ch, vals in series.items():
        if ch.startswith("intel_throttle.") and ch.endswith("_count"):
            inc = counter_increase(vals)
            if inc is not None:
                signals.append(ch)
                details[ch.split(".", 1)[1] + "_delta"] = inc
                if inc > 0:
                    flags.append(f"intel {ch.split('.', 1)[1]} +{inc}")

    trips = (sensors_meta.get("thermal") or {}).get("trip_points_c") or {}
    if trip_limits(trips):
        temps = {ch: series.get(f"thermal.{ch}", ()) for ch in trip_limits(trips)}
        if any(v is not None for vals in temps.values() for v in vals):
            signals.append("thermal trip points")
            flags += [f"thermal {c}" for c in trip_crossings(temps, trips)]

    clock_low: list[str] = []
    cpu_cur = sorted(k for k in series if re.fullmatch(r"cpufreq\.cpu\d+_cur_khz", k))
    if cpu_cur:
        fastest = [
            max((series[k][i] for k in cpu_cur if series[k][i] is not None), default=None)
            for i in range(len(series[cpu_cur[0]]))
        ]
        cpuinfo = [
            v for v in ((sensors_meta.get("cpufreq") or {}).get("cpuinfo_max_khz") or {}).values() if v
        ]
        hw_max = max(cpuinfo) if cpuinfo else None
        if hw_max:
            frac = below_max_fraction(fastest, hw_max)
        else:  # no hardware maximum: the per-sample maximum of the cores' scaling_max
            max_series = [series.get(k.replace("_cur_", "_max_")) for k in cpu_cur]
            top = [max((m[i] for m in max_series if m and m[i]), default=None) for i in range(len(fastest))]
            frac = below_max_fraction(fastest, top)
        if frac is not None:
            signals.append("cpufreq")
            details["cpu_below_max_fraction"] = frac
            if frac > 0.5:
                clock_low.append("cpu clock below max")
    for cur_ch, max_src in (("jetson_gpu.gpu_cur_mhz", "jetson_gpu.gpu_max_mhz"), ("nvml.sm_mhz", None)):
        cur = series.get(cur_ch)
        if not cur:
            continue
        mx: Any = series.get(max_src) if max_src else (sensors_meta.get("nvml") or {}).get("sm_max_mhz")
        frac = below_max_fraction(cur, mx) if mx else None
        if frac is not None:
            signals.append(cur_ch)
            details[cur_ch.replace(".", "_") + "_below_max_fraction"] = frac
            if frac > 0.5:
                clock_low.append(f"{cur_ch} below max")

    drift = latency_drift(latency_ns)
    if clock_low:
        if drift is not None and drift > DRIFT_LIMIT:
            flags += [f"{c} with latency drift {drift:.3f}" for c in clock_low]
        else:
            notes += clock_low
    throttled = (len(flags) > 0) if signals else None
    return Throttling(throttled, tuple(flags), tuple(notes), drift, tuple(signals), details)

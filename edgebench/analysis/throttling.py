"""Was the device throttled during a window? Pure functions over sensor series.

Signals, as the sensors declared their channels (edgebench.sensors.channels): throttle flags (on while set, sticky
since boot, a counter's increase, a bitmask's slowdown bits: Pi get_throttled, NVML clock-event reasons, Intel
thermal_throttle counts), temperatures against their trip points, clocks below their maximum while loaded, and
latency drift
(median of the last tenth of the loop over the median of the first tenth). Clocks below max are normal on an
idle or lightly loaded CPU, so they count as throttling only together with a drift above DRIFT_LIMIT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from edgebench.analysis.declared import RecordChannels
from edgebench.sensors.channels import (
    BITMASK,
    CLOCK,
    CLOCK_MAX,
    COUNTER,
    LEVEL,
    SLOWDOWN,
    STICKY,
    THROTTLE_FLAG,
    Channel,
)

DRIFT_LIMIT = 1.10
CLOCK_TOLERANCE = 0.95


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


def level_and_sticky_flags(sensor: str, series: Mapping[str, Sequence[bool | None]],
                           signals: Mapping[str, str | None]) -> tuple[list[str], list[str]]:
    """(flags during the window, notes) of a sensor's boolean flags: a LEVEL flag set at any sample, or a STICKY
    flag that went from clear to set. Sticky flags already set at the start only earn a note (since boot)."""
    flags, notes = [], []
    for name, vals in series.items():
        if signals.get(name) == LEVEL and any(v for v in vals):
            flags.append(f"{sensor} {name}")
    for name, all_vals in series.items():
        if signals.get(name) != STICKY:
            continue
        vals = [v for v in all_vals if v is not None]
        if vals and not vals[0] and any(vals):
            flags.append(f"{sensor} {name} (during the case)")
        elif vals and vals[0]:
            notes.append(f"{sensor} {name} (since boot)")
    return flags, notes


def bitmask_flags(sensor: str, channel: Channel, masks: Sequence[int | None]) -> tuple[list[str], list[str]]:
    """A flag per slowdown bit set at any sample (NVML's clock-event reasons); a note per other bit set that the
    declaration explains (sw_power_cap: normal at full load)."""
    seen = 0
    for m in masks:
        seen |= m or 0
    flags = [f"{sensor} {name}" for bit, name, meaning in channel.bits if seen & bit and meaning == SLOWDOWN]
    notes = [f"{sensor} {name} ({meaning})" for bit, name, meaning in channel.bits
             if seen & bit and meaning and meaning != SLOWDOWN]
    return flags, notes


def below_max_fraction(cur: Sequence[float | None], max_: Sequence[float | None] | float) -> float | None:
    """Fraction of samples where the clock ran under CLOCK_TOLERANCE x its maximum."""
    pairs = []
    for k, c in enumerate(cur):
        m = max_ if isinstance(max_, (int, float)) else max_[k]
        if c is not None and m:
            pairs.append(c < CLOCK_TOLERANCE * m)
    return sum(pairs) / len(pairs) if pairs else None


def trip_crossings(temps: Mapping[str, Sequence[float | None]], limits: Mapping[str, float]) -> list[str]:
    """Channels whose max temperature reached their lowest trip point (`limits`: channel -> that trip, C)."""
    out = []
    for ch, limit in limits.items():
        vals = [v for v in temps.get(ch, ()) if v is not None]
        if vals and max(vals) >= limit:
            out.append(f"{ch} {max(vals):g} C >= trip {limit:g} C")
    return out


def assess(series: Mapping[str, Sequence[Any]], declared: RecordChannels, latency_ns: Sequence[int]) -> Throttling:
    """`series`: "<sensor>.<channel>" -> values within the loop window; `declared`: what the channels mean."""
    flags: list[str] = []
    notes: list[str] = []
    signals: list[str] = []
    details: dict[str, Any] = {}

    flagged = [e for e in declared.series(THROTTLE_FLAG) if e.key in series]
    by_sensor: dict[str, dict[str, Sequence[Any]]] = {}  # level and sticky flags, judged per sensor
    for e in flagged:
        if e.channel.signal in (LEVEL, STICKY):
            by_sensor.setdefault(e.sensor, {})[e.channel.name] = series[e.key]
    for sensor, named in by_sensor.items():
        if any(v is not None for vals in named.values() for v in vals):
            signals.append(f"{sensor} throttle flags")
            kinds = {n: declared.get(f"{sensor}.{n}") for n in named}
            f, n = level_and_sticky_flags(sensor, named, {k: c.signal for k, c in kinds.items() if c})
            flags += f
            notes += n
    for e in flagged:
        vals = series[e.key]
        if e.channel.signal == BITMASK and any(m is not None for m in vals):
            signals.append(e.key)
            f, n = bitmask_flags(e.sensor, e.channel, vals)
            flags += f
            notes += n
    for e in flagged:
        if e.channel.signal == COUNTER:
            inc = counter_increase(series[e.key])
            if inc is not None:
                signals.append(e.key)
                details[e.channel.name + "_delta"] = inc
                if inc > 0:
                    flags.append(f"{e.sensor} {e.channel.name} +{inc}")

    trip_sensors: dict[str, dict[str, float]] = {}
    for (sensor, of), limit in declared.trip_limits().items():
        trip_sensors.setdefault(sensor, {})[of] = limit
    for sensor, limits in trip_sensors.items():
        temps = {c: series.get(f"{sensor}.{c}", ()) for c in limits}
        if any(v is not None for vals in temps.values() for v in vals):
            signals.append(f"{sensor} trip points")
            flags += [f"{sensor} {c}" for c in trip_crossings(temps, limits)]

    clock_low: list[str] = []
    for label, signal, detail, frac in clock_fractions(series, declared):
        signals.append(signal)
        details[detail] = frac
        if frac > 0.5:
            clock_low.append(label)

    drift = latency_drift(latency_ns)
    if clock_low:
        if drift is not None and drift > DRIFT_LIMIT:
            flags += [f"{c} with latency drift {drift:.3f}" for c in clock_low]
        else:
            notes += clock_low
    throttled = (len(flags) > 0) if signals else None
    return Throttling(throttled, tuple(flags), tuple(notes), drift, tuple(signals), details)


def clock_fractions(series: Mapping[str, Sequence[Any]], declared: RecordChannels) -> list[tuple[str, str, str, float]]:
    """(label when low, signal, details key, fraction of samples below max) of every clock with a known maximum.
    A group's clocks (a CPU's cores) are judged by the fastest of them against the highest hardware maximum,
    else against the per-sample highest of their maxima; a lone clock against its own."""
    groups: dict[tuple[str, str, bool], list[str]] = {}  # (sensor, group or channel key, grouped) -> clocks
    for e in declared.series(CLOCK):
        if e.key in series:
            groups.setdefault((e.sensor, e.channel.group or e.key, bool(e.channel.group)), []).append(e.channel.name)
    out = []
    # groups first (a CPU's cores), then lone clocks
    for (sensor, group, grouped), names in sorted(groups.items(), key=lambda kv: not kv[0][2]):
        length = len(series[f"{sensor}.{names[0]}"])
        fastest = [max((series[f"{sensor}.{n}"][i] for n in names if series[f"{sensor}.{n}"][i] is not None),
                       default=None) for i in range(length)]
        limits = [lim for n in names for lim in declared.limits_of(CLOCK_MAX, sensor, n)]
        hardware = [lim.channel.value for lim in limits if lim.channel.value]
        maxima = [series[lim.key] for lim in limits if lim.channel.value is None and lim.key in series]
        mx: Any
        if hardware:
            mx = max(hardware)
        elif maxima:
            mx = [max((m[i] for m in maxima if m[i]), default=None) for i in range(length)]
        else:
            continue
        frac = below_max_fraction(fastest, mx)
        if frac is None:
            continue
        if grouped:
            out.append((f"{group} clock below max", sensor, f"{group}_below_max_fraction", frac))
        else:
            out.append((f"{group} below max", group, group.replace(".", "_") + "_below_max_fraction", frac))
    return out

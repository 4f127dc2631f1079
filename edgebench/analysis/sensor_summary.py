"""Power, energy, temperature and throttling figures of one case, from its stored sensor series."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from edgebench.analysis.declared import RecordChannels
from edgebench.analysis.energy import energy_per_inference_mj, in_window, window_power
from edgebench.analysis.sustained import analyse_sustained, is_sustained
from edgebench.analysis.throttling import assess
from edgebench.sensors.channels import ENERGY_COUNTER, ENERGY_TO_MJ, POWER_TO_MW, POWER_TOTAL, TEMPERATURE
from edgebench.sensors.readings import is_number

KEYS = ("power_avg_w", "power_idle_w", "energy_per_inference_mj", "temp_max_c", "throttled")

def _has_values(values: Sequence[Any]) -> bool:
    return sum(v is not None for v in values) >= 2


def pick_total_channels(channels: Mapping[str, Sequence[Any]], declared: RecordChannels,
                        preferred: str | None = None) -> list[str]:
    """The channel(s) that give total energy or power: `preferred` (the profile's) when it has readings and a
    power or energy unit, else the best-ranked declared total that has readings (a pre-Volta GPU has no energy
    counter, a root-only RAPL counter reads None...). Channels declared `summed` (RAPL packages) are summed with
    the others of their rank and sensor; otherwise one channel."""
    if preferred is not None and preferred in channels and _has_values(channels[preferred]):
        declaration = declared.get(preferred)
        if declaration is not None and (declaration.unit in POWER_TO_MW or declaration.unit in ENERGY_TO_MJ):
            return [preferred]
    totals = [e for e in declared.series(POWER_TOTAL, ENERGY_COUNTER) if e.channel.rank is not None
              and e.key in channels and _has_values(channels[e.key])]
    if not totals:
        return []
    best = min(totals, key=lambda e: e.channel.rank or 0)
    if best.channel.summed:
        return [e.key for e in totals if e.channel.rank == best.channel.rank and e.sensor == best.sensor]
    return [best.key]


def _mark(marks: Sequence[Sequence[Any]], name: str) -> int | None:
    for event, t in marks:
        if event == name:
            return int(t)
    return None


def summarize_sensors(case: dict[str, Any], total_power_channel: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {key: None for key in KEYS}
    rec = case.get("sensors")
    latency = case.get("latency_ns") or []
    if not rec or not rec.get("t_ns"):
        out["details"] = {"reason": "no sensor series"}
        if latency and is_sustained(case):  # needs no sensors: the latency series says it
            _add_sustained(out["details"], analyse_sustained(
                latency, case.get("loop_elapsed_ns"), int(case.get("batch") or 1)))
        return out
    t_ns: list[int] = rec["t_ns"]
    channels: dict[str, list[Any]] = rec.get("channels", {})
    marks = rec.get("marks", [])
    sensors = rec.get("sensors", {})
    marked_start, marked_end = _mark(marks, "loop_start"), _mark(marks, "loop_end")
    if marked_start is None or marked_end is None or marked_end <= marked_start:
        loop_start, loop_end = t_ns[0], t_ns[-1]
        loop_s = sum(latency) / 1e9 if latency else (loop_end - loop_start) / 1e9
        window_note = "no loop marks: whole series"
    else:
        loop_start, loop_end = marked_start, marked_end
        loop_s = (loop_end - loop_start) / 1e9
        window_note = "loop_start..loop_end"
    idle_start, idle_end = _mark(marks, "idle_start"), _mark(marks, "idle_end")
    iterations = int(case.get("iterations") or len(latency))
    batch = int(case.get("batch") or 1)
    details: dict[str, Any] = {
        "window": window_note,
        "loop_s": loop_s,
        "iterations": iterations,
        "batch": batch,
    }

    declared = RecordChannels.from_record(channels, sensors)
    total = pick_total_channels(channels, declared, total_power_channel)
    if total_power_channel is not None and total != [total_power_channel]:
        details["total_power_channel"] = (
            f"the profile's {total_power_channel} has no readings"
            + (f"; used {'+'.join(total)}" if total else ""))
    if total:
        found = {c: declared.get(c) for c in total}
        wraps = {c: d.wraps_at for c, d in found.items() if d is not None}
        units = {c: d.unit for c, d in found.items() if d is not None}
        loop = window_power(t_ns, channels, total, loop_start, loop_end, wraps, units)
        idle = None
        if idle_start is not None and idle_end is not None and idle_end > idle_start:
            idle = window_power(t_ns, channels, total, idle_start, idle_end, wraps, units)
        idle_mw = idle.avg_mw if idle else None
        # one iteration of the loop runs `batch` inferences: energy per inference is per sample
        per_inference, active = energy_per_inference_mj(loop.avg_mw, idle_mw, loop_s, iterations * batch)
        out["power_avg_w"] = loop.avg_mw / 1000.0 if loop.avg_mw is not None else None
        out["power_idle_w"] = idle_mw / 1000.0 if idle_mw is not None else None
        out["energy_per_inference_mj"] = per_inference
        sources = {c.split(".", 1)[0]: (sensors.get(c.split(".", 1)[0]) or {}).get("meta", {}) for c in total}
        details["energy"] = {
            "channels": list(total),
            "method": loop.method,
            "samples": loop.samples,
            "covered_s": loop.duration_s,
            "idle_method": idle.method if idle else None,
            "active_energy_per_inference_mj": active,
            "energy_per_iteration_mj": per_inference * batch if per_inference is not None else None,
            "per": f"inference ({iterations} iterations of batch {batch})",
            "total_source": {k: m.get("total_source") for k, m in sources.items() if m.get("total_source")},
            "units": {"power": "W", "energy": "mJ"},
        }
    else:
        details["energy"] = {"reason": "no power or energy channel with readings"}

    cooldown = rec.get("cooldown") or {}
    if cooldown.get("note"):  # it could not cool down (no temperature): the figures came from a warm device
        details["cooldown"] = f"{cooldown.get('outcome')}: {cooldown['note']}"
    errors = sensor_errors(rec.get("errors") or [], loop_start)
    if errors:
        details["sensor_errors"] = errors

    in_loop = in_window(t_ns, loop_start, loop_end)
    windowed = {ch: [vals[k] for k in in_loop] for ch, vals in channels.items()}
    temps = [v for e in declared.series(TEMPERATURE) for v in windowed.get(e.key, ()) if is_number(v)]
    out["temp_max_c"] = max(temps) if temps else None
    th = assess(windowed, declared, latency)
    out["throttled"] = th.throttled
    details["throttling"] = {
        "flags": list(th.flags),
        "notes": list(th.notes),
        "signals": list(th.signals),
        **th.details,
    }
    details["drift"] = th.drift
    if latency and is_sustained(case):
        started = case.get("loop_started_ns")
        _add_sustained(details, analyse_sustained(
            latency, case.get("loop_elapsed_ns"), batch, t_ns, channels, declared,
            int(started) if started is not None else marked_start, marked_end))
    out["details"] = details
    return out


def sensor_errors(errors: Sequence[Mapping[str, Any]], loop_start_ns: int) -> dict[str, dict[str, Any]]:
    """Per sensor that failed to read: how many ticks failed, the first error and when (s from loop start,
    negative before it). A tool that died reads None from then on: this says why its channels have a gap."""
    out: dict[str, dict[str, Any]] = {}
    for e in errors:
        if "dropped_errors" in e:  # the sampler keeps the first errors of a sensor and counts the rest
            for name, dropped in (e["dropped_errors"] or {}).items():
                if name in out:
                    out[name]["count"] += int(dropped)
            continue
        name = str(e.get("sensor"))
        if name not in out:
            t = e.get("t_ns")
            out[name] = {"count": 0, "first": e.get("error"),
                         "first_s": (int(t) - loop_start_ns) / 1e9 if t is not None else None}
        out[name]["count"] += 1
    return out


def _add_sustained(details: dict[str, Any], figures: dict[str, Any]) -> None:
    """The sustained scenario's figures: under details["sustained"], the two headline ones also at the top."""
    details["sustained"] = figures
    details["time_to_throttle_s"] = figures["time_to_throttle_s"]
    details["sustained_ratio"] = figures["sustained_ratio"]

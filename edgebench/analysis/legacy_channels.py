"""The one fallback for records written before sensors declared their channels: declarations inferred from the
channel names and the sensors' meta, exactly as the analysis used to read them (a unit suffix gives the kind, a
few known names give the totals, the throttle flags and the clock maxima).

Used only for a sensor whose record holds no declarations (edgebench.analysis.declared); new records never come
here. Nothing else in edgebench reads meaning from a channel's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from edgebench.sensors import channels as ch
from edgebench.sensors.channels import Channel
from edgebench.sensors.readings import CLOCK_EVENT_BITS

#: "<sensor>.<channel>" patterns that could stand for the device's total, best first, as the analysis picked them
_TOTALS = (
    (r"rapl\.psys_uj", ch.ENERGY_COUNTER, "uJ", ch.RANK_PLATFORM_ENERGY),
    (r"rapl\.package_\d+_uj", ch.ENERGY_COUNTER, "uJ", ch.RANK_PACKAGE_ENERGY),
    (r"nvml\.energy_mj", ch.ENERGY_COUNTER, "mJ", ch.RANK_GPU_ENERGY),
    (r"hwmon\..*socket.*_uj", ch.ENERGY_COUNTER, "uJ", ch.RANK_SOCKET_ENERGY),
    (r"hwmon\..*_uj", ch.ENERGY_COUNTER, "uJ", ch.RANK_CHIP_ENERGY),
    (r"jetson_power\.total_mw", ch.POWER_TOTAL, "mW", ch.RANK_BOARD_POWER),
    (r"tegrastats\.total_mw", ch.POWER_TOTAL, "mW", ch.RANK_BOARD_POWER_TOOL),
    (r"rpi\.pmic_total_mw", ch.POWER_TOTAL, "mW", ch.RANK_PMIC_POWER),
    (r"nvml\.power_mw", ch.POWER_TOTAL, "mW", ch.RANK_GPU_POWER),
    (r"nvidia_smi\.gpu0_power_mw", ch.POWER_TOTAL, "mW", ch.RANK_GPU_POWER_TOOL),
    (r"hwmon\..*_mw", ch.POWER_TOTAL, "mW", ch.RANK_CHIP_POWER),
)
#: unit suffix -> (kind, unit) for the rest
_SUFFIXES = (
    ("_uj", ch.ENERGY_COUNTER, "uJ"), ("_mj", ch.ENERGY_COUNTER, "mJ"), ("_mw", ch.RAIL, "mW"),
    ("_uw", ch.RAIL, "uW"), ("_c", ch.TEMPERATURE, "C"), ("_khz", ch.CLOCK, "kHz"), ("_mhz", ch.CLOCK, "MHz"),
    ("_pct", ch.UTILISATION, "%"), ("_bytes", ch.MEMORY, "bytes"), ("_mv", ch.RAIL, "mV"), ("_ma", ch.RAIL, "mA"),
)
_TRIP_KINDS = ("passive", "hot", "critical")


def infer_channels(sensor: str, names: Sequence[str], meta: Mapping[str, Any]) -> list[Channel]:
    """Declarations for `sensor`'s channels `names`, from their names and its meta (trip points, hardware clock
    maxima, counter wrap ranges)."""
    wraps = meta.get("max_energy_range_uj") or {}
    out = [_infer_one(sensor, name, wraps.get(name)) for name in names]
    if sensor == "thermal":
        for zone, points in (meta.get("trip_points_c") or {}).items():
            out += [Channel(f"{zone}_trip{k}_c", ch.TRIP_POINT, "C", of=zone, value=float(t))
                    for k, (t, kind) in enumerate(points) if kind in _TRIP_KINDS and float(t) > 0]
    if sensor == "cpufreq":
        out += [Channel(f"{cpu}_cpuinfo_max_khz", ch.CLOCK_MAX, "kHz", of=f"{cpu}_cur_khz", value=v)
                for cpu, v in (meta.get("cpuinfo_max_khz") or {}).items() if v]
    if sensor == "nvml" and meta.get("sm_max_mhz"):
        out.append(Channel("sm_max_mhz", ch.CLOCK_MAX, "MHz", of="sm_mhz", value=meta["sm_max_mhz"]))
    return out


def _infer_one(sensor: str, name: str, wraps_at: int | None) -> Channel:
    key = f"{sensor}.{name}"
    for pattern, kind, unit, rank in _TOTALS:
        if re.fullmatch(pattern, key):
            return Channel(name, kind, unit, rank=rank, summed=rank == ch.RANK_PACKAGE_ENERGY,
                           wraps_at=wraps_at if kind == ch.ENERGY_COUNTER else None)
    if sensor == "rpi" and name.endswith("_now"):
        return Channel(name, ch.THROTTLE_FLAG, "bool", signal=ch.LEVEL)
    if sensor == "rpi" and name.endswith("_occurred"):
        return Channel(name, ch.THROTTLE_FLAG, "bool", signal=ch.STICKY)
    if key == "nvml.clock_event_reasons":
        return Channel(name, ch.THROTTLE_FLAG, "bitmask", signal=ch.BITMASK, bits=CLOCK_EVENT_BITS)
    if sensor == "intel_throttle" and name.endswith("_count"):
        return Channel(name, ch.THROTTLE_FLAG, "count", signal=ch.COUNTER)
    if sensor == "cpufreq":
        m = re.fullmatch(r"cpu(\d+)_(cur|max)_khz", name)
        if m and m.group(2) == "cur":
            return Channel(name, ch.CLOCK, "kHz", group="cpu")
        if m:
            return Channel(name, ch.CLOCK_MAX, "kHz", of=f"cpu{m.group(1)}_cur_khz")
        return Channel(name, ch.INFO, "kHz")
    if key == "jetson_gpu.gpu_max_mhz":
        return Channel(name, ch.CLOCK_MAX, "MHz", of="gpu_cur_mhz")
    if name.endswith("_mhz") and "max" in name:  # a limit of no known clock
        return Channel(name, ch.INFO, "MHz")
    for suffix, kind, unit in _SUFFIXES:
        if name.endswith(suffix):
            return Channel(name, kind, unit, wraps_at=wraps_at if kind == ch.ENERGY_COUNTER else None)
    return Channel(name, ch.INFO, "")

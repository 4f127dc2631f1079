"""Thermal zones: /sys/class/thermal/thermal_zone*/{type,temp,trip_point_N_*}, temps in milli-degC.

Zones are matched by `type`, never by index. A zone that reads empty or fails (offline, BPMP error) is None.
PMIC-Die zones report a fixed placeholder (100 C on a Nano) and are skipped. A trip point at or below 0 C is
disabled (x86_pkg_temp publishes its programmable thresholds as passive trips reading 0 until they are set), not
a 0 C trip: it is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from edgebench.sensors.base import Reading, Sensor, channel_slug
from edgebench.sensors.channels import TEMPERATURE, TRIP_POINT, Channel

ZONES_GLOB = "/sys/class/thermal/thermal_zone*"
PLACEHOLDER_ZONES = ("PMIC-Die",)
#: trip point types at which a zone throttles the device (an "active" trip starts a fan)
THROTTLE_TRIPS = ("passive", "hot", "critical")
_SUFFIXES = ("-thermal", "-therm", "_tegra")


@dataclass(frozen=True)
class TripPoint:
    temp_c: float
    kind: str  # active | passive | hot | critical


def parse_millidegrees(text: str | None) -> float | None:
    """ "57939" -> 57.939; empty, garbage or -256000 (offline) -> None."""
    if text is None or not text.strip():
        return None
    try:
        value = int(text.strip()) / 1000.0
    except ValueError:
        return None
    return None if value <= -256.0 else value


def zone_channel(zone_type: str) -> str:
    """A zone's channel, tegrastats-style: "CPU-therm" -> "cpu_c", "thermal-fan-est" -> "thermal_c"."""
    name = zone_type.strip()
    if name == "thermal-fan-est":
        name = "thermal"
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return f"{channel_slug(name)}_c"


class ThermalSensor(Sensor):
    name = "thermal"

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._zones: dict[str, str] | None = None  # channel -> zone dir

    def _discover(self) -> dict[str, str]:
        if self._zones is None:
            zones: dict[str, str] = {}
            for zdir in self.root.glob(ZONES_GLOB):
                ztype = self.root.read_str(f"{zdir}/type")
                if ztype is None or ztype in PLACEHOLDER_ZONES:
                    continue
                channel = zone_channel(ztype)
                if channel in zones:
                    channel = f"{channel[:-2]}_{zdir.rsplit('thermal_zone', 1)[-1]}_c"
                zones[channel] = zdir
            self._zones = zones
        return self._zones

    def available(self) -> str | None:
        if not self._discover():
            return f"missing file: {ZONES_GLOB}/type (no thermal zones)"
        return None

    def read(self) -> Reading:
        return {ch: parse_millidegrees(self.root.read_str(f"{z}/temp")) for ch, z in self._discover().items()}

    def trips(self) -> dict[str, list[TripPoint]]:
        out: dict[str, list[TripPoint]] = {}
        for ch, zdir in self._discover().items():
            points = []
            for tpath in self.root.glob(f"{zdir}/trip_point_*_temp"):
                idx = re.search(r"trip_point_(\d+)_temp$", tpath)
                temp = parse_millidegrees(self.root.read_str(tpath))
                kind = self.root.read_str(f"{zdir}/trip_point_{idx.group(1)}_type") if idx else None
                if temp is not None and temp > 0 and kind is not None:
                    points.append(TripPoint(temp, kind))
            out[ch] = points
        return out

    def channels(self) -> list[Channel]:
        out = [Channel(ch, TEMPERATURE, "C") for ch in self._discover()]
        for ch, points in self.trips().items():
            out += [Channel(f"{ch[:-2]}_trip{k}_c", TRIP_POINT, "C", of=ch, value=p.temp_c)
                    for k, p in enumerate(points) if p.kind in THROTTLE_TRIPS]
        return out

    def meta(self) -> dict[str, Any]:
        return {
            "zones": {ch: self.root.read_str(f"{z}/type") for ch, z in self._discover().items()},
            "trip_points_c": {
                ch: [[p.temp_c, p.kind] for p in pts] for ch, pts in self.trips().items() if pts
            },
            "skipped": list(PLACEHOLDER_ZONES),
        }

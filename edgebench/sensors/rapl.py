"""RAPL energy counters through powercap (/sys/class/powercap/intel-rapl:*, amd-rapl where present).

`energy_uj` is cumulative and wraps to 0 at `max_energy_range_uj`; read() reports the raw counter per zone
(`<zone name>_uj`) and meta() the wrap range, so the analysis takes wrap-corrected deltas. Since
CVE-2020-8694 `energy_uj` is root-only on most kernels: that is reported as unavailable, never as 0.
"""

from __future__ import annotations

import os
import re
from typing import Any

from edgebench.sensors.base import Reading, RootOnlyError, Sensor, channel_slug
from edgebench.sensors.channels import ENERGY_COUNTER, RANK_PACKAGE_ENERGY, RANK_PLATFORM_ENERGY, Channel

ZONE_GLOBS = (
    "/sys/class/powercap/*rapl*:*",
    "/sys/class/powercap/*rapl/*rapl*:*",
    "/sys/class/powercap/*rapl/*rapl*:*/*rapl*:*",
)


class RaplSensor(Sensor):
    name = "rapl"

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._zones: dict[str, str] | None = None  # channel -> zone dir
        self._ranks: dict[str, int] = {}  # channel -> RANK_* of the zones that stand for a total

    def _discover(self) -> dict[str, str]:
        if self._zones is not None:
            return self._zones
        by_id: dict[str, str] = {}
        for pattern in ZONE_GLOBS:
            for zdir in self.root.glob(pattern):
                by_id.setdefault(os.path.basename(zdir), zdir)
        zones: dict[str, str] = {}
        self._ranks = {}
        for zone_id in sorted(by_id):
            zdir = by_id[zone_id]
            name = self.root.read_str(f"{zdir}/name") or zone_id
            parent_id = zone_id.rsplit(":", 1)[0]
            if parent_id.count(":") >= 1 and parent_id in by_id:  # a subzone: prefix its package
                parent = self.root.read_str(f"{by_id[parent_id]}/name") or parent_id
                name = f"{parent}_{name}"
            elif channel_slug(name) == "psys":  # the platform's counter
                self._ranks[f"{channel_slug(name)}_uj"] = RANK_PLATFORM_ENERGY
            elif re.fullmatch(r"package_\d+", channel_slug(name)):  # a CPU package's (package-0, package-1)
                self._ranks[f"{channel_slug(name)}_uj"] = RANK_PACKAGE_ENERGY
            zones[f"{channel_slug(name)}_uj"] = zdir
        self._zones = zones
        return zones

    def available(self) -> str | None:
        zones = self._discover()
        if not zones:
            return "missing file: /sys/class/powercap/intel-rapl:*/energy_uj (no RAPL powercap zones)"
        reasons = [self.root.unreadable_reason(f"{z}/energy_uj") for z in zones.values()]
        if all(r is not None for r in reasons):
            first = reasons[0] or ""
            if first.startswith("root-only"):
                return f"{first}; energy_uj is root-only since CVE-2020-8694 (run as root or chmod 0444)"
            return first
        return None

    def read(self) -> Reading:
        out: Reading = {}
        for ch, zdir in self._discover().items():
            try:
                out[ch] = int(self.root.read_text(f"{zdir}/energy_uj").strip())
            except (RootOnlyError, OSError, ValueError):
                out[ch] = None
        return out

    def channels(self) -> list[Channel]:
        """Every zone is an energy counter in uJ wrapping at its max_energy_range_uj; psys is the platform's total,
        the packages' counters together (summed) the CPUs'; subzones (core, uncore, dram) are parts."""
        out = []
        for ch, z in self._discover().items():
            rank = self._ranks.get(ch)
            out.append(Channel(ch, ENERGY_COUNTER, "uJ", rank=rank, summed=rank == RANK_PACKAGE_ENERGY,
                               wraps_at=self.root.read_int(f"{z}/max_energy_range_uj")))
        return out

    def meta(self) -> dict[str, Any]:
        zones = self._discover()
        return {
            "max_energy_range_uj": {
                ch: self.root.read_int(f"{z}/max_energy_range_uj") for ch, z in zones.items()
            },
            "zones": {ch: z for ch, z in zones.items()},
            "root_only": [
                ch
                for ch, z in zones.items()
                if (self.root.unreadable_reason(f"{z}/energy_uj") or "").startswith("root-only")
            ],
        }

"""Intel thermal throttle counters (/sys/devices/system/cpu/cpu<N>/thermal_throttle/), cumulative since boot.

The package count is broadcast to every CPU of a package: read once per package. Core counts are read once
per (package, core_id) because hyper-threads share them. The analysis takes deltas over the window.
A zero delta does not prove "not throttled" (a RAPL/PROCHOT power limit caps clocks without counting).
"""

from __future__ import annotations

import re

from edgebench.sensors.base import Reading, Sensor
from edgebench.sensors.channels import COUNTER, INFO, THROTTLE_FLAG, Channel

CPUS_GLOB = "/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle"


class IntelThrottleSensor(Sensor):
    name = "intel_throttle"

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._cached_layout: tuple[dict[str, str], list[str]] | None = None

    def _layout(self) -> tuple[dict[str, str], list[str]]:
        """(package id -> one CPU dir), [CPU dirs, one per physical core]; discovered once."""
        if self._cached_layout is not None:
            return self._cached_layout
        packages: dict[str, str] = {}
        cores: dict[tuple[str, str], str] = {}
        dirs = sorted(self.root.glob(CPUS_GLOB), key=lambda d: int(re.findall(r"/cpu(\d+)/", d)[0]))
        for d in dirs:
            cpu = d.rsplit("/", 1)[0]
            pkg = self.root.read_str(f"{cpu}/topology/physical_package_id") or "0"
            core = self.root.read_str(f"{cpu}/topology/core_id") or cpu
            packages.setdefault(pkg, d)
            cores.setdefault((pkg, core), d)
        layout = packages, list(cores.values())
        if packages:
            self._cached_layout = layout
        return layout

    def available(self) -> str | None:
        packages, _ = self._layout()
        if not packages:
            return f"missing file: {CPUS_GLOB} (not an x86 CPU with therm_throt)"
        return None

    def channels(self) -> list[Channel]:
        packages, _ = self._layout()
        out = []
        for pkg, d in packages.items():
            out.append(Channel(f"package{pkg}_throttle_count", THROTTLE_FLAG, "count", signal=COUNTER))
            if self.root.exists(f"{d}/package_throttle_total_time_ms"):
                out.append(Channel(f"package{pkg}_throttle_total_time_ms", INFO, "ms"))
        out.append(Channel("core_throttle_count", THROTTLE_FLAG, "count", signal=COUNTER))
        return out

    def read(self) -> Reading:
        packages, cores = self._layout()
        out: Reading = {}
        for pkg, d in packages.items():
            out[f"package{pkg}_throttle_count"] = self.root.read_int(f"{d}/package_throttle_count")
            total = self.root.read_int(f"{d}/package_throttle_total_time_ms")
            if total is not None:
                out[f"package{pkg}_throttle_total_time_ms"] = total
        counts = [self.root.read_int(f"{d}/core_throttle_count") for d in cores]
        out["core_throttle_count"] = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
        return out

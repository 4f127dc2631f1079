"""cpufreq: per-CPU current, min and max frequency (kHz) and governor, from
/sys/devices/system/cpu/cpu<N>/cpufreq/. `scaling_cur_freq` is the governor's view (on a Pi, the request,
not the firmware clock); `cpuinfo_cur_freq` is root-only and not used.
"""

from __future__ import annotations

import re
from typing import Any

from edgebench.sensors.base import Reading, Sensor
from edgebench.sensors.channels import CLOCK, CLOCK_MAX, INFO, Channel

CPUS_GLOB = "/sys/devices/system/cpu/cpu[0-9]*/cpufreq"


class CpufreqSensor(Sensor):
    name = "cpufreq"

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._cached_cpus: list[tuple[int, str]] | None = None  # (cpu number, cpufreq dir)

    def _cpus(self) -> list[tuple[int, str]]:
        if self._cached_cpus is not None:
            return self._cached_cpus
        found = []
        for d in self.root.glob(CPUS_GLOB):
            m = re.search(r"/cpu(\d+)/cpufreq$", d)
            if m:
                found.append((int(m.group(1)), d))
        found.sort()
        if found:  # discovered once; an empty result is retried
            self._cached_cpus = found
        return found

    def available(self) -> str | None:
        cpus = self._cpus()
        if not cpus:
            return f"missing file: {CPUS_GLOB}"
        return self.root.unreadable_reason(f"{cpus[0][1]}/scaling_cur_freq")

    def read(self) -> Reading:
        out: Reading = {}
        for n, d in self._cpus():
            out[f"cpu{n}_cur_khz"] = self.root.read_int(f"{d}/scaling_cur_freq")
            out[f"cpu{n}_min_khz"] = self.root.read_int(f"{d}/scaling_min_freq")
            out[f"cpu{n}_max_khz"] = self.root.read_int(f"{d}/scaling_max_freq")
        return out

    def channels(self) -> list[Channel]:
        """Each core's clock (judged with the other cores, by the fastest), its scaling maximum (a series) and
        its hardware maximum (cpuinfo_max_freq, a constant, preferred when known)."""
        out = []
        for n, d in self._cpus():
            cur = f"cpu{n}_cur_khz"
            out += [Channel(cur, CLOCK, "kHz", group="cpu"), Channel(f"cpu{n}_min_khz", INFO, "kHz"),
                    Channel(f"cpu{n}_max_khz", CLOCK_MAX, "kHz", of=cur)]
            hw_max = self.root.read_int(f"{d}/cpuinfo_max_freq")
            if hw_max:
                out.append(Channel(f"cpu{n}_cpuinfo_max_khz", CLOCK_MAX, "kHz", of=cur, value=hw_max))
        return out

    def meta(self) -> dict[str, Any]:
        return {
            "governor": {f"cpu{n}": self.root.read_str(f"{d}/scaling_governor") for n, d in self._cpus()},
            "cpuinfo_max_khz": {
                f"cpu{n}": self.root.read_int(f"{d}/cpuinfo_max_freq") for n, d in self._cpus()
            },
        }

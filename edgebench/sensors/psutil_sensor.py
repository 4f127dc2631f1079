"""psutil: the worker process's RSS and CPU%, system memory and CPU%.

psutil reads the live /proc; under a fake root (anything but "/") this sensor says so and stays off.
options: pid (default: this process). CPU% needs two reads: the first reads None, never 0."""

from __future__ import annotations

import os
from typing import Any

from edgebench.sensors.base import Reading, Sensor
from edgebench.sensors.channels import MEMORY, UTILISATION, Channel
from edgebench.sensors.options import Option

CHANNELS = (
    Channel("proc_rss_bytes", MEMORY, "bytes"),
    Channel("proc_cpu_pct", UTILISATION, "%"),
    Channel("cpu_pct", UTILISATION, "%"),
    Channel("mem_used_bytes", MEMORY, "bytes"),
    Channel("mem_available_bytes", MEMORY, "bytes"),
    Channel("mem_total_bytes", MEMORY, "bytes"),
)


class PsutilSensor(Sensor):
    name = "psutil"
    OPTIONS = (Option("pid", "int", "the process to watch (default: the worker)", minimum=1),)

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._proc: Any = None
        self._primed = False

    def available(self) -> str | None:
        try:
            import psutil
        except ImportError:
            return "psutil not installed (pip install psutil)"
        if str(self.root.root) != "/":
            return f"psutil reads the live /proc, not the root {self.root.root}"
        pid = int(self.options.get("pid", os.getpid()))
        try:
            self._proc = psutil.Process(pid)
        except psutil.Error as exc:
            return f"psutil: no process {pid} ({exc})"
        return None

    def start(self) -> None:
        import psutil

        if self._proc is None:
            self._proc = psutil.Process(int(self.options.get("pid", os.getpid())))

    def read(self) -> Reading:
        """CPU% is measured between two reads: the first read primes the counters and reports None (psutil
        itself returns a meaningless 0.0 there). Priming in start() would not do: the first tick follows
        start() within microseconds, and a CPU% over microseconds reads 0.0."""
        import psutil

        if self._proc is None:
            self.start()
        primed = self._primed
        proc_cpu = self._proc.cpu_percent(None)
        sys_cpu = psutil.cpu_percent(None)
        self._primed = True
        mem = psutil.virtual_memory()
        return {
            "proc_rss_bytes": self._proc.memory_info().rss,
            "proc_cpu_pct": proc_cpu if primed else None,
            "cpu_pct": sys_cpu if primed else None,
            "mem_used_bytes": mem.total - mem.available,
            "mem_available_bytes": mem.available,
            "mem_total_bytes": mem.total,
        }

    def channels(self) -> list[Channel]:
        return list(CHANNELS)

    def meta(self) -> dict[str, Any]:
        return {"pid": self._proc.pid if self._proc is not None else None, "cpu_count": os.cpu_count()}

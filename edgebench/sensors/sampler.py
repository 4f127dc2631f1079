"""Samples sensors on its own daemon thread at a fixed period, timestamped on the latency loop's clock.

The thread measures its own CPU time (time.thread_time_ns). A sensor that raises is recorded in `errors`
(the first 20 per sensor, then counted) and reads None for that tick. stop() returns a JSON-able dict.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from edgebench.sensors.base import Reading, Sensor

MAX_ERRORS_PER_SENSOR = 20


class Sampler:
    def __init__(
        self,
        sensors: Sequence[Sensor],
        period_s: float,
        clock_ns: Callable[[], int] = time.perf_counter_ns,
        unavailable: dict[str, str] | None = None,
    ) -> None:
        if period_s <= 0:
            raise ValueError(f"sampler period must be > 0 s, got {period_s}")
        self.sensors = list(sensors)
        self.period_s = period_s
        self.clock_ns = clock_ns
        self._status: dict[str, dict[str, Any]] = {
            name: {"available": False, "reason": reason} for name, reason in (unavailable or {}).items()
        }
        self._live: list[Sensor] = []
        self._t_ns: list[int] = []
        self._rows: list[dict[str, Any]] = []
        self._errors: list[dict[str, Any]] = []
        self._error_counts: dict[str, int] = {}
        self._cpu_ns = 0
        self._stop = threading.Event()
        self._ticked = threading.Event()
        self._thread: threading.Thread | None = None

    def _open(self) -> None:
        for s in self.sensors:
            try:
                reason = s.available()
                if reason is None:
                    s.start()
            except Exception as exc:  # noqa: BLE001 - a broken sensor costs itself, not the case
                reason = f"{s.name}: {type(exc).__name__}: {exc}"
            self._status[s.name] = {"available": reason is None, "reason": reason}
            if reason is None:
                self._live.append(s)

    def tick(self) -> None:
        """Take one sample of every live sensor now."""
        t = self.clock_ns()
        row: dict[str, Any] = {}
        for s in self._live:
            try:
                reading: Reading = s.read()
            except Exception as exc:  # noqa: BLE001
                self._record_error(s.name, t, exc)
                continue
            for ch, value in reading.items():
                row[f"{s.name}.{ch}"] = value
        self._t_ns.append(t)
        self._rows.append(row)
        if not self._ticked.is_set():  # latest() waits for the first sample only; never cleared
            self._ticked.set()

    def declared(self, kind: str) -> list[str]:
        """The channels ("<sensor>.<channel>") of the live sensors declared of `kind`, as now known."""
        out = []
        for s in self._live:
            try:
                out += [f"{s.name}.{c.name}" for c in s.channels() if c.kind == kind and c.value is None]
            except Exception:  # noqa: BLE001 - a sensor that cannot say contributes nothing
                continue
        return out

    def live_sensors(self) -> list[Sensor]:
        """The sensors that opened and are being sampled."""
        return list(self._live)

    def latest(self, wait_s: float = 0.0) -> dict[str, Any]:
        """The last sample taken ({} before the first, after waiting up to `wait_s` for it). Others (the
        cool-down) read this instead of calling read() themselves: a second reader on another thread would
        race the sampler (psutil's CPU% intervals, a streaming tool) and double the cost of tool sensors."""
        if wait_s > 0 and not self._ticked.is_set():
            self._ticked.wait(wait_s)
        rows = self._rows
        return dict(rows[-1]) if rows else {}

    def _record_error(self, name: str, t_ns: int, exc: Exception) -> None:
        n = self._error_counts.get(name, 0) + 1
        self._error_counts[name] = n
        if n <= MAX_ERRORS_PER_SENSOR:
            self._errors.append({"sensor": name, "t_ns": t_ns, "error": f"{type(exc).__name__}: {exc}"})

    def _run(self) -> None:
        cpu0 = time.thread_time_ns()
        period_ns = int(self.period_s * 1e9)
        start = self.clock_ns()
        k = 0
        try:
            while not self._stop.is_set():
                self.tick()
                k += 1
                now = self.clock_ns()
                next_t = start + k * period_ns
                if next_t <= now:  # overran: skip the missed ticks, stay on the grid
                    k = (now - start) // period_ns + 1
                    next_t = start + k * period_ns
                self._stop.wait((next_t - now) / 1e9)
        finally:
            self._cpu_ns = time.thread_time_ns() - cpu0

    def start(self) -> None:
        self._open()
        self._thread = threading.Thread(target=self._run, name="edgebench-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for s in self._live:
            try:
                s.close()
            except Exception as exc:  # noqa: BLE001
                self._record_error(s.name, self.clock_ns(), exc)
        return self.result()

    def result(self) -> dict[str, Any]:
        names: dict[str, None] = {}
        for row in self._rows:
            names.update(dict.fromkeys(row))
        channels = {n: [row.get(n) for row in self._rows] for n in names}
        status = dict(self._status)
        for s in self.sensors:
            available = status.get(s.name, {}).get("available")
            try:
                meta = s.meta() if available else {}
            except Exception as exc:  # noqa: BLE001
                meta = {"error": f"{type(exc).__name__}: {exc}"}
            if available:  # what each channel means travels with the samples (edgebench.sensors.channels)
                try:
                    meta["channels"] = [c.to_json() for c in s.channels()]
                except Exception as exc:  # noqa: BLE001
                    meta["channels"] = []
                    self._record_error(s.name, self.clock_ns(), exc)
            status.setdefault(s.name, {"available": False, "reason": "not opened"})["meta"] = meta
        dropped = {
            n: c - MAX_ERRORS_PER_SENSOR for n, c in self._error_counts.items() if c > MAX_ERRORS_PER_SENSOR
        }
        return {
            "period_ms": self.period_s * 1000.0,
            "t_ns": list(self._t_ns),
            "channels": channels,
            "sampler_cpu_ns": self._cpu_ns,
            "sensors": status,
            "errors": list(self._errors) + ([{"dropped_errors": dropped}] if dropped else []),
        }

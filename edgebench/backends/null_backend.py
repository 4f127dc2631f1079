"""The null backend: no model, no runtime. It measures the harness itself.

``busy_wait_us = 0`` returns at once (the harness's own overhead per inference); ``busy_wait_us = 100``
spins on ``perf_counter_ns`` for 100 us, a known latency that lets gates be tested with a known slowdown.
``sleep_us = 2000`` sleeps instead: a known service time that releases the CPU, as an inference offloaded to an
accelerator does, so several streams serve in parallel even on a machine with few (or busy) cores; the LoadGen
scenarios' queueing tests (M/D/c) use it.
``stall_every = 50`` with ``stall_us = 200`` spins 200 us more on every 50th call: a tail-only regression (p99
about doubles over a 200 us body, p50 does not move), as a busy neighbour or a periodic GC makes; the gate
study (bench/gate_study.py) checks that the tail rule catches it.
"""

from __future__ import annotations

import time
from typing import Any

from edgebench.backends.base import Backend, RuntimeInfo, Session, TensorSpec


class NullSession(Session):
    def __init__(self, busy_wait_ns: int, jitter_seed: int | None = None, sleep_ns: int = 0,
                 stall_every: int = 0, stall_ns: int = 0) -> None:
        self._busy_wait_ns = busy_wait_ns
        self._sleep_s = sleep_ns / 1e9
        self._stall_every = stall_every
        self._stall_ns = stall_ns
        self._calls = 0
        self.inputs = [TensorSpec("input", "float32", (-1, 1))]
        self.outputs = [TensorSpec("output", "float32", (-1, 1))]
        if busy_wait_ns or sleep_ns or stall_every:  # the body is chosen once: a call with no wait only returns
            self.run = self._wait  # type: ignore[method-assign]

    def run(self) -> Any:
        return None

    def _wait(self) -> Any:
        wait_ns = self._busy_wait_ns
        if self._stall_every:
            self._calls += 1
            if self._calls % self._stall_every == 0:
                wait_ns += self._stall_ns
        if wait_ns:
            deadline = time.perf_counter_ns() + wait_ns
            while time.perf_counter_ns() < deadline:
                pass
        if self._sleep_s:
            time.sleep(self._sleep_s)
        return None

    def info(self) -> RuntimeInfo:
        details = {"busy_wait_ns": self._busy_wait_ns}
        if self._sleep_s:
            details["sleep_ns"] = int(round(self._sleep_s * 1e9))
        if self._stall_every:
            details.update({"stall_every": self._stall_every, "stall_ns": self._stall_ns})
        return RuntimeInfo("null", "0", details)


class NullBackend(Backend):
    name = "null"
    formats = ("onnx", "tflite", "none")
    settings_schema = {"busy_wait_us": (int, float), "sleep_us": (int, float), "threads": (int, str),
                       "stall_every": (int,), "stall_us": (int, float)}
    #: up to one second per inference
    settings_ranges = {"busy_wait_us": (0, 1_000_000), "sleep_us": (0, 1_000_000), "stall_every": (0, 1_000_000),
                       "stall_us": (0, 1_000_000)}
    reads_model = False

    @classmethod
    def probe(cls) -> dict[str, Any]:
        return {"version": "0"}

    def load(self, model_path: str, settings: dict[str, Any]) -> Session:
        return NullSession(int(float(settings.get("busy_wait_us", 0)) * 1000),
                           sleep_ns=int(float(settings.get("sleep_us", 0)) * 1000),
                           stall_every=int(settings.get("stall_every", 0)),
                           stall_ns=int(float(settings.get("stall_us", 0)) * 1000))

"""The null backend: no model, no runtime. It measures the harness itself.

``busy_wait_us = 0`` returns at once (the harness's own overhead per inference); ``busy_wait_us = 100``
spins on ``perf_counter_ns`` for 100 us, a known latency that lets gates be tested with a known slowdown.
``sleep_us = 2000`` sleeps instead: a known service time that releases the CPU, as an inference offloaded to an
accelerator does, so several streams serve in parallel even on a machine with few (or busy) cores; the LoadGen
scenarios' queueing tests (M/D/c) use it.
"""

from __future__ import annotations

import time
from typing import Any

from edgebench.backends.base import Backend, RuntimeInfo, Session, TensorSpec


class NullSession(Session):
    def __init__(self, busy_wait_ns: int, jitter_seed: int | None = None, sleep_ns: int = 0) -> None:
        self._busy_wait_ns = busy_wait_ns
        self._sleep_s = sleep_ns / 1e9
        self.inputs = [TensorSpec("input", "float32", (-1, 1))]
        self.outputs = [TensorSpec("output", "float32", (-1, 1))]

    def run(self) -> Any:
        if self._busy_wait_ns:
            deadline = time.perf_counter_ns() + self._busy_wait_ns
            while time.perf_counter_ns() < deadline:
                pass
        if self._sleep_s:
            time.sleep(self._sleep_s)
        return None

    def info(self) -> RuntimeInfo:
        details = {"busy_wait_ns": self._busy_wait_ns}
        if self._sleep_s:
            details["sleep_ns"] = int(round(self._sleep_s * 1e9))
        return RuntimeInfo("null", "0", details)


class NullBackend(Backend):
    name = "null"
    formats = ("onnx", "tflite", "none")
    settings_schema = {"busy_wait_us": (int, float), "sleep_us": (int, float), "threads": (int, str)}
    #: up to one second per inference
    settings_ranges = {"busy_wait_us": (0, 1_000_000), "sleep_us": (0, 1_000_000)}
    reads_model = False

    @classmethod
    def probe(cls) -> dict[str, Any]:
        return {"version": "0"}

    def load(self, model_path: str, settings: dict[str, Any]) -> Session:
        return NullSession(int(float(settings.get("busy_wait_us", 0)) * 1000),
                           sleep_ns=int(float(settings.get("sleep_us", 0)) * 1000))

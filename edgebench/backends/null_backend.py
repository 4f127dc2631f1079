"""The null backend: no model, no runtime. It measures the harness itself.

``busy_wait_us = 0`` returns at once (the harness's own overhead per inference); ``busy_wait_us = 100``
spins on ``perf_counter_ns`` for 100 us, a known latency that lets gates be tested with a known slowdown.
"""

from __future__ import annotations

import time
from typing import Any

from edgebench.backends.base import Backend, RuntimeInfo, Session, TensorSpec


class NullSession(Session):
    def __init__(self, busy_wait_ns: int, jitter_seed: int | None = None) -> None:
        self._busy_wait_ns = busy_wait_ns
        self.inputs = [TensorSpec("input", "float32", (-1, 1))]
        self.outputs = [TensorSpec("output", "float32", (-1, 1))]

    def run(self) -> Any:
        if self._busy_wait_ns:
            deadline = time.perf_counter_ns() + self._busy_wait_ns
            while time.perf_counter_ns() < deadline:
                pass
        return None

    def info(self) -> RuntimeInfo:
        return RuntimeInfo("null", "0", {"busy_wait_ns": self._busy_wait_ns})


class NullBackend(Backend):
    name = "null"
    formats = ("onnx", "tflite", "none")
    settings_schema = {"busy_wait_us": (int, float), "threads": (int, str)}
    #: up to one second per inference
    settings_ranges = {"busy_wait_us": (0, 1_000_000)}
    reads_model = False

    @classmethod
    def probe(cls) -> dict[str, Any]:
        return {"version": "0"}

    def load(self, model_path: str, settings: dict[str, Any]) -> Session:
        return NullSession(int(float(settings.get("busy_wait_us", 0)) * 1000))

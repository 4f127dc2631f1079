"""A pytest plugin on top of pytest-benchmark: benchmark a model on an edgebench backend inside your own
pytest suite. pytest-benchmark times the calls (so ``--benchmark-compare-fail=median:5%``,
``--benchmark-autosave`` and ``pytest-benchmark compare`` work as usual); edgebench adds its percentiles,
throughput, memory and, with sensors, power and energy to ``extra_info``.

    def test_kws_latency(edgebench_model):
        result = edgebench_model("models/kws.onnx", backend="onnxruntime", threads=1, rounds=300)
        assert result.p99_ms < 5.0

Registered through the ``pytest11`` entry point ``edgebench = edgebench.pytest_plugin``. Unlike
``edgebench run``, the model runs in the pytest process: a crashing runtime takes the test run with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pytest


@dataclass(frozen=True)
class EdgebenchResult:
    """edgebench's figures of one benchmarked model (the same values go to ``benchmark.extra_info``)."""

    latency_ns: Sequence[int] = field(repr=False)
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float
    mean_ms: float
    throughput_ips: float | None
    peak_rss_mb: float | None
    load_ms: float
    power_avg_w: float | None = None
    energy_per_inference_mj: float | None = None
    runtime: str = ""
    runtime_version: str = ""

    def extra_info(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "latency_ns"}


class ModelBenchmark:
    """What the ``edgebench_model`` fixture returns: call it once per test."""

    def __init__(self, benchmark: Any) -> None:
        self.benchmark = benchmark

    def __call__(self, model: str | Path | None = None, backend: str = "onnxruntime", *, batch: int = 1,
                 rounds: int = 100, warmup_rounds: int = 10, seed: int = 0,
                 input_shapes: dict[str, Sequence[int]] | None = None, sensors: Sequence[str] = (),
                 sensor_period_ms: int = 50, **settings: Any) -> EdgebenchResult:
        from edgebench import plugins
        from edgebench.analysis.stats import summarize
        from edgebench.worker import memory
        from edgebench.worker.inputs import build_inputs, resolve_shape

        backend_class = plugins.load("edgebench.backends", backend)
        unknown = sorted(set(settings) - set(backend_class.settings_schema))
        if unknown:  # a typo, or a suite-only key such as concurrency, would otherwise be dropped silently
            raise TypeError(f"edgebench_model: unknown setting {', '.join(unknown)} for backend {backend} "
                            f"(known: {', '.join(sorted(backend_class.settings_schema))})")
        from edgebench.config.suite import check_setting
        from edgebench.errors import ConfigError

        for key, value in settings.items():  # the bounds a suite holds them to (threads 1..1024, choices, ...)
            try:
                check_setting(backend_class, key, value, "edgebench_model", key)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        reason = backend_class.installed()
        if reason is not None:
            pytest.skip(f"edgebench backend {backend}: {reason}")
        clock = time.perf_counter_ns
        t0 = clock()
        session = backend_class().load("" if model is None else str(model), dict(settings))
        load_ns = clock() - t0
        shapes = {s.name: resolve_shape(s, batch, input_shapes or {}) for s in session.inputs}
        session.resize(shapes)
        session.prepare(build_inputs(session.inputs, shapes, seed))
        samples: list[int] = []
        run = session.run

        def target() -> None:
            start = clock()
            run()
            samples.append(clock() - start)

        sampling = None
        if sensors:
            from edgebench.sensors.sampling import start_case_sampling

            sampling = start_case_sampling({"names": list(sensors), "period_ms": sensor_period_ms}, clock)
        try:
            for _ in range(warmup_rounds):
                run()
            if sampling:
                sampling.mark("loop_start")
            self.benchmark.pedantic(target, rounds=rounds, iterations=1, warmup_rounds=0)
            if sampling:
                sampling.mark("loop_end")
        finally:
            series = sampling.stop() if sampling else None
        stats = summarize(samples)
        power = energy = None
        if series:
            from edgebench.analysis.sensor_summary import summarize_sensors

            figures = summarize_sensors({"sensors": series, "latency_ns": samples, "iterations": len(samples),
                                         "batch": batch})
            power, energy = figures.get("power_avg_w"), figures.get("energy_per_inference_mj")
        info = session.info()
        peak = memory.peak_rss_bytes()
        result = EdgebenchResult(
            latency_ns=tuple(samples), p50_ms=stats.p50_ns / 1e6, p90_ms=stats.p90_ns / 1e6,
            p95_ms=stats.p95_ns / 1e6, p99_ms=stats.p99_ns / 1e6, p999_ms=stats.p999_ns / 1e6,
            mean_ms=stats.mean_ns / 1e6, throughput_ips=batch * 1e9 / stats.mean_ns if stats.mean_ns else None,
            peak_rss_mb=peak / 2**20 if peak else None, load_ms=load_ns / 1e6, power_avg_w=power,
            energy_per_inference_mj=energy, runtime=info.name, runtime_version=info.version)
        self.benchmark.extra_info.update({"edgebench_backend": backend, "batch": batch,
                                          **{f"setting_{k}": v for k, v in settings.items()},
                                          **result.extra_info()})
        return result


@pytest.fixture
def edgebench_model(benchmark: Any) -> ModelBenchmark:
    """Benchmark a model on an edgebench backend with pytest-benchmark; returns an EdgebenchResult.

    ``edgebench_model(path, backend="onnxruntime", batch=1, rounds=100, warmup_rounds=10, sensors=(),
    **backend_settings)``; ``backend="null", busy_wait_us=100`` measures the harness itself.
    """
    return ModelBenchmark(benchmark)

"""A run as the JSON pytest-benchmark saves (``edgebench export RUN_DIR --format pytest-benchmark``), so that
``pytest-benchmark compare`` and github-action-benchmark (tool: 'pytest') read it.

One benchmark per finished case: ``stats`` in seconds per timed call (one call runs one batch), computed
from the raw samples the way pytest-benchmark does (quartiles, 1.5 IQR fences, outlier counts), and
edgebench's own figures (percentiles, throughput in inferences/s, memory, power, energy) in ``extra_info``.
"""

from __future__ import annotations

from typing import Any, Sequence

from edgebench.record import CaseRecord, CaseSummary, Latency

#: the pytest-benchmark JSON layout this writes (fields of 4.x and 5.x)
PYTEST_BENCHMARK_VERSION = "4.0.0"


def pytest_benchmark_stats(samples_ns: Sequence[float], with_data: bool = False) -> dict[str, Any]:
    """pytest-benchmark's ``stats`` block, in seconds, from latency samples in ns."""
    import numpy as np

    data = np.asarray(samples_ns, dtype=np.float64) / 1e9
    n = len(data)
    mean = float(data.mean())
    stddev = float(data.std(ddof=1)) if n > 1 else 0.0
    q1, median, q3 = (float(v) for v in np.percentile(data, [25, 50, 75]))
    iqr = q3 - q1
    low_fence, high_fence = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    inside = data[(data >= low_fence) & (data <= high_fence)]
    iqr_outliers = int(n - len(inside))
    stddev_outliers = int(np.count_nonzero((data < mean - stddev) | (data > mean + stddev)))
    stats = {
        "min": float(data.min()), "max": float(data.max()), "mean": mean, "stddev": stddev, "rounds": n,
        "median": median, "iqr": iqr, "q1": q1, "q3": q3, "iqr_outliers": iqr_outliers,
        "stddev_outliers": stddev_outliers, "outliers": f"{stddev_outliers};{iqr_outliers}",
        "ld15iqr": float(inside.min()) if len(inside) else float(data.min()),
        "hd15iqr": float(inside.max()) if len(inside) else float(data.max()),
        "ops": 1.0 / mean if mean > 0 else 0.0, "total": float(data.sum()), "iterations": 1,
    }
    if with_data:
        stats["data"] = data.tolist()
    return stats


def edgebench_extra_info(record: CaseRecord) -> dict[str, Any]:
    """edgebench's figures of one case, flat, for ``extra_info`` (units in the names)."""
    summary = record.summary or CaseSummary()
    latency = summary.latency or Latency()
    sensors = summary.sensors
    runtime = record.runtime

    return {
        "p50_ms": latency.ms("p50_ns"), "p90_ms": latency.ms("p90_ns"), "p95_ms": latency.ms("p95_ns"),
        "p99_ms": latency.ms("p99_ns"), "p999_ms": latency.ms("p999_ns"),
        "median_ci_low_ms": latency.ms("median_ci_low_ns"), "median_ci_high_ms": latency.ms("median_ci_high_ns"),
        "throughput_ips": summary.throughput_ips, "batch": record.batch, "load_ms": summary.load_ms,
        "peak_rss_mb": summary.peak_rss_mb, "power_avg_w": sensors.power_avg_w,
        "energy_per_inference_mj": sensors.energy_per_inference_mj, "temp_max_c": sensors.temp_max_c,
        "throttled": sensors.throttled, "runtime": runtime.name if runtime else None,
        "runtime_version": runtime.version if runtime else None, "model_sha256": record.model_sha256,
    }


def to_pytest_benchmark(store: Any, with_data: bool = False) -> dict[str, Any]:
    """The pytest-benchmark document of a run (a ``RunStore``): one benchmark per case that ended ok with
    samples; ``with_data`` keeps every sample, as pytest-benchmark's --benchmark-save-data does."""
    import datetime as dt
    import platform

    run = store.run_info
    env = run.environment
    suite = run.suite
    rules = run.rules
    created = run.created_at
    benchmarks = []
    for record in store.cases():
        if record.status != "ok":
            continue
        samples = store.load_raw(record.case_id).get("latency_ns") or []
        if not samples:
            continue
        params = {"backend": record.backend, "precision": record.precision, "scenario": record.scenario,
                  "batch": record.batch, "threads": record.threads,
                  **({"concurrency": record.concurrency} if record.concurrency > 1 else {}),
                  **{k: v for k, v in record.settings.items() if k != "threads"}}
        benchmarks.append({
            "group": record.model,
            "name": record.case_id,
            "fullname": f"edgebench/{suite}::{record.case_id}",
            "params": params,
            "param": "-".join(str(v) for v in params.values() if v is not None),
            "extra_info": {"device": record.device, **edgebench_extra_info(record)},
            "options": {"disable_gc": False, "timer": "perf_counter_ns", "min_rounds": rules.get("min_iterations"),
                        "max_time": rules.get("max_seconds"), "min_time": rules.get("min_seconds"),
                        "warmup": bool(rules.get("warmup_iterations"))},
            "stats": pytest_benchmark_stats(samples, with_data),
        })
    return {
        "machine_info": {
            "node": env.hostname or run.device, "processor": env.machine or "",
            "machine": env.machine or "", "python_compiler": "", "python_implementation": "CPython",
            "python_implementation_version": env.python or "", "python_version": env.python or "",
            "python_build": [], "release": env.kernel or "", "system": platform.system() or "Linux",
            "cpu": {"brand_raw": env.cpu_model or "", "count": env.cpu_count},
            "edgebench_device": run.device, "edgebench_version": run.edgebench_version or None,
        },
        "commit_info": {"id": run.git_commit, "time": None, "author_time": None, "dirty": False,
                        "project": suite, "branch": None},
        "benchmarks": benchmarks,
        "datetime": dt.datetime.fromtimestamp(created or 0, dt.timezone.utc).isoformat(),
        "version": PYTEST_BENCHMARK_VERSION,
    }

"""A run as the JSON pytest-benchmark saves (``edgebench export RUN_DIR --format pytest-benchmark``), so that
``pytest-benchmark compare`` and github-action-benchmark (tool: 'pytest') read it.

One benchmark per finished case: ``stats`` in seconds per timed call (one call runs one batch), computed
from the raw samples the way pytest-benchmark does (quartiles, 1.5 IQR fences, outlier counts), and
edgebench's own figures (percentiles, throughput in inferences/s, memory, power, energy) in ``extra_info``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

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


def edgebench_extra_info(record: Mapping[str, Any]) -> dict[str, Any]:
    """edgebench's figures of one case, flat, for ``extra_info`` (units in the names)."""
    summary = record.get("summary") or {}
    latency = summary.get("latency") or {}
    sensors = summary.get("sensors") or {}
    runtime = record.get("runtime") or {}

    def ms(key: str) -> float | None:
        return None if latency.get(key) is None else latency[key] / 1e6

    return {
        "p50_ms": ms("p50_ns"), "p90_ms": ms("p90_ns"), "p95_ms": ms("p95_ns"), "p99_ms": ms("p99_ns"),
        "p999_ms": ms("p999_ns"), "median_ci_low_ms": ms("median_ci_low_ns"),
        "median_ci_high_ms": ms("median_ci_high_ns"), "throughput_ips": summary.get("throughput_ips"),
        "batch": record.get("batch"), "load_ms": summary.get("load_ms"), "peak_rss_mb": summary.get("peak_rss_mb"),
        "power_avg_w": sensors.get("power_avg_w"), "energy_per_inference_mj": sensors.get("energy_per_inference_mj"),
        "temp_max_c": sensors.get("temp_max_c"), "throttled": sensors.get("throttled"),
        "runtime": runtime.get("name"), "runtime_version": runtime.get("version"),
        "model_sha256": record.get("model_sha256"),
    }


def to_pytest_benchmark(store: Any, with_data: bool = False) -> dict[str, Any]:
    """The pytest-benchmark document of a run (a ``RunStore``): one benchmark per case that ended ok with
    samples; ``with_data`` keeps every sample, as pytest-benchmark's --benchmark-save-data does."""
    import datetime as dt
    import platform

    from edgebench.analysis.compare import threads_of

    doc = store.document
    env = doc.get("environment") or {}
    suite = (doc.get("suite") or {}).get("name", "")
    rules = (doc.get("suite") or {}).get("rules") or {}
    created = doc.get("created_at")
    benchmarks = []
    for record in store.records():
        if record.get("status") != "ok":
            continue
        samples = store.load_raw(record["case_id"]).get("latency_ns") or []
        if not samples:
            continue
        params = {"backend": record.get("backend"), "precision": record.get("precision"),
                  "scenario": record.get("scenario"), "batch": record.get("batch"), "threads": threads_of(record),
                  **({"concurrency": record["concurrency"]} if (record.get("concurrency") or 1) > 1 else {}),
                  **{k: v for k, v in (record.get("settings") or {}).items() if k != "threads"}}
        benchmarks.append({
            "group": record.get("model"),
            "name": record["case_id"],
            "fullname": f"edgebench/{suite}::{record['case_id']}",
            "params": params,
            "param": "-".join(str(v) for v in params.values() if v is not None),
            "extra_info": {"device": store.device, **edgebench_extra_info(record)},
            "options": {"disable_gc": False, "timer": "perf_counter_ns", "min_rounds": rules.get("min_iterations"),
                        "max_time": rules.get("max_seconds"), "min_time": rules.get("min_seconds"),
                        "warmup": bool(rules.get("warmup_iterations"))},
            "stats": pytest_benchmark_stats(samples, with_data),
        })
    return {
        "machine_info": {
            "node": env.get("hostname") or store.device, "processor": env.get("machine") or "",
            "machine": env.get("machine") or "", "python_compiler": "", "python_implementation": "CPython",
            "python_implementation_version": env.get("python") or "", "python_version": env.get("python") or "",
            "python_build": [], "release": env.get("kernel") or "", "system": platform.system() or "Linux",
            "cpu": {"brand_raw": env.get("cpu_model") or "", "count": env.get("cpu_count")},
            "edgebench_device": store.device, "edgebench_version": doc.get("edgebench_version"),
        },
        "commit_info": {"id": doc.get("git_commit"), "time": None, "author_time": None, "dirty": False,
                        "project": suite, "branch": None},
        "benchmarks": benchmarks,
        "datetime": dt.datetime.fromtimestamp(created or 0, dt.timezone.utc).isoformat(),
        "version": PYTEST_BENCHMARK_VERSION,
    }

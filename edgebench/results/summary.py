"""Per-case summaries, recomputed from the raw samples, and the columns of ``summary.csv``."""

from __future__ import annotations

from typing import Any, Mapping

from edgebench.analysis.sensor_summary import summarize_sensors
from edgebench.analysis.stats import summarize
from edgebench.analysis.sustained import is_sustained
from edgebench.record import CaseRecord, CaseSummary, Latency

CSV_COLUMNS = (
    "device", "host", "model", "backend", "precision", "threads", "scenario", "batch", "concurrency", "status", "n",
    "latency_mean_ms", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_min_ms", "latency_max_ms",
    "throughput_ips", "load_ms", "first_inference_ms", "peak_rss_mb",
    "power_avg_w", "power_idle_w", "energy_per_inference_mj", "temp_max_c", "throttled",
    "fidelity_cosine", "fidelity_max_abs_err", "fidelity_mean_abs_err", "fidelity_snr_db", "fidelity_top1_agreement",
    "accuracy_top1", "model_bytes", "format", "case_id", "error",
)


def _ms(ns: float | None) -> float | None:
    return None if ns is None else ns / 1e6


def case_summary(result: Mapping[str, Any], confidence: float = 0.95,
                 total_power_channel: str | None = None) -> dict[str, Any]:
    """Latency statistics (ns), throughput and the other per-case figures, from one raw case result."""
    samples = result.get("latency_ns") or []
    out: dict[str, Any] = {
        "load_ms": _ms(result.get("load_ns")),
        "first_inference_ms": _ms(result.get("first_inference_ns")),
        "peak_rss_mb": (result["peak_rss_bytes"] / 2**20) if result.get("peak_rss_bytes") else None,
        "load_rss_mb": (result["load_rss_bytes"] / 2**20) if result.get("load_rss_bytes") is not None else None,
        "iterations": len(samples),
        "stop_reason": result.get("stop_reason"),
    }
    if samples:
        stats = summarize(samples, confidence)
        out["latency"] = stats.to_json()
        batch = int(result.get("batch") or 1)
        elapsed_ns = result.get("loop_elapsed_ns") or 0
        if int(result.get("concurrency") or 1) > 1 and elapsed_ns > 0:
            # streams overlap: what the device delivered over the wall-clock time of the loop
            out["throughput_ips"] = len(samples) * batch * 1e9 / elapsed_ns
        else:
            out["throughput_ips"] = batch * 1e9 / stats.mean_ns if stats.mean_ns > 0 else None
    groups = [p.get("latency_ns") or [] for p in result.get("processes") or []]
    if samples and groups:
        out["processes"] = process_summary(result["processes"], confidence)
        if len(groups) > 1:  # the intervals that hold for the next run: resampled at both levels
            ci = out["processes"]["ci_ns"]
            out["latency"].update({"median_ci_low_ns": ci["p50"][0], "median_ci_high_ns": ci["p50"][1],
                                   "p90_ci_low_ns": ci["p90"][0], "p90_ci_high_ns": ci["p90"][1],
                                   "ci_method": "two-level bootstrap (processes, then samples)"})
    if result.get("loadgen"):
        out["loadgen"] = loadgen_summary(result["loadgen"])
        # LoadGen's own throughput, and only from a run it calls valid: an invalid run is not a result
        out["throughput_ips"] = out["loadgen"]["samples_per_s"] if out["loadgen"]["valid"] else None
    if result.get("op_profile"):
        from edgebench.analysis.op_profile import summarize_profile

        out["op_profile"] = summarize_profile(result["op_profile"])
    for key in ("outputs", "op_profile"):  # what the untimed passes cost, beside the timed loop's time
        if (result.get(key) or {}).get("pass_ns") is not None:
            out.setdefault("untimed_pass_ms", {})[key] = result[key]["pass_ns"] / 1e6
    wanted = result.get("sensors") or is_sustained(result)
    out["sensors"] = summarize_sensors(dict(result), total_power_channel) if wanted else {}
    return out


#: the statistics each process reports, and that get two-level bootstrap intervals
PROCESS_STATS = ("p50", "p90", "p99", "mean")


def process_summary(processes: list[Mapping[str, Any]], confidence: float = 0.95) -> dict[str, Any]:
    """The between-process view of a case run in several worker processes: each process's median, p90, p99,
    mean and peak memory, their spread (coefficient of variation: the case's noise floor), and the two-level
    bootstrap intervals of the pooled statistics (``analysis.bootstrap``)."""
    from edgebench.analysis import bootstrap

    groups = [p.get("latency_ns") or [] for p in processes]
    kept = [g for g in groups if g]
    per_process = {name: [bootstrap.statistic(g, name) for g in kept] for name in PROCESS_STATS}
    peaks = [p["peak_rss_bytes"] / 2**20 for p in processes if isinstance(p.get("peak_rss_bytes"), (int, float))]
    return {
        "count": len(processes),
        "n": [len(g) for g in groups],
        **{f"{name}_ns": values for name, values in per_process.items()},
        "peak_rss_mb": peaks,
        "spread": {name: bootstrap.spread(values) for name, values in per_process.items()},
        "ci_ns": bootstrap.intervals(kept, PROCESS_STATS, confidence) if kept else {},
        "ci_confidence": confidence,
    }


def loadgen_summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """A LoadGen scenario's verdict and figures: VALID or not (and LoadGen's reason), the achieved samples/s,
    the served QPS (server), the query-latency percentiles (ns) and, for the server, every search trial."""
    figures = record.get("result") or {}
    out = {
        "scenario": record.get("scenario"),
        "valid": bool(record.get("valid")),
        "invalid_reason": record.get("invalid_reason"),
        "shortened": bool(record.get("shortened")),
        "samples_per_s": figures.get("samples_per_s"),
        "served_qps": record.get("served_qps"),
        "latency_ns": figures.get("latency_ns") or {},
        "early_stopping_latency_ns": figures.get("early_stopping_latency_ns"),
        "streams": record.get("streams"),
    }
    settings = record.get("settings") or {}
    if record.get("scenario") == "server":
        out["latency_bound_ms"] = settings.get("latency_bound_ms")
        out["latency_percentile"] = settings.get("latency_percentile")
        out["trials"] = [{"target_qps": t.get("target_qps"), "passed": t.get("passed"), "valid": t.get("valid"),
                          "samples_per_s": t.get("samples_per_s"), "invalid_reason": t.get("invalid_reason"),
                          "latency_ns": t.get("latency_ns") or {}} for t in record.get("trials") or []]
    return out


def csv_row(record: CaseRecord) -> dict[str, Any]:
    """One line of summary.csv: the case, the device it ran on, and its figures."""
    summary = record.summary or CaseSummary()
    latency = summary.latency or Latency()
    sensors = summary.sensors
    return {
        "device": record.device,
        "host": record.host,  # the host name the device reported (a farm's devices each their own)
        "model": record.model,
        "backend": record.backend,
        "precision": record.precision,
        "threads": record.threads,
        "scenario": record.scenario,
        "batch": record.batch,
        "concurrency": record.concurrency,
        "status": record.status,
        "n": latency.n,
        "latency_mean_ms": latency.ms("mean_ns"),
        "latency_p50_ms": latency.ms("p50_ns"),
        "latency_p90_ms": latency.ms("p90_ns"),
        "latency_p99_ms": latency.ms("p99_ns"),
        "latency_min_ms": latency.ms("min_ns"),
        "latency_max_ms": latency.ms("max_ns"),
        "throughput_ips": summary.throughput_ips,
        "load_ms": summary.load_ms,
        "first_inference_ms": summary.first_inference_ms,
        "peak_rss_mb": summary.peak_rss_mb,
        "power_avg_w": sensors.power_avg_w,
        "power_idle_w": sensors.power_idle_w,
        "energy_per_inference_mj": sensors.energy_per_inference_mj,
        "temp_max_c": sensors.temp_max_c,
        "throttled": sensors.throttled,
        "fidelity_cosine": summary.fidelity.get("cosine"),
        "fidelity_max_abs_err": summary.fidelity.get("max_abs_err"),
        "fidelity_mean_abs_err": summary.fidelity.get("mean_abs_err"),
        "fidelity_snr_db": summary.fidelity.get("snr_db"),
        "fidelity_top1_agreement": summary.fidelity.get("top1_agreement"),
        "accuracy_top1": summary.accuracy.get("top1"),
        "model_bytes": record.variant.get("file_bytes"),
        "format": record.format,
        "case_id": record.case_id,
        "error": record.problem,
    }


def format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else str(value)
    return str(value)

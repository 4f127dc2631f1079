"""The LoadGen scenarios with the real MLPerf LoadGen: on the null backend with a known service time (checked
against queueing theory), and on a shipped model through the whole ``edgebench run``.

The null backend's ``sleep_us`` is the service time: it releases the CPU (as an inference on an accelerator
does), so two streams really serve in parallel on this 2-core, shared machine. The runs are shortened (a few
seconds), and the records say so. No assertion is on a time this machine's load could move by itself: every
expected figure is computed from the service time the run itself measured.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from edgebench.config.fields import Table
from edgebench.config.loadgen_settings import LoadgenSettings
from edgebench.results.summary import case_summary
from edgebench.wire import Case, RunRules
from edgebench.worker.main import run_case
from tests.conftest import MODELS, REPO, write

pytestmark = [pytest.mark.slow]
pytest.importorskip("mlperf_loadgen", reason="MLPerf LoadGen is not installed: pip install 'edgebench[loadgen]'")

RULES = RunRules(warmup_iterations=20, warmup_seconds=0.1)


def _null_case(scenario: str, sleep_us: int, streams: int, batch: int = 1, **loadgen: Any) -> Case:
    settings = LoadgenSettings.parse(Table(loadgen, "test"), scenario)
    return Case(case_id=f"null.{scenario}", model="none", precision="fp32", format="none", model_path="none",
                model_sha256="", backend="null", settings={"sleep_us": sleep_us}, scenario=scenario, batch=batch,
                rules=RULES, concurrency=streams, loadgen=settings.to_json())


def _service_s(result: dict) -> float:
    """The mean service time the run measured (the sleep and its overshoot on this machine)."""
    return statistics.fmean(result["latency_ns"]) / 1e9


def test_offline_throughput_is_streams_over_the_service_time() -> None:
    result = run_case(_null_case("offline", sleep_us=5000, streams=2, batch=2, min_duration_s=2.0))
    assert result["status"] == "ok", result.get("error")
    loadgen = result["loadgen"]
    assert loadgen["valid"], loadgen["invalid_reason"]
    assert loadgen["shortened"] and loadgen["streams"] == 2
    expected = 2 * 2 / _service_s(result)  # streams x batch / service time
    achieved = loadgen["result"]["samples_per_s"]
    print(f"\n[offline] 2 streams x batch 2, service {_service_s(result) * 1e3:.3f} ms: {achieved:.1f} samples/s, "
          f"expected {expected:.1f} ({achieved / expected - 1:+.2%})")
    # what is lost: LoadGen's per-sample completion call and the queue hand-over between two inferences
    assert achieved == pytest.approx(expected, rel=0.05)
    assert set(result["loadgen_logs"]) == {"mlperf_log_summary.txt", "mlperf_log_detail.txt"}
    assert "Result is : VALID" in result["loadgen_logs"]["mlperf_log_summary.txt"]


def _md_c_p_quantile_finite(qps: float, service_s: float, servers: int, quantile: float, duration_s: float,
                            seeds: int = 300) -> list[float]:
    """Response-time quantiles of an M/D/c FIFO queue over ``seeds`` runs of ``duration_s`` from empty.

    With equal service times and FIFO, customer i starts at max(arrival_i, start_{i-c} + D) (the server that the
    customer c places ahead frees first), so each residue class mod c is a Lindley recursion, solved in closed
    form with a running maximum. Short runs are simulated as LoadGen runs them (from an empty queue, for
    ``duration_s``), since a p99 over a few thousand queries scatters much more than the steady state's.
    """
    import numpy as np

    out = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        arrivals = np.cumsum(rng.exponential(1 / qps, int(qps * duration_s * 1.5) + 10))
        arrivals = arrivals[arrivals < duration_s]
        starts = np.empty_like(arrivals)
        for k in range(servers):
            a = arrivals[k::servers]
            j = np.arange(len(a))
            starts[k::servers] = j * service_s + np.maximum.accumulate(a - j * service_s)
        out.append(float(np.quantile(starts - arrivals + service_s, quantile)))
    return out


def _qps_where_pass_rate_is(rate: float, bound_s: float, **queue: Any) -> float:
    """Bisection on QPS for the rate at which short runs meet the bound (0.5: the median run's answer)."""
    lo, hi = 0.0, queue["servers"] / queue["service_s"]
    for _ in range(22):
        mid = (lo + hi) / 2
        passes = sum(q <= bound_s for q in _md_c_p_quantile_finite(mid, **queue)) / queue.get("seeds", 300)
        lo, hi = (mid, hi) if passes >= rate else (lo, mid)
    return lo


def test_server_search_converges_on_the_md_c_answer() -> None:
    """Two streams, a 5 ms service time, p99 <= 25 ms: an M/D/2 queue.

    Tolerance: the answer must lie between the QPS at which 99 % of simulated runs of the same length meet the
    bound and the one at which 1 % do (a short run's p99 scatters: that band is the honest uncertainty of
    one noisy bisection), widened by the search's final bracket and by 5 % for what the queue model leaves
    out (the hand-over between LoadGen's issue thread and the streams, and this shared machine's scheduling).
    """
    duration_s, bound_ms = 3.0, 25.0
    result = run_case(_null_case("server", sleep_us=5000, streams=2, min_duration_s=duration_s,
                                 latency_bound_ms=bound_ms, max_trials=7, early_stopping=False))
    assert result["status"] == "ok", result.get("error")
    loadgen = result["loadgen"]
    served = loadgen["served_qps"]
    assert served is not None, loadgen["invalid_reason"]
    queue = {"service_s": _service_s(result), "servers": 2, "quantile": 0.99, "duration_s": duration_s}
    known = _qps_where_pass_rate_is(0.5, bound_ms / 1e3, **queue)
    low = _qps_where_pass_rate_is(0.99, bound_ms / 1e3, **queue)
    high = _qps_where_pass_rate_is(0.01, bound_ms / 1e3, **queue)
    lo, hi = loadgen["bracket_qps"]
    resolution = hi - lo
    print(f"\n[server search] service {queue['service_s'] * 1e3:.3f} ms x 2 streams, p99 <= {bound_ms} ms: "
          f"served {served:.1f} QPS; M/D/2 for {duration_s:g} s runs: {known:.1f} QPS (1-99 % band "
          f"{low:.1f}-{high:.1f}), trials {[round(t['target_qps'], 1) for t in loadgen['trials']]}")
    assert len(loadgen["trials"]) == 7
    assert low * 0.95 - resolution <= served <= high * 1.05 + resolution
    # every trial is kept, with LoadGen's verdict; the served one met the bound
    passed = [t for t in loadgen["trials"] if t["passed"]]
    assert served == max(t["target_qps"] for t in passed)
    assert all(t["latency_ns"]["p99_ns"] <= bound_ms * 1e6 for t in passed)
    assert all(t["invalid_reason"] for t in loadgen["trials"] if not t["valid"])


def test_an_invalid_run_is_recorded_as_invalid_with_loadgens_reason_never_as_a_result() -> None:
    # 8 samples per query on one 5 ms stream: 40 ms a query, far too few queries in 0.5 s for early stopping
    result = run_case(_null_case("multistream", sleep_us=5000, streams=1, min_duration_s=0.5, min_query_count=1))
    assert result["status"] == "ok", result.get("error")
    loadgen = result["loadgen"]
    assert loadgen["valid"] is False
    assert "early stopping" in loadgen["invalid_reason"]
    assert "Result is : INVALID" in result["loadgen_logs"]["mlperf_log_summary.txt"]
    summary = case_summary(result)
    assert summary["loadgen"]["valid"] is False and summary["throughput_ips"] is None
    assert summary["loadgen"]["invalid_reason"] == loadgen["invalid_reason"]


def _edgebench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgebench", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600)


def test_shipped_model_through_edgebench_run(tmp_path: Path) -> None:
    suite = write(tmp_path / "lg.toml", textwrap.dedent(f"""
        name = "loadgen-shipped"
        [rules]
        warmup_iterations = 20
        warmup_seconds = 0.1
        [[models]]
        name = "kws_dscnn"
        precision = "int8"
        path = "{MODELS / 'kws_dscnn_int8.onnx'}"
        [[backends]]
        name = "onnxruntime"
        threads = 1
        [[scenarios]]
        name = "offline"
        batch = 4
        min_duration_s = 1.0
        [[scenarios]]
        name = "server"
        latency_bound_ms = 50
        min_duration_s = 1.0
        max_trials = 3
        [[scenarios]]
        name = "single_stream"
        loadgen = true
        min_duration_s = 1.0
        """))
    out = tmp_path / "run"
    proc = _edgebench("run", "--profile", "local", "--suite", str(suite), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "run.json").read_text())
    records = {r["scenario"]: r for r in doc["cases"]}
    assert set(records) == {"offline", "server", "single_stream"}
    for record in records.values():
        assert record["status"] == "ok", record.get("error")
        loadgen = record["summary"]["loadgen"]
        assert loadgen["shortened"] is True
        logs = out / "cases" / f"{record['case_id']}.loadgen"
        summary_text = (logs / "mlperf_log_summary.txt").read_text()
        assert ("Result is : VALID" in summary_text) == loadgen["valid"]
        assert (logs / "mlperf_log_detail.txt").stat().st_size > 0
    server = records["server"]["summary"]["loadgen"]
    assert len(server["trials"]) == 3
    if server["valid"]:
        assert server["served_qps"] == max(t["target_qps"] for t in server["trials"] if t["passed"])
    report = _edgebench("report", str(out), "--format", "md", "-o", str(tmp_path / "report.md"))
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "report.md").read_text()
    assert "### Server search: kws\\_dscnn onnxruntime int8 threads=1 server b1" in text  # Markdown-escaped
    assert ("| served QPS |" in text.replace("served QPS | QPS per W", "served QPS |")) == server["valid"]
    gate = _edgebench("compare", str(out), str(out), "--fail-on", "server.qps:-5%",
                      "--fail-on", "offline.throughput:-5%")
    assert gate.returncode in (0, 4), gate.stdout + gate.stderr  # 4 only when LoadGen called a run invalid


def test_energy_per_query_is_measured_over_the_served_trial(tmp_path: Path) -> None:
    """The same sensors sample during the LoadGen runs; energy is per query of the served (reported) trial."""
    from edgebench.config.profile import load_profile
    from edgebench.config.suite import load_suite
    from edgebench.harness import runner
    from edgebench.results.store import RunStore
    from tests.fixtures.sensors.sysfs_trees import RAPL_ZONE, build_intel_rapl
    from tests.integration.test_sensors_run import WRAP_UJ, RaplDriver, raw_cases

    tree = build_intel_rapl(tmp_path / "intel")
    write(tree / RAPL_ZONE.lstrip("/") / "max_energy_range_uj", f"{WRAP_UJ}\n")
    profile = load_profile(write(tmp_path / "fake-intel.toml", textwrap.dedent(f"""
        name = "fake-intel"
        [transport]
        kind = "local"
        [backends.null]
        [sensors]
        expected = ["rapl"]
        root = "{tree}"
        period_ms = 20
        idle_seconds = 0.2
        total_power_channel = "rapl.package_0_uj"
        """)))
    # the null backend never loads the model, but its file is checked like any other: a real one
    (tmp_path / "models").mkdir(parents=True, exist_ok=True)
    (tmp_path / "models" / "none.onnx").write_bytes((MODELS / "kws_dscnn_int8.onnx").read_bytes())
    suite = load_suite(write(tmp_path / "s.toml", textwrap.dedent("""
        [rules]
        warmup_iterations = 20
        warmup_seconds = 0.05
        [[models]]
        name = "none"
        path = "models/none.onnx"
        [[backends]]
        name = "null"
        sleep_us = 2000
        [[scenarios]]
        name = "server"
        latency_bound_ms = 20
        min_duration_s = 1.0
        max_trials = 3
        early_stopping = false   # a 1 s run has too few queries for LoadGen's early-stopping estimate of p99
        """)))
    out = tmp_path / "run"
    with RaplDriver(tree):
        runner.run(suite, profile, out, runner.RunOptions())
    (case_id, raw), = raw_cases(out).items()
    assert raw["status"] == "ok", raw.get("error")
    served = next(t for t in raw["loadgen"]["trials"] if t["trial"] == raw["loadgen"]["served_trial"])
    marks = dict(raw["sensors"]["marks"])
    assert (marks["loop_start"], marks["loop_end"]) == (served["started_ns"], served["ended_ns"])
    summary = RunStore.open(out).record(case_id)["summary"]["sensors"]
    loop_s = (served["ended_ns"] - served["started_ns"]) / 1e9
    assert summary["energy_per_inference_mj"] == pytest.approx(
        summary["power_avg_w"] * 1000 * loop_s / raw["iterations"], rel=1e-6)
    assert raw["iterations"] == len(raw["latency_ns"]) >= served["query_count"]

"""``processes = N``: every case runs in N real worker processes, in rounds interleaved across cases; each
process is stored as it lands, so an interrupted run resumes at the first missing process."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from edgebench.results.store import RunStore
from tests.conftest import REPO, write

pytestmark = pytest.mark.slow


def _suite(tmp_path: Path, tiny_onnx: Path, seconds: float) -> Path:
    return write(tmp_path / "p.toml", textwrap.dedent(f"""
        name = "processes"
        [rules]
        warmup_iterations = 1
        warmup_seconds = 0
        min_iterations = 20
        min_seconds = {seconds}
        max_seconds = {seconds}
        processes = 3
        [[models]]
        name = "tiny"
        path = "{tiny_onnx}"
        [[backends]]
        name = "null"
        busy_wait_us = [20, 40]
        """))


def _parts(out: Path, case_id: str, count: int) -> list[dict]:
    return [json.loads(gzip.decompress((out / "cases" / f"{case_id}.p{k}.json.gz").read_bytes())) for k in range(count)]


def test_each_case_runs_in_n_processes_interleaved_in_rounds(tmp_path, tiny_onnx):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "edgebench", "run", "--profile", "local", "--suite",
                           str(_suite(tmp_path, tiny_onnx, 0.1)), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    store = RunStore.open(out)
    order = []
    for record in store.records():
        cid = record["case_id"]
        assert record["status"] == "ok" and record["processes_done"] == 3
        raw = store.load_raw(cid)
        parts = _parts(out, cid, 3)
        assert len({p["started_at"] for p in parts}) == 3  # three worker processes, started one after another
        assert [p["latency_ns"] for p in raw["processes"]] == [p["latency_ns"] for p in parts]
        assert raw["latency_ns"] == [v for p in parts for v in p["latency_ns"]]  # old readers: all samples
        assert raw["peak_rss_bytes"] == max(p["peak_rss_bytes"] for p in parts)
        order += [(p["sequence"], p["process_index"], cid) for p in parts]
        summary = store.case(cid).summary
        assert summary.processes.count == 3 and len(summary.processes.p50_ns) == 3
        assert set(summary.processes.ci_ns) == {"p50", "p90", "p99", "mean"}
        assert record["summary"]["latency"]["ci_method"].startswith("two-level bootstrap")
    # rounds: process k of every case before process k + 1 of any
    assert [index for _, index, _ in sorted(order)] == [0, 0, 1, 1, 2, 2]
    assert store.run_info.environment.timer_resolution_ns and store.run_info.environment.timer_resolution_ns > 0


def test_an_interrupted_run_resumes_at_the_first_missing_process(tmp_path, tiny_onnx):
    out = tmp_path / "run"
    suite = _suite(tmp_path, tiny_onnx, 0.6)
    proc = subprocess.Popen([sys.executable, "-m", "edgebench", "run", "--profile", "local", "--suite", str(suite),
                             "--out", str(out)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:  # stop once two processes are stored, in the middle of the rounds
        if (out / "run.json").exists():
            try:
                if (json.loads((out / "run.json").read_text()).get("processes_started") or 0) >= 2:
                    break
            except ValueError:
                pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    interrupted = RunStore.open(out)
    done_before = {r["case_id"]: r.get("processes_done", 0) for r in interrupted.records()}
    assert 2 <= sum(done_before.values()) < 6 and all(r["status"] == "pending" for r in interrupted.records())
    kept = {(cid, k): (out / "cases" / f"{cid}.p{k}.json.gz").read_bytes()
            for cid, n in done_before.items() for k in range(n)}
    resumed = subprocess.run([sys.executable, "-m", "edgebench", "run", "--resume", str(out)], cwd=REPO,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    store = RunStore.open(out)
    assert [r["status"] for r in store.records()] == ["ok", "ok"]
    assert all(r["processes_done"] == 3 for r in store.records())
    for (cid, k), data in kept.items():  # stored processes were not run again
        assert (out / "cases" / f"{cid}.p{k}.json.gz").read_bytes() == data
    for cid in done_before:
        assert len(store.load_raw(cid)["processes"]) == 3

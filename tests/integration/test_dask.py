"""The Dask farm against a real scheduler and ``edgebench agent`` workers, each a separate process."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import DaskCluster, descendants, edgebench, null_suite, profile

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]
LOCAL = '[transport]\nkind = "local"'


def records(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "run.json").read_text())["cases"]


def raw(run_dir: Path, case_id: str) -> dict:
    return json.loads(gzip.decompress((run_dir / "cases" / f"{case_id}.json.gz").read_bytes()))


def dask_profile(directory: Path, name: str, cluster: DaskCluster, timeout_s: float) -> Path:
    return profile(directory, name, f'[transport]\nkind = "dask"\nscheduler = "{cluster.address}"\n'
                                    f"no_worker_timeout_s = {timeout_s}\n")


def test_a_dozen_cases_over_two_devices_never_overlap_on_one_device(dask_cluster: DaskCluster,
                                                                      tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite", threads="[1, 2, 3]", min_seconds=0.05, max_seconds=0.05)
    a = profile(tmp_path, "devA", LOCAL)
    b = profile(tmp_path, "devB", LOCAL)
    dask_cluster.start_agent(a, "agentA")
    dask_cluster.start_agent(b, "agentB")
    run_dir = tmp_path / "run"
    done = edgebench("run", "--cluster", dask_cluster.address, "--profile", str(a), "--profile", str(b),
                     "--suite", str(suite), "--out", str(run_dir))
    assert done.returncode == 0, done.stderr
    cases = records(run_dir)
    assert len(cases) == 12 and {c["status"] for c in cases} == {"ok"}
    assert {c["device"] for c in cases} == {"devA", "devB"}
    for device in ("devA", "devB"):
        spans = sorted((c["started_at"], c["finished_at"]) for c in cases if c["device"] == device)
        assert len(spans) == 6
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end, f"two cases overlapped on {device}"
        workers = {raw(run_dir, c["case_id"])["dask_worker"] for c in cases if c["device"] == device}
        assert len(workers) == 1  # one device, one worker
    # the model was written once into each agent's cache, by sha256
    sha = cases[0]["model_sha256"]
    assert (dask_cluster.dir / "cache-agentA" / sha / "m.onnx").is_file()
    assert (dask_cluster.dir / "cache-agentB" / sha / "m.onnx").is_file()
    # a model not yet in an agent's cache is an expected answer, not a failure: no traceback in the agents' logs
    for name in ("agentA", "agentB"):
        log = (dask_cluster.dir / f"agent-{name}.log").read_text()
        assert "Compute Failed" not in log and "ModelMissing" not in log, log[-2000:]


def test_a_worker_killed_mid_case_has_its_case_retried(dask_cluster: DaskCluster, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite", threads="[1, 2]", min_seconds=0.4, max_seconds=0.4)
    k = dask_profile(tmp_path, "devK", dask_cluster, timeout_s=30)
    agent = dask_cluster.start_agent(k, "agentK1")
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "edgebench", "run", "--cluster", dask_cluster.address,
                             "--profile", str(k), "--suite", str(suite), "--out", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    in_flight: list[int] = []
    while time.monotonic() < deadline:
        if (run_dir / "run.json").exists() and any(r["status"] == "ok" for r in records(run_dir)):
            in_flight = descendants(agent.pid)  # the worker process of the running case
            if in_flight:
                break
        time.sleep(0.02)
    assert in_flight, "no case was running on the agent"
    before = {r["case_id"] for r in records(run_dir) if r["status"] == "ok"}
    dask_cluster.kill_agent("agentK1")
    dask_cluster.start_agent(k, "agentK2")
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr
    cases = records(run_dir)
    assert len(cases) == 4 and {c["status"] for c in cases} == {"ok"}
    rerun = [c["case_id"] for c in cases if c["case_id"] not in before]
    workers = {raw(run_dir, case)["dask_worker"] for case in rerun}
    assert len(workers) == 1 and len(rerun) >= 1  # the killed case (and the rest) ran on the new agent
    spans = sorted((c["started_at"], c["finished_at"]) for c in cases)
    assert all(start >= end for (_, end), (start, _) in zip(spans, spans[1:]))


def test_a_profile_with_no_worker_fails_within_its_timeout_and_resume_finishes(dask_cluster: DaskCluster,
                                                                                 tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite", threads="[1]", min_seconds=0.05, max_seconds=0.05)
    a = profile(tmp_path, "devA", LOCAL)
    if "agentA" not in dask_cluster.agents:
        dask_cluster.start_agent(a, "agentA")
    ghost = dask_profile(tmp_path, "devGhost", dask_cluster, timeout_s=3)
    run_dir = tmp_path / "run"
    started = time.monotonic()
    done = edgebench("run", "--cluster", dask_cluster.address, "--profile", str(a), "--profile", str(ghost),
                     "--suite", str(suite), "--out", str(run_dir), timeout=60)
    assert time.monotonic() - started < 25
    assert done.returncode == 1, done.stderr
    assert "devGhost: no Dask worker offers resource edgebench-devGhost" in done.stderr
    # the hint names the profile as it was given (a path here), so it can be pasted on the device
    assert f"edgebench agent --scheduler {dask_cluster.address} --profile {ghost}" in done.stderr
    by_device = {}
    for record in records(run_dir):
        by_device.setdefault(record["device"], set()).add(record["status"])
    assert by_device == {"devA": {"ok"}, "devGhost": {"lost"}}

    dask_cluster.start_agent(ghost, "agentGhost")
    done = edgebench("run", "--resume", str(run_dir), timeout=60)
    assert done.returncode == 0, done.stderr
    assert {r["status"] for r in records(run_dir)} == {"ok"}

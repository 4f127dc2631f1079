"""The Dask farm against a real scheduler and ``edgebench agent`` workers, each a separate process."""

from __future__ import annotations

import csv
import gzip
import io
import json
import socket
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


def meter_profile(directory: Path, name: str, tree: Path, channel: str) -> Path:
    """A local device whose sensors read ``tree`` (one hwmon power meter with two inputs), its total power being
    ``channel``; both devices of the farm below read the same tree, each its own channel."""
    path = directory / f"{name}.toml"
    path.write_text(f'name = "{name}"\n{LOCAL}\n[backends.null]\n[sensors]\nexpected = ["hwmon"]\nroot = "{tree}"\n'
                    f'period_ms = 20\ntotal_power_channel = "{channel}"\n')
    return path


def test_each_farm_device_reads_its_own_total_power_channel(dask_cluster: DaskCluster, tmp_path: Path) -> None:
    """A farm run keeps each device's profile: a case's power comes from its own device's total channel (it
    came from the farm's, which has none, so every device got the first power channel found), and show, the
    CSVs and the reports name each case's own device, not ``farm``."""
    tree = tmp_path / "tree"
    meter = tree / "sys/class/hwmon/hwmon0"
    meter.mkdir(parents=True)
    for name, text in (("name", "meter"), ("power1_label", "board_a"), ("power1_input", "2000000"),
                       ("power2_label", "board_b"), ("power2_input", "7000000")):  # uW: 2 W and 7 W
        (meter / name).write_text(text + "\n")
    suite = null_suite(tmp_path / "suite", threads="[1]", min_seconds=0.3, max_seconds=0.3)
    low = meter_profile(tmp_path, "meterLow", tree, "hwmon.meter_board_a_mw")
    high = meter_profile(tmp_path, "meterHigh", tree, "hwmon.meter_board_b_mw")
    dask_cluster.start_agent(low, "agentLow")
    dask_cluster.start_agent(high, "agentHigh")
    run_dir = tmp_path / "run"
    done = edgebench("run", "--cluster", dask_cluster.address, "--profile", str(low), "--profile", str(high),
                     "--suite", str(suite), "--out", str(run_dir))
    assert done.returncode == 0, done.stderr
    cases = records(run_dir)
    assert len(cases) == 4 and {c["status"] for c in cases} == {"ok"}
    watts = {"meterLow": 2.0, "meterHigh": 7.0}
    for case in cases:
        figures = case["summary"]["sensors"]
        assert figures["details"]["energy"]["channels"] == [
            "hwmon.meter_board_a_mw" if case["device"] == "meterLow" else "hwmon.meter_board_b_mw"]
        assert figures["power_avg_w"] == pytest.approx(watts[case["device"]])

    with (run_dir / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((r["device"], float(r["power_avg_w"])) for r in rows) == [
        ("meterHigh", 7.0), ("meterHigh", 7.0), ("meterLow", 2.0), ("meterLow", 2.0)]

    shown = edgebench("show", str(run_dir), "--wide")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].startswith(f"farm of 2 devices ({dask_cluster.address})")
    host = socket.gethostname()
    for name in ("meterLow", "meterHigh"):
        assert any(line.startswith(f"  device {name} on {host}: ") for line in lines), shown.stdout
    header = lines[4].split()
    assert header[0] == "device" and sorted(line.split()[0] for line in lines[6:10]) == [
        "meterHigh", "meterHigh", "meterLow", "meterLow"]
    assert "None" not in shown.stdout

    report = edgebench("report", str(run_dir), "--format", "csv")
    assert report.returncode == 0, report.stderr
    reported = list(csv.DictReader(io.StringIO(report.stdout)))
    assert sorted(r["device"] for r in reported) == ["meterHigh", "meterHigh", "meterLow", "meterLow"]
    assert sorted(float(r["power_avg_w"]) for r in reported) == [2.0, 2.0, 7.0, 7.0]
    assert {(r["device"], r["host"]) for r in reported} == {("meterLow", host), ("meterHigh", host)}
    assert {(r["device"], r["host"]) for r in rows} == {("meterLow", host), ("meterHigh", host)}  # summary.csv
    # every format names both devices and the host each ran on (the Devices section), the Markdown and HTML
    # results tables in a column of their own
    for fmt, device_row in (("md", "| {name} | run | {host} |"),
                            ("html", "<td>{name}</td><td>run</td><td>{host}</td>")):
        text = edgebench("report", str(run_dir), "--by", "backend", "--format", fmt)
        assert text.returncode == 0, text.stderr
        for name in ("meterLow", "meterHigh"):
            assert device_row.format(name=name, host=host) in text.stdout
        assert ("| backend | device | settings |" if fmt == "md" else "<th>backend</th><th>device</th>") in text.stdout
    document = json.loads(edgebench("report", str(run_dir), "--format", "json").stdout)
    assert [(d["name"], d["host"]) for d in document["devices"]] == [("meterLow", host), ("meterHigh", host)]

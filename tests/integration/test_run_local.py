"""The whole local path on real runtimes: worker processes, crashes, the run directory, resume."""

from __future__ import annotations

import csv
import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from edgebench.analysis.stats import summarize
from edgebench.config.profile import load_profile
from edgebench.config.suite import load_suite
from edgebench.errors import ResultsError
from edgebench.harness import runner
from edgebench.results.store import RunStore
from edgebench.results.summary import CSV_COLUMNS
from edgebench.transports import make_transport
from tests.conftest import REPO, write

pytestmark = pytest.mark.slow

RULES = """
[rules]
warmup_iterations = 2
warmup_seconds = 0
min_iterations = 20
min_seconds = 0.05
max_seconds = 0.3
"""

REQUIRED_CSV = ("device, model, backend, precision, threads, scenario, batch, status, n, latency_mean_ms, "
                "latency_p50_ms, latency_p90_ms, latency_p99_ms, latency_min_ms, latency_max_ms, throughput_ips, "
                "load_ms, first_inference_ms, peak_rss_mb").split(", ")


def run_cli(*args: str, cwd: Path = REPO, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgebench", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, **kwargs)


def test_run_onnxruntime_and_null_end_to_end(tmp_path, tiny_onnx):
    suite_path = write(tmp_path / "s.toml", RULES + textwrap.dedent("""
        [[models]]
        name = "tiny"
        path = "models/tiny.onnx"
        [[backends]]
        name = "onnxruntime"
        threads = [1, "all"]
        [[backends]]
        name = "null"
        busy_wait_us = 50
        [[backends]]
        name = "tflite"
        [[scenarios]]
        name = "single_stream"
        [[scenarios]]
        name = "batch"
        batch = 4
    """))
    out = tmp_path / "run"
    done = run_cli("run", "--profile", "local", "--suite", str(suite_path), "--out", str(out))
    assert done.returncode == 0, done.stderr
    store = RunStore.open(out)
    statuses = {r["case_id"]: r["status"] for r in store.records()}
    assert statuses["tiny.fp32.onnxruntime.threads=1.batch.b4"] == "ok"
    assert statuses["tiny.fp32.tflite.single_stream.b1"] == "skipped"
    assert sum(s == "ok" for s in statuses.values()) == 6
    assert store.document["schema_version"] == 1 and store.document["state"] == "complete"
    env = store.document["environment"]
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["cpu_count"] == len(os.sched_getaffinity(0))
    assert env["cpu_model"] and env["kernel"] and env["os"]
    import onnxruntime

    assert store.document["backends"]["onnxruntime"]["version"] == onnxruntime.__version__
    assert store.document["edgebench_version"] and store.document["suite"]["name"] == "s"
    ort = store.record("tiny.fp32.onnxruntime.threads=all.single_stream.b1")
    assert ort["runtime"]["providers_used"] == ["CPUExecutionProvider"]
    assert ort["runtime"]["intra_op_threads"] == len(os.sched_getaffinity(0))
    # every summary is recomputable from the raw samples
    raw = json.loads(gzip.decompress((out / ort["raw_file"]).read_bytes()))
    assert summarize(raw["latency_ns"]).to_json() == ort["summary"]["latency"]
    [fed] = raw["inputs"]  # what the model was fed: random normal values, one sample
    assert fed == {"name": "x", "dtype": "float32", "shape": [1, 32], "source": "random", "samples": 1,
                   "min": fed["min"], "max": fed["max"]} and fed["min"] < 0 < fed["max"]
    # the null backend's busy wait is what the harness measures
    null = store.record("tiny.fp32.null.busy_wait_us=50.single_stream.b1")["summary"]["latency"]
    assert 50_000 <= null["p50_ns"] < 60_000
    with (out / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert all(column in rows[0] for column in REQUIRED_CSV)
    batch_row = next(r for r in rows if r["case_id"] == "tiny.fp32.onnxruntime.threads=1.batch.b4")
    assert [batch_row[k] for k in ("device", "threads", "batch", "status")] == ["local", "1", "4", "ok"]
    assert float(batch_row["throughput_ips"]) == pytest.approx(4e3 / float(batch_row["latency_mean_ms"]), rel=1e-4)
    shown = run_cli("show", str(out))
    assert shown.returncode == 0 and "tiny" in shown.stdout and "skipped: tiny.fp32.tflite" in shown.stdout


CRASHY = '''
import ctypes, os, signal
from edgebench.backends.null_backend import NullBackend, NullSession

class CrashSession(NullSession):
    def __init__(self, how):
        super().__init__(0)
        self.how = how
    def run(self):
        if self.how == "segfault":
            ctypes.string_at(0)
        elif self.how == "abort":
            os.abort()
        raise RuntimeError("the runtime refused: tensor arena too small")

class CrashBackend(NullBackend):
    name = "crashy"
    settings_schema = {"how": (str,)}
    def load(self, model_path, settings):
        return CrashSession(settings["how"])
'''


@pytest.fixture
def crashy_plugin(tmp_path, monkeypatch):
    """A real backend plugin, registered through an entry point of an installed-looking distribution."""
    site = tmp_path / "site"
    write(site / "crashy_backend.py", CRASHY)
    write(site / "crashy-1.0.dist-info" / "METADATA", "Metadata-Version: 2.1\nName: crashy\nVersion: 1.0\n")
    write(site / "crashy-1.0.dist-info" / "entry_points.txt",
          "[edgebench.backends]\ncrashy = crashy_backend:CrashBackend\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    return site


def test_a_crashing_worker_fails_its_case_and_the_run_goes_on(tmp_path, tiny_onnx, crashy_plugin):
    suite_path = write(tmp_path / "s.toml", RULES + textwrap.dedent("""
        [[models]]
        name = "tiny"
        path = "models/tiny.onnx"
        [[backends]]
        name = "crashy"
        how = ["segfault", "abort", "exception"]
        [[backends]]
        name = "null"
    """))
    profile = load_profile("local")
    from dataclasses import replace

    profile = replace(profile, backends={})  # the local profile lists its backends; this one is a plugin
    store = runner.run(load_suite(suite_path), profile, tmp_path / "run", runner.RunOptions())
    records = {r["case_id"]: r for r in store.records()}
    segv = records["tiny.fp32.crashy.how=segfault.single_stream.b1"]
    assert segv["status"] == "failed"
    assert segv["error"].startswith("worker killed by signal SIGSEGV (11)")
    abort = records["tiny.fp32.crashy.how=abort.single_stream.b1"]
    assert abort["error"].startswith("worker killed by signal SIGABRT (6)")
    exc = records["tiny.fp32.crashy.how=exception.single_stream.b1"]
    assert exc["error"] == "RuntimeError: the runtime refused: tensor arena too small"
    assert records["tiny.fp32.null.single_stream.b1"]["status"] == "ok"
    assert store.document["state"] == "complete"
    raw = store.load_raw("tiny.fp32.crashy.how=segfault.single_stream.b1")
    assert raw["returncode"] == -11


def test_interrupted_run_keeps_finished_cases_and_resumes(tmp_path, tiny_onnx):
    suite_path = write(tmp_path / "s.toml", textwrap.dedent("""
        [rules]
        warmup_iterations = 1
        warmup_seconds = 0
        min_iterations = 10
        min_seconds = 1.0
        max_seconds = 1.0
        [[models]]
        name = "tiny"
        path = "models/tiny.onnx"
        [[backends]]
        name = "null"
        busy_wait_us = [10, 20, 30, 40]
    """))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "edgebench", "run", "--profile", "local", "--suite",
                             str(suite_path), "--out", str(out)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if (out / "run.json").exists() and any(
                r["status"] == "ok" for r in json.loads((out / "run.json").read_text())["cases"]):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert f"continue with: edgebench run --resume {out}" in stderr
    interrupted = RunStore.open(out)
    assert interrupted.document["state"] == "interrupted"
    finished = [r["case_id"] for r in interrupted.records() if r["status"] == "ok"]
    assert 1 <= len(finished) < 4
    kept = {cid: (out / interrupted.record(cid)["raw_file"]).read_bytes() for cid in finished}
    done = run_cli("run", "--resume", str(out))
    assert done.returncode == 0, done.stderr
    resumed = RunStore.open(out)
    assert [r["status"] for r in resumed.records()] == ["ok"] * 4
    assert resumed.document["state"] == "complete"
    for cid, data in kept.items():  # finished cases were not run again
        assert (out / resumed.record(cid)["raw_file"]).read_bytes() == data


def test_newer_schema_is_refused(tmp_path):
    write(tmp_path / "run.json", json.dumps({"schema_version": 99, "cases": []}))
    with pytest.raises(ResultsError) as info:
        RunStore.open(tmp_path)
    assert str(info.value) == (f"{tmp_path / 'run.json'}: schema_version 99 is newer than this edgebench reads (1); "
                               "upgrade edgebench")


def test_bad_profile_gives_one_line(tmp_path):
    done = run_cli("run", "--profile", "no-such-device")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edgebench: error: no-such-device: no such profile in ")


def test_resume_refuses_another_device_and_a_changed_model(tmp_path, tiny_onnx):
    suite_path = write(tmp_path / "s.toml", RULES + textwrap.dedent("""
        [[models]]
        name = "tiny"
        path = "models/tiny.onnx"
        [[backends]]
        name = "onnxruntime"
        threads = 1
    """))
    out = tmp_path / "run"
    profile = load_profile("local")
    with make_transport(profile) as transport:
        store, cases = runner.start_run(load_suite(suite_path), profile, out, runner.RunOptions(), transport)
    store.finish("interrupted")  # as if Ctrl-C came before the first case
    other = write(tmp_path / "other.toml", 'name = "other"\n')
    done = run_cli("run", "--resume", str(out), "--profile", str(other))
    assert done.returncode == 2
    assert done.stderr.strip() == (f"edgebench: error: {other}: name: the run in {out} was made on local, not other: "
                                   "resume it with --profile local")
    tiny_onnx.write_bytes(tiny_onnx.read_bytes() + b"\0")  # the model changed between the two sessions
    done = run_cli("run", "--resume", str(out))
    record = RunStore.open(out).record("tiny.fp32.onnxruntime.threads=1.single_stream.b1")
    assert record["status"] == "failed"
    assert record["error"].startswith(f"model file {tiny_onnx} changed since the run started (sha256 was ")
    assert done.returncode == 1


def test_corrupt_raw_file_and_unwritable_output_are_one_line_errors(tmp_path):
    from edgebench.results.store import RunStore as Store

    store = Store.create(tmp_path / "run", {"profile": {"name": "local"}},
                         [{"case_id": "c", "model": "m", "backend": "null", "precision": "fp32", "scenario": "s",
                           "batch": 1, "status": "pending"}])
    store.write_case({"case_id": "c", "status": "ok", "latency_ns": [1, 2, 3], "batch": 1})
    raw = tmp_path / "run" / "cases" / "c.json.gz"
    assert oct(raw.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    raw.write_bytes(raw.read_bytes()[:10])
    with pytest.raises(ResultsError) as info:
        store.load_raw("c")
    assert str(info.value).startswith(f"{raw}: raw samples unreadable (")
    done = run_cli("export", str(tmp_path / "run"), "--format", "pytest-benchmark", "-o", "/proc/nope/x.json")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("edgebench: error: ")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_concurrent_streams_on_both_runtimes(tmp_path):
    """The concurrent scenario: two sessions of a shipped model, each called back to back by its own thread."""
    models = REPO / "suites" / "models"
    suite_path = write(tmp_path / "c.toml", RULES + textwrap.dedent(f"""
        [[models]]
        name = "kws_dscnn"
        precision = "int8"
        path = ["{models}/kws_dscnn_int8.onnx", "{models}/kws_dscnn_int8.tflite"]
        [[backends]]
        name = "onnxruntime"
        threads = 1
        [[backends]]
        name = "tflite"
        threads = 1
        [[scenarios]]
        name = "concurrent"
        concurrency = 2
    """))
    out = tmp_path / "run"
    done = run_cli("run", "--profile", "local", "--suite", str(suite_path), "--out", str(out))
    assert done.returncode == 0, done.stderr
    store = RunStore.open(out)
    with (out / "summary.csv").open() as handle:
        rows = {r["case_id"]: r for r in csv.DictReader(handle)}
    for backend in ("onnxruntime", "tflite"):
        case_id = f"kws_dscnn.int8.{backend}.threads=1.concurrent.c2.b1"
        record = store.record(case_id)
        assert record["status"] == "ok" and record["concurrency"] == 2, record.get("error")
        raw = store.load_raw(case_id)
        assert len(raw["stream_iterations"]) == 2 and min(raw["stream_iterations"]) > 0
        assert sum(raw["stream_iterations"]) == len(raw["latency_ns"]) == record["summary"]["latency"]["n"]
        # streams overlap, so throughput is what finished over the loop's wall time, not 1 / mean latency
        expected = len(raw["latency_ns"]) * 1e9 / raw["loop_elapsed_ns"]
        assert record["summary"]["throughput_ips"] == pytest.approx(expected)
        assert rows[case_id]["concurrency"] == "2" and rows[case_id]["scenario"] == "concurrent"
    shown = run_cli("show", str(out))
    assert "streams" in shown.stdout.splitlines()[2]
    report = run_cli("report", str(out), "--by", "backend")
    assert report.returncode == 0 and "concurrent x2" in report.stdout

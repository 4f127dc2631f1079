"""The gate on real runs: the null backend busy-waits a known time, so a known slowdown must fail the gate
and a rerun of the same suite must pass it. Each run takes about a second."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import MODELS, REPO, write

pytestmark = pytest.mark.slow


def _suite(tmp_path: Path, busy_wait_us: int) -> Path:
    (tmp_path / "models").mkdir(exist_ok=True)  # not loaded by the null backend, but checked like any model
    shutil.copyfile(MODELS / "kws_dscnn_int8.onnx", tmp_path / "models" / "none.onnx")
    return write(tmp_path / f"null{busy_wait_us}.toml", textwrap.dedent(f"""
        name = "null-gate"
        [rules]
        warmup_iterations = 50
        warmup_seconds = 0.05
        min_iterations = 2000
        min_seconds = 0.4
        max_seconds = 0.8
        target_ci_rel_width = 0.002
        [[models]]
        name = "none"
        path = "models/none.onnx"
        [[backends]]
        name = "null"
        busy_wait_us = {busy_wait_us}
        [[scenarios]]
        name = "single_stream"
        """))


def _edgebench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgebench", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def _run(tmp_path: Path, busy_wait_us: int, name: str) -> Path:
    out = tmp_path / name
    done = _edgebench("run", "--profile", "local", "--suite", str(_suite(tmp_path, busy_wait_us)), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    return out


def test_busy_wait_100_vs_106_fails_and_a_rerun_passes(tmp_path):
    base = _run(tmp_path, 100, "base")
    rerun = _run(tmp_path, 100, "rerun")
    slow = _run(tmp_path, 106, "slow")

    same = _edgebench("compare", str(base), str(rerun), "--fail-on", "latency.p50:+5%@backend=null",
                      "--json", str(tmp_path / "same.json"))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "PASS" in same.stdout

    worse = _edgebench("compare", str(base), str(slow), "--fail-on", "latency.p50:+5%@backend=null",
                       "--junit", str(tmp_path / "junit.xml"), "--markdown", str(tmp_path / "summary.md"))
    assert worse.returncode == 1, worse.stdout + worse.stderr
    assert "WORSE" in worse.stdout and "REGRESSION" in worse.stdout
    assert "busy_wait_us=100" in worse.stdout and "busy_wait_us=106" in worse.stdout  # paired, and said so
    assert 'failures="1"' in (tmp_path / "junit.xml").read_text()
    assert "❌ regression" in (tmp_path / "summary.md").read_text()

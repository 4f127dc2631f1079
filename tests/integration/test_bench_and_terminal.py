"""``edgebench bench MODEL`` end to end on the shipped models, and what a run shows on a terminal and in a pipe."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.results.store import RunStore
from tests.conftest import MODELS, REPO

pytestmark = pytest.mark.slow

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]")


def plain_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(extra)
    return env


def edgebench(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """Through pipes: neither stdout nor stderr is a terminal."""
    return subprocess.run([sys.executable, "-m", "edgebench", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env=plain_env(), **kwargs)


def test_bench_an_onnx_file_is_a_run_like_any_other(tmp_path):
    out = tmp_path / "run"
    done = edgebench("bench", str(MODELS / "kws_dscnn_fp32.onnx"), "--fast", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"edgebench: 1 case of suite kws_dscnn on local -> {out}" in done.stderr
    assert re.search(r"^\[1/1\] ok      kws_dscnn\.fp32\.onnxruntime\.single_stream\.b1  p50 \S+ ms  n=\d+  \(\d+s\)$",
                     done.stderr, re.M), done.stderr
    assert "\x1b" not in done.stderr + done.stdout  # a pipe gets no escape codes
    store = RunStore.open(out)
    [record] = store.records()
    assert (record["status"], record["backend"], record["model"], record["precision"]) == (
        "ok", "onnxruntime", "kws_dscnn", "fp32")
    assert store.document["suite"]["name"] == "kws_dscnn" and store.document["fast"] is True
    assert store.document["command"][1:3] == ["bench", str(MODELS / "kws_dscnn_fp32.onnx")]
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["model", "prec", "backend"] and lines[0].endswith("peak MiB")
    assert f"run directory: {out}" in lines
    assert f"reports:       {out / 'report.md'}" in lines and f"               {out / 'report.html'}" in lines
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    assert any(line.startswith("  ") and "--fast" in line for line in lines)  # the warnings, one line each
    shown = edgebench("show", str(out))
    assert shown.returncode == 0 and "kws_dscnn  fp32  onnxruntime" in shown.stdout


def test_bench_a_tflite_file_over_a_matrix_of_threads_and_resume(tmp_path):
    out = tmp_path / "run"
    done = edgebench("bench", str(MODELS / "kws_dscnn_int8.tflite"), "--threads", "1,2", "--iterations", "30",
                     "--warmup", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    store = RunStore.open(out)
    ids = [r["case_id"] for r in store.records()]
    assert ids == ["kws_dscnn.int8.tflite.threads=1.single_stream.b1",
                   "kws_dscnn.int8.tflite.threads=2.single_stream.b1"]
    assert [r["summary"]["latency"]["n"] for r in store.records()] == [30, 30]  # --iterations: exactly
    assert "[2/2] ok" in done.stderr and ", ETA " in done.stderr  # after the first of two, an ETA
    # the run directory resumes as a suite's does
    store.mark(ids[1], "pending", None)
    kept = (out / store.record(ids[0])["raw_file"]).read_bytes()
    resumed = edgebench("run", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert "[1/1] ok      kws_dscnn.int8.tflite.threads=2" in resumed.stderr
    again = RunStore.open(out)
    assert [r["status"] for r in again.records()] == ["ok", "ok"]
    assert (out / again.record(ids[0])["raw_file"]).read_bytes() == kept


def test_bench_the_null_backend_measures_the_harness(tmp_path):
    out = tmp_path / "run"
    done = edgebench("bench", str(MODELS / "kws_dscnn_fp32.onnx"), "--backend", "null", "--set", "busy_wait_us=50",
                     "--iterations", "200", "--warmup", "0", "--sensors", "none", "--name", "harness", "--out",
                     str(out))
    assert done.returncode == 0, done.stderr
    [record] = RunStore.open(out).records()
    assert record["case_id"] == "harness.fp32.null.busy_wait_us=50.single_stream.b1"
    latency = record["summary"]["latency"]
    assert latency["n"] == 200 and latency["p50_ns"] >= 50_000
    assert "no power, energy or temperature readings" in done.stdout  # --sensors none: said at the end


def test_a_case_that_fails_exits_1_and_is_listed_at_the_end(tmp_path):
    out = tmp_path / "run"
    model = tmp_path / "cut.onnx"  # a model file cut short: its case fails (a bad model fails only its own cases)
    model.write_bytes((MODELS / "kws_dscnn_fp32.onnx").read_bytes()[:5000])
    done = edgebench("bench", str(model), "--batch", "4", "--fast", "--out", str(out))
    assert done.returncode == 1, done.stderr
    assert re.search(r"^  failed: cut\.fp32\.onnxruntime\.batch\.b4: <bench cut>: models\[0\]\.path: .*cut\.onnx is "
                     r"truncated",
                     done.stdout, re.M), done.stdout
    assert "1 warning" in done.stdout or "warnings:" in done.stdout


def test_a_bench_that_measures_nothing_exits_1(tmp_path):
    out = tmp_path / "run"
    done = edgebench("bench", str(MODELS / "kws_dscnn_fp32.onnx"), "--fast", "--out", str(out),
                     "--set", 'providers=["NoSuchExecutionProvider"]')
    assert done.returncode == 1, done.stderr
    assert re.search(r"^  skipped: kws_dscnn\.fp32\.onnxruntime\.providers=NoSuchExecutionProvider\.single_stream\.b1: "
                     r".*NoSuchExecutionProvider", done.stdout, re.M), done.stdout
    assert "nothing was measured: every case was skipped" in done.stderr


def test_bench_with_an_input_shape(tmp_path):
    out = tmp_path / "run"
    done = edgebench("bench", str(MODELS / "kws_dscnn_fp32.onnx"), "--input", "input:1x49x10x1", "--batch", "2",
                     "--fast", "--out", str(out))
    assert done.returncode == 0, done.stderr
    store = RunStore.open(out)
    [record] = store.records()
    raw = json.loads(gzip.decompress((out / record["raw_file"]).read_bytes()))
    assert [(i["name"], i["shape"]) for i in raw["inputs"]] == [("input", [2, 49, 10, 1])]
    assert store.document["suite"]["models"][0]["inputs"]["input"]["shape"] == [1, 49, 10, 1]


# -- a terminal ------------------------------------------------------------------------------------------------
def run_in_pty(args: list[str], cwd: Path, columns: int = 80, block_rich: bool = False) -> tuple[int, str]:
    """Run edgebench in ``cwd`` with stdout and stderr on a pseudo-terminal ``columns`` wide; (exit status, what
    it drew). The checkout's code runs (PYTHONPATH), its suites and profiles are found from anywhere."""
    import fcntl
    import pty
    import struct
    import termios

    code = "import sys\n"
    if block_rich:
        code += "sys.modules['rich'] = None  # as if rich were not installed\n"
    code += "from edgebench.cli.main import main\nsys.exit(main(sys.argv[1:]))\n"
    env = plain_env(COLUMNS=str(columns), LINES="24", TERM="xterm-256color",
                    PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
    pid, fd = pty.fork()
    if pid == 0:  # the child: its terminal is the pty
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-c", code, *args], env)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def screen_lines(drawn: str) -> list[str]:
    """Every piece of text the terminal showed on one row, escape codes taken out."""
    return [ANSI.sub("", part) for part in re.split(r"[\r\n]", drawn)]


@pytest.mark.parametrize("block_rich", [False, True], ids=["rich", "plain-terminal"])
def test_progress_and_table_on_an_80_column_terminal(tmp_path, block_rich):
    if not block_rich:
        pytest.importorskip("rich")
    # run where a short path leads to the run directory, as reports/<time>-local-smoke does
    status, drawn = run_in_pty(["run", "--profile", "local", "--suite", "smoke", "--fast", "--out", "run"],
                               cwd=tmp_path, block_rich=block_rich)
    assert status == 0, drawn
    lines = screen_lines(drawn)
    too_wide = [line for line in lines if len(line) > 80]
    assert not too_wide, too_wide
    assert any(re.search(r"\[[2-5]/5\] \d+s, ETA \d+s", line) for line in lines), drawn  # the live line
    assert any(line.startswith("[5/5] ok ") for line in lines)
    assert any(line.startswith("every case: kws_dscnn, prec int8") for line in lines)  # the fitted table
    assert "run directory: run" in lines and "reports:       run/report.md" in lines
    assert ("\x1b[?25l" in drawn) == (not block_rich)  # rich hides the cursor while it draws; the plain line does not


def test_show_fits_the_terminal_and_wide_keeps_every_column(tmp_path):
    out = tmp_path / "run"
    assert edgebench("bench", str(MODELS / "kws_dscnn_fp32.onnx"), "--threads", "1,all", "--fast", "--out",
                     str(out)).returncode == 0
    status, drawn = run_in_pty(["show", "run"], cwd=tmp_path, columns=60)
    assert status == 0 and max(len(line) for line in screen_lines(drawn)) <= 60, drawn
    status, drawn = run_in_pty(["show", "run", "--wide"], cwd=tmp_path, columns=60)
    assert status == 0 and "p99 ms" in drawn and "onnxruntime" in drawn
    piped = edgebench("show", str(out))
    assert "p99 ms" in piped.stdout and max(len(line) for line in piped.stdout.splitlines()) > 60

"""What a run prints to a terminal: the ETA (on a fake clock), the progress lines, the table fitted to a width."""

from __future__ import annotations

import io
import re

import pytest

from edgebench.cli.progress import Eta, ProgressPrinter, case_line, fit_middle, format_duration, status_text
from edgebench.reporting.table import render_table
from edgebench.wire import Case, RunRules


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def case(case_id: str, min_seconds: float = 1.0, warmup_seconds: float = 0.0, duration_s: float | None = None,
         skip: str | None = None) -> Case:
    rules = RunRules(warmup_seconds=warmup_seconds, min_seconds=min_seconds, max_seconds=max(min_seconds, 10))
    return Case(case_id=case_id, model="m", precision="fp32", format="onnx", model_path="m.onnx", model_sha256="0",
                backend="null", settings={}, scenario="single_stream", rules=rules, duration_s=duration_s,
                skip_reason=skip)


def test_no_eta_before_a_case_has_finished_then_rules_plus_what_the_finished_took_beyond_them():
    clock = FakeClock()
    eta = Eta(clock)
    cases = [case("a"), case("b"), case("c", duration_s=60), case("d", skip="no runtime")]
    eta.plan(cases)
    assert eta.total == 4 and eta.remaining_s() is None
    eta.start(cases[0])
    clock.now += 3.0  # the rules ask for 1 s; starting and loading took 2 s more
    assert eta.remaining_s() is None
    eta.finish(cases[0], ran=True)
    # b: 1 + 2; c (sustained, 60 s): 60 + 2; the skipped d takes nothing
    assert eta.remaining_s() == pytest.approx(3 + 62)
    eta.start(cases[1])
    clock.now += 1.0
    assert eta.remaining_s() == pytest.approx(2 + 62)  # b is a second in
    clock.now += 5.0
    assert eta.remaining_s() == pytest.approx(0 + 62)  # b runs late: never below zero
    eta.finish(cases[1], ran=True)  # b took 6 s for 1 s of rules: 5 beyond; mean beyond is now 3.5
    assert eta.remaining_s() == pytest.approx(60 + 3.5)
    eta.finish(cases[3], ran=False)
    assert eta.done == 3 and eta.remaining_s() == pytest.approx(63.5)


def test_cases_at_once_divide_the_time_left():
    clock = FakeClock()
    eta = Eta(clock)
    cases = [case(str(i)) for i in range(6)]
    eta.plan(cases)
    eta.start(cases[0])
    eta.start(cases[1])  # a farm: two devices
    clock.now += 2.0
    eta.finish(cases[0], ran=True)
    eta.finish(cases[1], ran=True)
    assert eta.remaining_s() == pytest.approx(4 * 2.0 / 2)


def test_without_a_plan_the_count_and_the_finished_cases_give_the_eta():
    clock = FakeClock()
    eta = Eta(clock)
    eta.total = 3
    eta.start(case("a"))
    clock.now += 4.0
    eta.finish(case("a"), ran=True)
    assert eta.remaining_s() == pytest.approx(2 * 4.0 - 2 * 1.0)  # no rules known for the rest: 3 s beyond 0 s


def test_durations_and_status_text():
    assert [format_duration(s) for s in (0, 42.4, 65, 3725)] == ["0s", "42s", "1m05s", "1h02m"]
    clock = FakeClock()
    eta = Eta(clock)
    eta.plan([case("a"), case("b")])
    clock.now += 61
    assert status_text(eta) == "[1/2] 1m01s"


def test_case_lines_fit_a_width_keeping_both_ends_of_the_case_id():
    long_id = "mobilenetv2_035.int8.onnxruntime.graph_optimization=all.threads=1.single_stream.b1"
    assert fit_middle(long_id, 20) == "mobilenetv…stream.b1" or len(fit_middle(long_id, 20)) == 20
    assert fit_middle(long_id, 20).startswith("mobilenet") and fit_middle(long_id, 20).endswith("stream.b1")
    line = case_line("[3/40]", "ok", long_id, "p50 0.176 ms  n=5332", 79)
    assert len(line) <= 79 and line.startswith("[3/40] ok      mobilenet") and line.endswith("p50 0.176 ms  n=5332")
    assert case_line("[1/1]", "failed", "x", "boom") == "[1/1] failed  x  boom"


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def record(status: str = "ok", error: str | None = None) -> dict:
    summary = {"latency": {"p50_ns": 176_000, "n": 5332}} if status == "ok" else None
    return {"status": status, "summary": summary, "error": error}


def test_plain_lines_when_not_a_terminal():
    clock = FakeClock()
    stream = Stream(tty=False)
    progress = ProgressPrinter(stream=stream, clock=clock)
    cases = [case("m.a"), case("m.b"), case("m.c", skip="backend tflite is not installed")]
    progress.plan(cases)
    progress("skipped", cases[2], {"error": cases[2].skip_reason})
    progress("start", cases[0], None)
    clock.now += 2
    progress("done", cases[0], record())
    progress("start", cases[1], None)
    clock.now += 2
    progress("done", cases[1], record("failed", "RuntimeError: boom"))
    progress.close()
    assert stream.getvalue().splitlines() == [
        "[1/3] skipped m.c  backend tflite is not installed  (0s)",
        "[2/3] ok      m.a  p50 0.176 ms  n=5332  (2s, ETA 2s)",
        "[3/3] failed  m.b  RuntimeError: boom  (4s)",
    ]
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()


def test_a_terminal_without_rich_gets_one_redrawn_line_within_its_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    clock = FakeClock()
    stream = Stream(tty=True)
    progress = ProgressPrinter(stream=stream, clock=clock, use_rich=False)
    long_id = "vww_mobilenetv1_025.int8.onnxruntime.graph_optimization=all.threads=1.single_stream.b1"
    cases = [case(long_id), case(long_id + "x")]
    progress.plan(cases)
    progress("start", cases[0], None)
    clock.now += 3
    progress("done", cases[0], record())
    progress("start", cases[1], None)
    progress.close()
    text = stream.getvalue()
    screen = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", part) for part in re.split(r"[\r\n]", text)]
    assert max(len(part) for part in screen) <= 59
    # after a: b's 1 s of rules plus the 2 s a took beyond its own
    assert any(part.startswith("[2/2] 3s, ETA 3s  vww_mobilenet") for part in screen)
    assert text.endswith("\r\x1b[K")  # the live line is gone before the table


TABLE_ROWS = [
    {"model": model, "precision": precision, "backend": backend, "threads": 1, "scenario": scenario,
     "batch": 1 if scenario == "single_stream" else 8, "status": "ok", "n": 5332, "latency_p50_ms": 0.176,
     "latency_p90_ms": 0.214, "latency_p99_ms": 0.297, "throughput_ips": 5373.0, "peak_rss_mb": 70.93,
     "case_id": f"{model}.{precision}.{backend}.{scenario}"}
    for model in ("kws_dscnn", "vww_mobilenetv1_025") for precision in ("fp32", "int8")
    for backend in ("onnxruntime", "tflite") for scenario in ("single_stream", "batch")
]


def test_the_table_has_every_column_without_a_width_and_labels_mib():
    table = render_table(TABLE_ROWS)
    header = table.splitlines()[0].split()
    assert header[:4] == ["model", "prec", "backend", "thr"] and table.splitlines()[0].endswith("peak MiB")
    assert "p99 ms" in table and "single_stream" in table and "onnxruntime" in table


@pytest.mark.parametrize("width", [80, 60])
def test_the_table_fits_the_terminal_and_says_what_it_hid(width):
    table = render_table(TABLE_ROWS + [{**TABLE_ROWS[0], "status": "failed", "error": "boom " * 40,
                                        "case_id": "x"}], width=width)
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= width
    assert lines[0] == "every case: thr 1"  # the same in every row: said once
    assert "single " in lines[3] and "onnxrt" in lines[3]
    assert any("hidden to fit" in line for line in lines) and "report.md" in table
    assert "p50 ms" in lines[1] and ("peak MiB" in lines[1] or width < 80)
    assert any(line.startswith("failed: x: boom boom") for line in lines)


def test_one_case_fits_as_a_caption_and_its_figures():
    table = render_table(TABLE_ROWS[:1], width=80)
    assert table.splitlines()[0] == "every case: kws_dscnn, prec fp32, onnxruntime, thr 1, single_stream, b 1"
    assert table.splitlines()[1].split() == ["status", "n", "p50", "ms", "p90", "ms", "p99", "ms", "inf/s", "peak",
                                             "MiB"]
    assert "hidden" not in table

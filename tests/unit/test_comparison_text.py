"""The text ``edgebench compare`` prints (reporting/comparison_text.py), exactly, on seeded fixture runs."""

from __future__ import annotations

from pathlib import Path

from edgebench.analysis.compare import compare_runs
from edgebench.analysis.gates import parse_rules
from edgebench.reporting.comparison_text import render_text
from tests.run_fixtures import case, latency_samples, make_run

SLOW = "kws.fp32.onnxruntime.threads=1.single_stream.b1"
OTHER = "kws.fp32.onnxruntime.threads=2.single_stream.b1"


def comparison(tmp_path: Path):
    cases = [case("kws", "onnxruntime", 1), case("kws", "onnxruntime", 2)]
    base = make_run(tmp_path / "base", cases=cases)
    # the first case 50% slower: the same seeded samples make_run draws for it, scaled
    slow = {SLOW: [v * 3 // 2 for v in latency_samples(0, 400, 2_000_000, 200_000)]}
    current = make_run(tmp_path / "current", cases=cases, samples=slow)
    return compare_runs(base, current, parse_rules(["latency.p50:+5%", "memory.peak:+10%"]), labels=("a", "b"))


def test_text_lists_what_changed_and_counts_the_rest(tmp_path: Path) -> None:
    assert render_text(comparison(tmp_path)).splitlines() == [
        f"WORSE        {SLOW}  latency.p50:+5%  2.15 -> 3.23 ms +50.0%  "
        "(significant: the 99% interval of the p50 ratio current/baseline is [1.4842, 1.5156], above 1 "
        "(current slower); 1 vs 1 processes)",
        "noise floor unknown: the cases ran in one worker process each (processes = 5 in the suite's [rules] "
        "measures it, and lets tail and mean rules decide)",
        "3 checks unchanged (-v lists them)",
        "",
        "edgebench compare: REGRESSION (1 worse, 0 incomparable, 0 undecidable, 0 better, 3 same); exit 1",
    ]


def test_verbose_text_lists_the_unchanged_checks_too(tmp_path: Path) -> None:
    lines = render_text(comparison(tmp_path), verbose=True).splitlines()
    assert lines[1:4] == [
        f"SAME         {SLOW}  memory.peak:+10%  96.0 -> 96.0 MiB +0.0%  (within the threshold)",
        f"SAME         {OTHER}  latency.p50:+5%  2.15 -> 2.15 ms +0.0%  (within the threshold)",
        f"SAME         {OTHER}  memory.peak:+10%  96.0 -> 96.0 MiB +0.0%  (within the threshold)",
    ]
    assert "checks unchanged" not in "\n".join(lines)

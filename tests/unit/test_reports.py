"""Reports: golden Markdown, CSV and JSON (frozen time and versions, byte-stable), the comparison model,
HTML escaping and self-containment, the run reports `edgebench run` writes, and the report CLI.

Regenerate the golden files after an intended change with: EDGEBENCH_UPDATE_GOLDEN=1 pytest tests/unit/test_reports.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from edgebench.cli.main import main
from edgebench.reporting.csv_report import render_csv
from edgebench.reporting.json_report import render_json
from edgebench.reporting.markdown import md, render_comparison, render_report
from edgebench.reporting.model import build_model
from edgebench.reporting.run_reports import write_run_reports
from tests.run_fixtures import case, hardware_runs, latency_samples, make_run, sensor_block

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
FROZEN = {"generated_at": "2025-11-24 16:05:00 UTC", "version": "0.1.0"}


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("EDGEBENCH_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    assert text.encode() == path.read_bytes(), f"{name} differs from the golden file (see module docstring)"


@pytest.fixture
def runs(tmp_path):
    return hardware_runs(tmp_path)


@pytest.mark.parametrize("fmt, render", [("md", render_report), ("csv", render_csv), ("json", render_json)])
def test_golden_reports(runs, fmt, render):
    model = build_model(runs, by="device", **FROZEN)
    text = render(model)
    _golden(f"report_by_device.{fmt}", text)
    assert render(build_model(runs, by="device", **FROZEN)) == text  # byte-stable


def test_golden_markdown_by_backend_with_reference(runs):
    _golden("report_by_threads.md", render_report(build_model(runs, by="threads", reference="4", **FROZEN)))


def test_model_marks_best_and_ratios(runs):
    model = build_model(runs, by="device", **FROZEN)
    kws = model.groups[0]
    assert kws.dims == {"model": "kws", "precision": "fp32", "scenario": "single_stream", "batch": "1"}
    rows = {(r.by_value, r.variant): r for r in kws.rows}
    orin4 = rows[("jetson-orin-nano", "onnxruntime threads=4")]
    pi4 = rows[("raspberry-pi-5", "onnxruntime threads=4")]
    assert orin4.is_reference and "latency_p50_ms" in orin4.best and "throughput_ips" in orin4.best
    assert pi4.ratios["latency_p50_ms"] == pytest.approx(pi4.entry.values["latency_p50_ms"]
                                                         / orin4.entry.values["latency_p50_ms"])
    assert "peak_rss_mb" in pi4.best  # 88 MiB < 96 MiB
    failed = [r for g in model.groups for r in g.rows if r.entry.status == "failed"]
    assert len(failed) == 1 and not failed[0].best


def test_hardware_view_and_pareto(runs):
    model = build_model(runs, by="device", **FROZEN)
    hw = {(h.device, h.model): h for h in model.hardware}
    orin = hw[("jetson-orin-nano", "kws")]
    assert orin.power_w == pytest.approx(5.0, abs=0.01)  # measured
    assert orin.ips_per_w == pytest.approx(orin.throughput_ips / orin.power_w)
    assert orin.ips_per_usd == pytest.approx(orin.throughput_ips / 499.0)
    assert orin.ips_per_tdp_w_estimate == pytest.approx(orin.throughput_ips / 15.0)
    pi = hw[("raspberry-pi-5", "kws")]
    # nothing measured the Pi's power: no per-watt figure; the TDP one is an estimate, in its own field
    assert pi.power_w is None and pi.ips_per_w is None and pi.energy_per_inference_mj is None
    assert pi.ips_per_tdp_w_estimate == pytest.approx(pi.throughput_ips / 12.0)
    assert model.pareto_axis == "energy_per_inference_mj"
    assert [p.label for p in model.pareto if p.optimal and p.model == "kws"] == [
        "jetson-orin-nano onnxruntime fp32 threads=4 b1"]


def test_warnings_give_advice(runs):
    kinds = {w.kind: w.text for w in build_model(runs, **FROZEN).warnings}
    assert "edgebench system tune" in kinds["variation"]
    assert "sustained scenario" in kinds["throttled"] and "thermal cpu_c" in kinds["throttled"]
    assert "pi5-run" in kinds["no-sensors"]
    assert "delegate crashed" in kinds["failed"]


def test_not_comparable_runtime_and_model_file(tmp_path):
    a = make_run(tmp_path / "a", cases=[case("kws", "onnxruntime", 1)])
    b = make_run(tmp_path / "b", cases=[case("kws", "onnxruntime", 1, sha="c" * 64)], runtime_version="1.18.0")
    texts = [w.text for w in build_model([a, b], by="run", **FROZEN).warnings if w.kind == "not-comparable"]
    assert any("runtime onnxruntime differs" in t and "1.18.0 in b" in t for t in texts)
    assert any("model kws (fp32 .onnx file) is a different file" in t for t in texts)


def test_same_device_twice_keeps_runs_apart(tmp_path):
    a = make_run(tmp_path / "main", cases=[case("kws", "onnxruntime", 1)])
    b = make_run(tmp_path / "pr", cases=[case("kws", "onnxruntime", 1)])
    model = build_model([a, b], by="device", **FROZEN)
    assert [r.by_value for r in model.groups[0].rows] == ["jetson-orin-nano (main)", "jetson-orin-nano (pr)"]
    by_run = build_model([a, b], by="run", reference="pr", **FROZEN)
    assert [r.is_reference for r in by_run.groups[0].rows] == [False, True]
    with pytest.raises(Exception, match="--reference nope"):
        build_model([a, b], by="run", reference="nope", **FROZEN)


def test_markdown_escapes_names():
    assert md("a|b_c*<x>") == "a\\|b\\_c\\*\\<x\\>"


# -- HTML --------------------------------------------------------------------------------------------------------


EVIL = "<img src=x onerror=alert(1)>"


def test_html_escapes_every_name_and_is_self_contained(tmp_path):
    evil_case = case(EVIL, "onnxruntime", 1)
    run = make_run(tmp_path / "evil", device="dev<script>", cases=[evil_case], cpu="<b>cpu</b>",
                   sensors={evil_case["case_id"]: sensor_block(sum(latency_samples(0, 400, 2_000_000, 200_000)))})
    from edgebench.reporting.html import render_html

    html = render_html(build_model([run], **FROZEN))
    assert EVIL not in html and "<script>" not in html and "<b>cpu</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # nothing is fetched: no script, no external stylesheet, image or font; SVG namespaces are not fetches
    assert not re.search(r"<script|<link|<iframe|@import|url\((?!#)", html)  # url(#id): in-page clip paths
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "plot failed" not in html and html.count("<svg") >= 3
    assert '<meta name="viewport"' in html


def test_html_without_sensors_says_so(tmp_path):
    run = make_run(tmp_path / "plain", cases=[case("kws", "onnxruntime", 1), case("kws", "onnxruntime", 2)])
    from edgebench.reporting.html import render_html

    html = render_html(build_model([run], **FROZEN))
    assert "No sensor series in these runs" in html and "No Pareto chart" in html
    assert "Throughput against threads" in html


def test_write_run_reports(tmp_path):
    run = make_run(tmp_path / "r", cases=[case("kws", "onnxruntime", 1)])
    write_run_reports(run.directory)
    assert (run.directory / "report.md").read_text().startswith("# edgebench report")
    assert (run.directory / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_write_run_reports_never_raises(tmp_path, capsys):
    write_run_reports(tmp_path / "missing")
    assert "reports not written" in capsys.readouterr().err


# -- the report CLI ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, head", [("md", "# edgebench report"), ("csv", "group,by,by_value"),
                                       ("json", "{"), ("html", "<!DOCTYPE html>")])
def test_report_cli_formats(runs, tmp_path, fmt, head):
    out = tmp_path / f"out.{fmt}"
    args = ["report", *[str(r.directory) for r in runs], "--by", "device", "--format", fmt, "-o", str(out)]
    assert main(args) == 0
    assert out.read_text().startswith(head)
    if fmt == "json":
        assert json.loads(out.read_text())["by"] == "device"


def test_report_cli_errors(runs, tmp_path, capsys):
    assert main(["report", str(tmp_path / "none")]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["report", str(runs[0].directory), "--reference", "nope"]) == 2


def test_report_cli_uses_an_installed_reporter_plugin(runs, tmp_path, capsys, monkeypatch):
    """A reporter is a function ReportModel -> str, registered in the edgebench.reporters entry point group."""
    site = tmp_path / "site"
    (site / "edgebench_tsv-1.0.dist-info").mkdir(parents=True)
    (site / "edgebench_tsv-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: edgebench-tsv\n"
                                                                    "Version: 1.0\n")
    (site / "edgebench_tsv-1.0.dist-info" / "entry_points.txt").write_text(
        "[edgebench.reporters]\ntsv = edgebench_tsv:render\nbroken = edgebench_tsv:not_text\n")
    (site / "edgebench_tsv.py").write_text(
        "def render(model):\n"
        "    return ''.join(f\"{e.case_id}\\t{e.status}\\t{e.values.get('latency_p50_ms')}\\n\" "
        "for e in model.entries)\n\n\n"
        "def not_text(model):\n    return None\n")
    monkeypatch.syspath_prepend(str(site))
    assert main(["report", *[str(r.directory) for r in runs], "--format", "tsv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(len(line.split("\t")) == 3 for line in lines)
    assert main(["report", str(runs[0].directory), "--format", "broken"]) == 2
    assert "reporter broken (edgebench_tsv) returned NoneType, not the report's text" in capsys.readouterr().err
    assert main(["report", str(runs[0].directory), "--format", "pdf"]) == 2
    assert "--format pdf: no such reporter (installed: broken, csv, html, json, md, tsv)" in capsys.readouterr().err


def test_comparison_markdown_escapes_and_summarises(tmp_path):
    from edgebench.analysis.compare import compare_runs
    from edgebench.analysis.gates import parse_rules

    cases = [case("k|ws", "onnxruntime", 1)]
    cid = cases[0]["case_id"]
    base = make_run(tmp_path / "b", cases=cases, samples={cid: latency_samples(1, 400, 2_000_000, 200_000)})
    cur = make_run(tmp_path / "c", cases=cases,
                   samples={cid: [v * 2 for v in latency_samples(2, 400, 2_000_000, 200_000)]})
    text = render_comparison(compare_runs(base, cur, parse_rules(["latency.p50:+5%"]), labels=("main", "pr")))
    assert text.startswith("## edgebench compare: ❌ regression")
    assert "k\\|ws" in text and "| ❌ worse |" in text and "+100" in text.replace("+99", "+100")


@pytest.mark.parametrize("value, text", [
    (None, "-"), (True, "yes"), (7, "7"), (1234.5, "1234"), (-250.4, "-250"), (12.345, "12.3"),
    (-12.345, "-12.3"), (1.2345, "1.23"), (0.012345, "0.0123"), (-0.5, "-0.5"),
])
def test_the_terminal_table_writes_numbers_as_the_reports_do(value, text):
    from edgebench.reporting.table import render_table
    from edgebench.reporting.values import format_value

    assert format_value(value) == text
    table = render_table([{"model": "m", "backend": "b", "status": "ok", "latency_p50_ms": value}])
    if value is not None:
        assert table.splitlines()[2].split()[-1] == text

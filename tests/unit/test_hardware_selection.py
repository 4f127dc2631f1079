"""Choosing hardware from reports: the budget selection (``report --budget-ms``), hand-checked on the fixture runs;
the null backend never best nor chosen; per-watt figures only from measured power; a farm run's devices (and the
hosts they ran on) in every report format, in ``show`` and in summary.csv, each with its own power channel; no
"different file" warning for the two formats of a bundled model."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from edgebench.cli.main import main
from edgebench.errors import EdgebenchError
from edgebench.reporting.csv_report import render_csv
from edgebench.reporting.html import render_html
from edgebench.reporting.json_report import render_json
from edgebench.reporting.markdown import render_report
from edgebench.reporting.model import Budget, build_model
from tests.run_fixtures import case, farm_runs, hardware_runs, make_run

FROZEN = {"generated_at": "2025-11-24 16:05:00 UTC", "version": "0.1.0"}
ORIN, PI = "jetson-orin-nano", "raspberry-pi-5"


def _picked(model, name):
    return [(c.rank, c.device, c.case.split(" ")[2], ", ".join(
        n for n, on in (("energy", c.pareto_energy), ("price", c.pareto_price)) if on))
        for c in model.selection.of(name)]


def test_a_p99_budget_ranks_by_measured_energy_then_price(tmp_path):
    """By hand, from the golden report's figures (p99 ms; mJ/inf; price USD):
    kws  orin t1 2.76; 10.2; 499 | orin t4 1.43; 4.88; 499 | pi t1 10.4; -; 80 | pi t4 4.06; -; 80
    mnv2 orin fp32 6.58 | orin int8 5.12 | pi fp32 34.2 | pi int8 failed.
    p99 <= 5 ms keeps orin t4, orin t1 and pi t4 for kws (energy 4.88 < 10.2 < unmeasured); orin t4 is on both
    fronts, orin t1 is beaten by it on both, pi t4 has no energy figure but is the cheapest. No mobilenet
    combination meets 5 ms (int8 on the Orin misses by 0.12 ms); the failed case is not counted."""
    model = build_model(hardware_runs(tmp_path), budget=Budget(5.0), **FROZEN)
    assert model.selection is not None and model.selection.models == ["kws", "mobilenet_v2"]
    assert _picked(model, "kws") == [(1, ORIN, "threads=4", "energy, price"), (2, ORIN, "threads=1", ""),
                                     (3, PI, "threads=4", "price")]
    assert model.selection.rejected == {"kws": 1, "mobilenet_v2": 3}
    assert model.selection.of("mobilenet_v2") == []
    best = model.selection.of("kws")[0]
    assert best.latency_ms == pytest.approx(1.43, abs=0.005) and best.energy_per_inference_mj == pytest.approx(
        4.88, abs=0.005) and best.price_usd == 499.0

    md = render_report(model)
    assert "## Choosing hardware: p99 \\<= 5 ms" in md
    assert ("| 3 | raspberry-pi-5 | onnxruntime fp32 threads=4 single\\_stream b1 | 4.06 | 395 | - | - | 80.0 "
            "| price |") in md
    assert "No combination meets the budget.\n\n3 other combination(s) missed the budget." in md
    html = render_html(model)
    assert "<h2>Choosing hardware: p99 &lt;= 5 ms</h2>" in html and "No combination meets the budget." in html
    rows = {r["case_id"] + "@" + r["run"]: r for r in csv.DictReader(io.StringIO(render_csv(model)))}
    assert rows["kws.fp32.onnxruntime.threads=4.single_stream.b1@pi5-run"]["budget_rank"] == "3"
    assert rows["kws.fp32.onnxruntime.threads=4.single_stream.b1@pi5-run"]["pareto_price"] == "true"
    assert rows["kws.fp32.onnxruntime.threads=1.single_stream.b1@pi5-run"]["budget_rank"] == ""  # missed it
    document = json.loads(render_json(model))["selection"]
    assert document["budget"] == {"latency_ms": 5.0, "stat": "p99", "min_fps": None}
    assert [c["rank"] for c in document["models"][0]["candidates"]] == [1, 2, 3]


def test_the_budget_statistic_and_a_minimum_rate_change_the_choice(tmp_path):
    runs = hardware_runs(tmp_path)
    # p50 <= 2.1 ms: orin t1 (2.01) now passes on its median, pi t4 (2.49) does not
    by_median = build_model(runs, budget=Budget(2.1, "p50"), **FROZEN)
    assert _picked(by_median, "kws") == [(1, ORIN, "threads=4", "energy, price"), (2, ORIN, "threads=1", "")]
    # at least 300 inf/s: orin t1 493, orin t4 1026, pi t4 395 (pi t1 182 is out); mobilenet int8 297 misses
    by_rate = build_model(runs, budget=Budget(min_fps=300), **FROZEN)
    assert [c.device for c in by_rate.selection.of("kws")] == [ORIN, ORIN, PI]
    assert by_rate.selection.of("mobilenet_v2") == []
    both = build_model(runs, budget=Budget(5.0, min_fps=400), **FROZEN)
    assert [c.case for c in both.selection.of("kws")] == [
        "onnxruntime fp32 threads=4 single_stream b1", "onnxruntime fp32 threads=1 single_stream b1"]
    assert both.selection.budget.text == "p99 <= 5 ms and >= 400 inf/s"


def test_budget_arguments_are_checked(tmp_path, capsys):
    with pytest.raises(EdgebenchError, match="--budget-ms 0: must be above 0"):
        Budget(0.0)
    with pytest.raises(EdgebenchError, match="--budget-stat p42"):
        Budget(1.0, "p42")
    runs = hardware_runs(tmp_path)
    out = tmp_path / "chosen.md"
    assert main(["report", *[str(r.directory) for r in runs], "--budget-ms", "5", "-o", str(out)]) == 0
    assert "## Choosing hardware: p99 \\<= 5 ms" in out.read_text()
    assert main(["report", str(runs[0].directory), "--min-fps", "-3"]) == 2
    assert "--min-fps -3: must be above 0" in capsys.readouterr().err
    assert main(["report", str(runs[0].directory), "--budget-stat", "p90"]) == 2
    assert "--budget-stat p90: give the budget too (--budget-ms MS)" in capsys.readouterr().err
    assert main(["report", str(runs[0].directory), "--budget-ms", "3", "--budget-stat", "p90", "-o",
                 str(out)]) == 0
    assert "## Choosing hardware: p90 \\<= 3 ms" in out.read_text()


def test_the_null_backend_is_never_best_nor_chosen(tmp_path):
    """It runs no model: ~10 M "inferences" a second measure the harness, not a device."""
    farm = farm_runs(tmp_path)
    model = build_model([farm], by="backend", budget=Budget(min_fps=1.0), **FROZEN)
    null_rows = [r for g in model.groups for r in g.rows if r.entry.dims["backend"] == "null"]
    assert len(null_rows) == 2 and all(r.entry.values["throughput_ips"] > 1e6 for r in null_rows)
    assert all(not r.best for r in null_rows)
    assert {h.case.split(" ")[0] for h in model.hardware} == {"onnxruntime"}
    assert all("null" not in p.label for p in model.pareto)
    assert {c.case.split(" ")[0] for c in model.selection.candidates} == {"onnxruntime"}
    assert len(model.selection.candidates) == 4
    # a null-only run has nothing to choose
    alone = make_run(tmp_path / "null-only", cases=[case("kws", "null", 1)])
    lonely = build_model([alone], budget=Budget(1.0), **FROZEN)
    assert lonely.hardware == [] and lonely.selection.models == []
    assert "No finished case with a latency figure." in render_report(lonely)


def test_per_watt_figures_come_only_from_measured_power(tmp_path):
    model = build_model(hardware_runs(tmp_path), **FROZEN)
    pi = next(h for h in model.hardware if h.device == PI and h.model == "kws")
    assert pi.power_w is None and pi.ips_per_w is None  # no sensor on the Pi: nothing per watt
    assert pi.ips_per_tdp_w_estimate == pytest.approx(pi.throughput_ips / 12.0)
    md = render_report(model)
    assert "(TDP)" not in md and "| inf/s per TDP W (estimate) |" in md
    assert json.loads(render_json(model))["hardware"][2]["ips_per_w"] is None


FARM_DEVICES = {"nano": "nano.lan", "pi5": "pi5.lan"}


def test_a_farm_run_shows_both_devices_and_their_hosts_everywhere(tmp_path, capsys):
    """Each case names its device, and each device's own profile picks its total power channel: nano reads the
    board total (5 W), pi5 the CPU/GPU rail (2.5 W), from the same recorded series."""
    farm = farm_runs(tmp_path)
    for by in ("backend", "model", "device"):
        model = build_model([farm], by=by, **FROZEN)
        md = render_report(model)
        html = render_html(model) if by == "backend" else ""  # the plots take a while: one HTML is enough
        for name, host in FARM_DEVICES.items():
            assert f"| {name} | farm-run | {host} |" in md  # the Devices section
            assert f"<td>{name}</td><td>farm-run</td><td>{host}</td>" in html or not html
        for group in model.groups:
            assert {r.entry.dims["device"] for r in group.rows} == {"nano", "pi5"}
        if by != "device":  # a device column in every results table, not a word of the settings
            assert model.device_column and all(" nano" not in r.variant and "pi5" not in r.variant
                                               for g in model.groups for r in g.rows)
            assert f"| {by} | device | settings |" in md and (f"<th>{by}</th><th>device</th>" in html or not html)
            for name in FARM_DEVICES:  # a results row: the by value, then the device
                assert re.search(rf"^\| [^|]+ \| {name} \| [^|]+ \| [0-9.]+ \|", md, re.M), md
        rows = list(csv.DictReader(io.StringIO(render_csv(model))))
        assert sorted({(r["device"], r["host"]) for r in rows}) == sorted(FARM_DEVICES.items())
        document = json.loads(render_json(model))
        assert [(d["name"], d["host"]) for d in document["devices"]] == list(FARM_DEVICES.items())
        assert {(r["device"], r["host"]) for g in document["groups"] for r in g["rows"]} == set(FARM_DEVICES.items())
    power = {h.device: h.power_w for h in build_model([farm], **FROZEN).hardware}
    assert power == {"nano": pytest.approx(5.0, abs=0.01), "pi5": pytest.approx(2.5, abs=0.01)}

    with (farm.directory / "summary.csv").open() as handle:
        summary = list(csv.DictReader(handle))
    assert sorted({(r["device"], r["host"]) for r in summary}) == sorted(FARM_DEVICES.items())
    assert main(["show", str(farm.directory), "--wide"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[2].startswith("  device nano on nano.lan: Cortex-A57")
    assert shown[3].startswith("  device pi5 on pi5.lan: Cortex-A76")
    assert shown[4].split()[0] == "device" and sorted(line.split()[0] for line in shown[6:12]) == [
        "nano", "nano", "nano", "pi5", "pi5", "pi5"]


def _bundled(model: str, fmt: str, sha: str) -> dict:
    c = case(model, "onnxruntime" if fmt == "onnx" else "tflite", 1, precision="int8", sha=sha)
    return {**c, "format": fmt, "model_path": f"/models/{model}_int8.{fmt}"}


def test_two_runs_of_a_bundled_suite_are_not_different_files(tmp_path):
    """Each bundled model ships as an .onnx and a .tflite file: two files by design, not a change between runs."""
    files = [_bundled("kws_dscnn", "onnx", "a" * 64), _bundled("kws_dscnn", "tflite", "b" * 64)]
    a = make_run(tmp_path / "a", cases=files)
    b = make_run(tmp_path / "b", cases=files)
    assert [w for w in build_model([a, b], by="run", **FROZEN).warnings if w.kind == "not-comparable"] == []
    changed = make_run(tmp_path / "c", cases=[files[0], _bundled("kws_dscnn", "tflite", "c" * 64)])
    texts = [w.text for w in build_model([a, changed], by="run", **FROZEN).warnings if w.kind == "not-comparable"]
    assert len(texts) == 1 and texts[0].startswith("model kws_dscnn (int8 .tflite file) is a different file")

"""The optimisation study end to end: a suite with variants, labelled data and per-operator profiles, run by the
CLI in real workers; then show, the reports and a fidelity gate on the run directory."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, write

pytestmark = pytest.mark.slow
pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

MODEL = REPO / "suites" / "models" / "kws_dscnn_fp32.onnx"


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgebench", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env=env)


def labelled_data(path: Path, count: int = 12) -> Path:
    """Inputs for kws_dscnn and, as labels, the fp32 model's own top-1 (so the source scores exactly 1.0)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    spec = session.get_inputs()[0]
    shape = [1] + [int(d) for d in spec.shape[1:]]
    inputs = np.random.default_rng(5).standard_normal([count, *shape]).astype(np.float32)
    labels = np.array([int(session.run(None, {spec.name: x})[0].argmax()) for x in inputs], dtype=np.int64)
    np.savez(path, **{spec.name: inputs, "labels": labels})
    return path


def test_variants_fidelity_accuracy_and_op_profiles_end_to_end(tmp_path):
    pytest.importorskip("onnxconverter_common")
    shutil.copy(MODEL, tmp_path / "kws.onnx")
    labelled_data(tmp_path / "val.npz")
    suite = write(tmp_path / "s.toml", textwrap.dedent("""
        name = "study"
        [rules]
        warmup_iterations = 2
        warmup_seconds = 0
        min_iterations = 20
        min_seconds = 0.05
        max_seconds = 0.3
        [[models]]
        name = "kws"
        path = "kws.onnx"
        variants = ["fp32", "int8-static", "int8-weight-only"]
        [models.accuracy]
        data = "val.npz"
        [[backends]]
        name = "onnxruntime"
        threads = 1
        profile_ops = true
        """))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = tmp_path / "run"
    done = run_cli("run", "--profile", "local", "--suite", str(suite), "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    records = {r["precision"]: r for r in json.loads((out / "run.json").read_text())["cases"]}
    fp32, int8 = records["fp32"]["summary"], records["int8-static"]["summary"]
    assert fp32["fidelity"]["exact"] is True and fp32["fidelity"]["cosine"] == 1.0
    assert fp32["fidelity"]["source"] == "data files" and fp32["fidelity"]["inputs"] == 12
    assert fp32["accuracy"] == {"top1": 1.0, "samples": 12}
    assert 0.9 < int8["fidelity"]["cosine"] < 1.0 and 0 <= int8["accuracy"]["top1"] <= 1
    assert records["int8-static"]["variant"]["calibration"]["source"] == "data files"
    assert records["int8-weight-only"]["status"] == "skipped"
    assert sum(e["share"] for e in int8["op_profile"]["op_types"]) == pytest.approx(1.0)
    assert (out / "cases" / (records["int8-static"]["case_id"] + ".ops.json")).is_file()
    rows = {r["precision"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert rows["fp32"]["fidelity_cosine"] == "1" and rows["fp32"]["accuracy_top1"] == "1"

    shown = run_cli("show", str(out), "--wide", env=env)
    assert "fidelity against" in shown.stdout and "QLinearConv" in shown.stdout
    report = (out / "report.md").read_text()
    assert "## Optimisation study" in report and "| op type | fp32 | int8-static | change |" in report

    gate = run_cli("compare", str(out), str(out), "--fail-on", "fidelity.cosine:>=0.9999999", env=env)
    assert gate.returncode == 1 and "int8-static" in gate.stdout
    assert run_cli("compare", str(out), str(out), "--fail-on", "fidelity.cosine:>=0.9", env=env).returncode == 0

    again = run_cli("run", "--profile", "local", "--suite", str(suite), "--out", str(tmp_path / "run2"), env=env)
    assert again.returncode == 0
    second = {r["precision"]: r for r in json.loads((tmp_path / "run2" / "run.json").read_text())["cases"]}
    assert second["int8-static"]["variant"]["cached"] is True
    assert second["int8-static"]["model_path"] == records["int8-static"]["model_path"]


def test_the_study_in_report_html_fits_a_phone_and_logs_no_errors(tmp_path):
    """The study's tables scroll inside their box and its plots scale, like the rest of report.html."""
    from tests.integration.test_html_chromium import CHROMIUM, PHONE_WIDTH, Chromium

    if CHROMIUM is None:
        pytest.skip("chromium is not installed (CI installs Debian's chromium package)")
    pytest.importorskip("matplotlib")
    shutil.copy(MODEL, tmp_path / "kws.onnx")
    suite = write(tmp_path / "s.toml", textwrap.dedent("""
        [rules]
        warmup_iterations = 2
        warmup_seconds = 0
        min_iterations = 20
        min_seconds = 0.05
        max_seconds = 0.2
        [[models]]
        name = "kws"
        path = "kws.onnx"
        variants = ["fp32", "int8-dynamic", "prune-50"]
        [[backends]]
        name = "onnxruntime"
        threads = 1
        profile_ops = true
        """))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = tmp_path / "run"
    assert run_cli("run", "--profile", "local", "--suite", str(suite), "--out", str(out), env=env).returncode == 0
    browser = Chromium(tmp_path / "chromium-profile")
    try:
        browser.open_page(PHONE_WIDTH, 915)
        browser.load((out / "report.html").as_uri())
        facts = json.loads(browser.evaluate(
            "JSON.stringify({study: document.body.innerText.includes('Optimisation study'), "
            "svgs: document.querySelectorAll('svg.plot').length, "
            "width: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)})"))
        browser.send("Runtime.evaluate", {"expression": "1"})
        assert browser.problems() == []
    finally:
        browser.close()
    assert facts["study"] and facts["svgs"] >= 2  # the fronts and the per-op bars, beside the report's own plots
    assert facts["width"] <= PHONE_WIDTH

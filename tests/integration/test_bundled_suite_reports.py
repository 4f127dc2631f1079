"""Two real runs of a bundled suite, compared: each bundled model ships as an .onnx and a .tflite file (two files
by design), so the report must not call the runs "not comparable"; and the budget selection ranks real cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import edgebench

pytestmark = pytest.mark.slow


def test_two_runs_of_the_smoke_suite_are_the_same_model_files(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        done = edgebench("run", "--profile", "local", "--suite", "smoke", "--fast", "--out", str(tmp_path / name),
                         timeout=240)
        assert done.returncode == 0, done.stderr
        runs.append(str(tmp_path / name))
    formats = {c["format"] for c in json.loads((tmp_path / "a" / "run.json").read_text())["cases"]}
    assert formats == {"onnx", "tflite"}  # both files of the model ran
    report = edgebench("report", *runs, "--by", "run", "--format", "json", "--budget-ms", "1000")
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert [w["text"] for w in document["warnings"] if w["kind"] == "not-comparable"] == []
    [chosen] = document["selection"]["models"]
    assert chosen["model"] == "kws_dscnn" and chosen["candidates"]
    assert all(not c["case"].startswith("null") for c in chosen["candidates"])
    assert all(not h["case"].startswith("null") for h in document["hardware"])

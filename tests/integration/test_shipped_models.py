"""The shipped models, on the real runtimes: every case of the default suite runs, and batches resize."""

from __future__ import annotations

import json

import pytest

from edgebench.config.models import sha256_of
from edgebench.config.profile import load_profile
from edgebench.config.suite import load_suite
from edgebench.harness import runner
from tests.conftest import MODELS, REPO

pytestmark = pytest.mark.slow


def test_manifest_matches_the_files():
    manifest = json.loads((MODELS / "manifest.json").read_text())
    assert manifest["schema_version"] == 1 and "random" in manifest["weights"]
    files = sorted(p.name for p in MODELS.iterdir() if p.suffix in (".onnx", ".tflite"))
    assert files == sorted(entry["file"] for entry in manifest["models"])
    assert len(files) == 20
    for entry in manifest["models"]:
        path = MODELS / entry["file"]
        assert (sha256_of(path), path.stat().st_size) == (entry["sha256"], entry["bytes"])
        assert entry["inputs"][0]["shape"][0] == -1  # dynamic batch
    assert sum(e["bytes"] for e in manifest["models"]) < 30 * 2**20


def test_every_case_of_the_default_suite_is_ok(tmp_path):
    suite = load_suite(REPO / "suites" / "default.toml")
    store = runner.run(suite, load_profile("local"), tmp_path / "run", runner.RunOptions(fast=True))
    records = store.records()
    assert len(records) == 40
    assert {r["status"] for r in records} == {"ok"}, [(r["case_id"], r["error"]) for r in records if r["error"]]
    assert {r["runtime"]["name"] for r in records} == {"onnxruntime", "ai-edge-litert"}
    manifest = {e["sha256"]: e for e in json.loads((MODELS / "manifest.json").read_text())["models"]}
    for record in records:  # the inputs the worker built are the manifest's, with the batch filled in
        raw = store.load_raw(record["case_id"])
        spec = manifest[record["model_sha256"]]["inputs"][0]
        assert raw["inputs"][0]["dtype"] == spec["dtype"]
        assert raw["inputs"][0]["shape"] == [1, *spec["shape"][1:]]


def test_batch_scenario_resizes_both_runtimes(tmp_path):
    store = runner.run(load_suite(REPO / "suites" / "smoke.toml"), load_profile("local"), tmp_path / "run",
                       runner.RunOptions(fast=True))
    batch = {r["backend"]: r for r in store.records() if r["scenario"] == "batch"}
    assert set(batch) == {"onnxruntime", "tflite"}
    for record in batch.values():
        assert record["status"] == "ok", record["error"]
        assert store.load_raw(record["case_id"])["inputs"][0]["shape"][0] == 4
        latency = record["summary"]["latency"]
        assert record["summary"]["throughput_ips"] == pytest.approx(4e9 / latency["mean_ns"])

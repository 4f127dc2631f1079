"""A model is measured only as the bytes the run planned: checked by sha256 in the worker and in a Dask cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from edgebench.digest import sha256_of
from edgebench.transports import dask_farm
from edgebench.wire import Case, RunRules
from edgebench.worker.main import run_case

FAST = RunRules(warmup_iterations=1, warmup_seconds=0.0, min_iterations=5, min_seconds=0.0, max_seconds=0.05)


def null_case(model: Path, sha256: str) -> Case:
    return Case("m.fp32.null.single_stream.b1", "m", "fp32", "onnx", str(model), sha256, "null", {},
                "single_stream", rules=FAST)


def test_worker_refuses_a_model_that_is_not_the_planned_bytes(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"version 1")
    planned = sha256_of(model)
    assert run_case(null_case(model, planned))["status"] == "ok"
    model.write_bytes(b"version 2, rebuilt while the run went on")
    result = run_case(null_case(model, planned))
    assert result["status"] == "failed" and "latency_ns" not in result
    assert result["error"] == (f"ModelMismatchError: model file {model} has sha256 {sha256_of(model)[:16]}..., "
                               f"not the {planned[:16]}... the run planned: the file changed during the run, "
                               f"or a device's cached copy is corrupt")
    assert run_case(null_case(model, ""))["status"] == "ok"  # no planned sha256 (bench scripts): not checked


def test_dask_cache_replaces_a_corrupt_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dask_farm, "AGENT_CACHE", [tmp_path / "cache"])
    data = b"the model's bytes"
    sha = hashlib.sha256(data).hexdigest()
    path = dask_farm.cache_model(sha, "m.onnx", data)
    assert path.read_bytes() == data and dask_farm.cache_model(sha, "m.onnx", None) == path  # a hit
    path.write_bytes(b"corrupt")
    with pytest.raises(dask_farm.ModelMissing):  # the client then sends the case again with the bytes
        dask_farm.cache_model(sha, "m.onnx", None)
    assert dask_farm.cache_model(sha, "m.onnx", data).read_bytes() == data

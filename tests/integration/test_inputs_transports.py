"""Inputs' data files reach remote devices the way models do: by sha256, into the device's cache, sent once."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgebench.config.suite import load_suite
from edgebench.harness.matrix import expand
from edgebench.wire import RunRules
from tests.conftest import write
from tests.input_models import echo_model
from tests.integration.conftest import Sshd, edgebench, profile

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SUITE = """
name = "withdata"
[rules]
warmup_iterations = 2
warmup_seconds = 0.0
min_iterations = 10
min_seconds = 0.05
max_seconds = 0.2
[[models]]
name = "echo"
path = "echo.onnx"
[models.inputs.x]
data = "data/x.npy"
[[backends]]
name = "onnxruntime"
threads = 1
"""


def suite_with_data(directory: Path) -> Path:
    echo_model(directory / "echo.onnx")
    (directory / "data").mkdir(parents=True, exist_ok=True)
    np.save(directory / "data" / "x.npy", np.arange(3 * 4, dtype="float32").reshape(3, 1, 4))
    return write(directory / "withdata.toml", SUITE)


def test_an_ssh_run_with_a_data_file_ships_it_once_by_sha256(sshd: Sshd, tmp_path: Path) -> None:
    suite = suite_with_data(tmp_path / "suite")
    remote = profile(tmp_path, "loopback", sshd.transport_table(remote_dir=str(tmp_path / "remote")),
                     extra="[backends.onnxruntime]\n")
    done = edgebench("run", "--profile", str(remote), "--suite", str(suite), "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "run" / "run.json").read_text())
    [record] = document["cases"]
    assert record["status"] == "ok", record["error"]
    sha = record["inputs"]["x"]["data"]["sha256"]
    cached = tmp_path / "remote" / "data" / sha / "x.npy"
    assert cached.read_bytes() == (tmp_path / "suite" / "data" / "x.npy").read_bytes()
    raw = json.loads(gzip.decompress((tmp_path / "run" / record["raw_file"]).read_bytes()))
    assert raw["inputs"] == [{"name": "x", "dtype": "float32", "shape": [1, 4], "source": "data", "samples": 3,
                              "min": 0.0, "max": 11.0}]
    stamp = cached.stat().st_mtime_ns
    again = edgebench("run", "--profile", str(remote), "--suite", str(suite), "--out", str(tmp_path / "run2"))
    assert again.returncode == 0, again.stderr
    assert cached.stat().st_mtime_ns == stamp  # already there: not sent again


def test_a_dask_worker_asks_for_a_data_file_it_lacks_and_caches_it(tmp_path: Path) -> None:
    """The task a farm worker runs (``run_case_task``), called as Dask calls it: first without the bytes (the
    worker answers model_missing), then with them; the case runs in a fresh local worker process."""
    from edgebench.transports import dask_farm

    suite = suite_with_data(tmp_path / "suite")
    [case] = [replace(c, rules=RunRules(warmup_iterations=2, warmup_seconds=0.0, min_iterations=5, min_seconds=0.0,
                                        max_seconds=0.2)) for c in expand(load_suite(suite))]
    [data] = case.data_files
    dask_farm.AGENT_CACHE.append(tmp_path / "cache")
    try:
        model = Path(case.model_path).read_bytes()
        missing = dask_farm.run_case_task(case.to_json(), model, "edgebench-here", "here")
        assert "x.npy" in missing["model_missing"] and "status" not in missing
        blob = Path(data["path"]).read_bytes()
        result = dask_farm.run_case_task(case.to_json(), model, "edgebench-here", "here", {data["sha256"]: blob})
        assert result["status"] == "ok", result["error"]
        assert (tmp_path / "cache" / data["sha256"] / "x.npy").read_bytes() == blob
        again = dask_farm.run_case_task(case.to_json(), None, "edgebench-here", "here")  # cached: no bytes needed
        assert again["status"] == "ok", again["error"]
        assert [i["samples"] for i in again["inputs"]] == [3]
    finally:
        dask_farm.AGENT_CACHE.pop()

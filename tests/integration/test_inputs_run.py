"""Model inputs on real runtimes: what the worker feeds (pinned values, ranges, data samples in turn, strings),
what it refuses (a name the model lacks, more memory than the device has), and the one line each failure gives."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgebench.config.suite import load_suite
from edgebench.harness.matrix import expand
from edgebench.wire import Case, RunRules
from edgebench.worker import main as worker
from edgebench.worker.feeds import Feeder
from edgebench.worker.inputs import plan_inputs, specs_from_json
from edgebench.worker.loop import timed_loop, warm_up
from tests.conftest import MODELS, write
from tests.input_models import echo_model, string_model, token_model, vad_model

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

FAST = RunRules(warmup_iterations=2, warmup_seconds=0.0, min_iterations=5, min_seconds=0.0, max_seconds=0.2)

SUITE = """
name = "s"
[[models]]
name = "m"
path = "{model}"
{inputs}
[[backends]]
name = "{backend}"
threads = 1
[[scenarios]]
name = "{scenario}"
{scenario_extra}
"""


def make_suite(tmp_path: Path, model: str, inputs: str, backend: str = "onnxruntime",
               scenario: str = "single_stream", scenario_extra: str = "") -> Path:
    return write(tmp_path / "s.toml", SUITE.format(model=model, inputs=inputs, backend=backend, scenario=scenario,
                                                   scenario_extra=scenario_extra))


def cases_of(path: Path) -> list[Case]:
    return [replace(c, rules=FAST) for c in expand(load_suite(path))]


def run_one(path: Path) -> dict:
    [case] = cases_of(path)
    return worker.run_case(case)


def fed(result: dict, name: str) -> dict:
    return next(i for i in result["inputs"] if i["name"] == name)


# -- a voice-activity model whose scalar sr must be 16000 ---------------------------------------------------------
def test_a_pinned_sr_lets_the_vad_model_run_and_without_it_the_failure_names_sr(tmp_path):
    vad_model(tmp_path / "vad.onnx")
    pinned = run_one(make_suite(tmp_path, "vad.onnx", """
[models.inputs.sr]
value = 16000
[models.inputs.audio]
shape = [1, 512]
range = [-1.0, 1.0]
"""))
    assert pinned["status"] == "ok", pinned["error"]
    assert fed(pinned, "sr") == {"name": "sr", "dtype": "int64", "shape": [], "source": "value", "samples": 1,
                                 "min": 16000, "max": 16000}
    audio = fed(pinned, "audio")
    assert audio["shape"] == [1, 512] and audio["dtype"] == "float32" and -1.0 <= audio["min"] < audio["max"] <= 1.0

    path = make_suite(tmp_path, "vad.onnx", "[models.inputs.audio]\nshape = [1, 512]\n")
    unpinned = run_one(path)
    assert unpinned["status"] == "failed"
    assert unpinned["error"].startswith(
        "FirstInferenceError: the first inference failed with generated values for sr (int64 in [0, 1]; pin it "
        f"with models[0].inputs.sr.value) in {path}: ")
    assert "\n" not in unpinned["error"]


def test_a_dynamic_dimension_without_a_shape_names_the_key_to_give_it(tmp_path):
    vad_model(tmp_path / "vad.onnx")
    path = make_suite(tmp_path, "vad.onnx", "[models.inputs.sr]\nvalue = 16000\n")
    result = run_one(path)
    assert result["error"] == (f"InputError: {path}: models[0].inputs.audio.shape: input audio has dynamic dimensions "
                               f"[1, ?]: give its shape (shape = [...]) here")


# -- integer token ids -----------------------------------------------------------------------------------------------
def test_token_ids_are_fed_from_the_range_given_and_a_sane_default_without_one(tmp_path):
    token_model(tmp_path / "tokens.onnx", vocab=100)
    ranged = run_one(make_suite(tmp_path, "tokens.onnx", "[models.inputs.ids]\nrange = [90, 99]\n"))
    assert ranged["status"] == "ok", ranged["error"]
    ids = fed(ranged, "ids")
    assert ids["dtype"] == "int64" and 90 <= ids["min"] <= ids["max"] <= 99 and ids["min"] < ids["max"]
    default = run_one(make_suite(tmp_path, "tokens.onnx", ""))
    assert default["status"] == "ok", default["error"]
    assert (fed(default, "ids")["min"], fed(default, "ids")["max"]) == (0, 1)
    beyond = run_one(make_suite(tmp_path, "tokens.onnx", "[models.inputs.ids]\nrange = [100, 120]\n"))
    assert beyond["status"] == "failed"  # Gather out of the vocabulary: the runtime refuses, the ids are named
    assert "ids (int64 in [100, 120]; pin it with models[0].inputs.ids.value)" in beyond["error"]


# -- data samples, cycled between iterations -----------------------------------------------------------------------
def test_npy_samples_reach_the_model_in_turn(tmp_path):
    """The echo model returns what it was fed: over the loop every sample of the file comes out, in order."""
    from edgebench.backends.onnxruntime_backend import OnnxRuntimeBackend

    echo_model(tmp_path / "echo.onnx")
    samples = np.arange(3 * 4, dtype="float64").reshape(3, 1, 4)  # float64 on disk, fed as float32
    np.save(tmp_path / "x.npy", samples)
    [case] = cases_of(make_suite(tmp_path, "echo.onnx", '[models.inputs.x]\ndata = "x.npy"\n'))
    session = OnnxRuntimeBackend().load(case.model_path, {"threads": 1})
    plans = plan_inputs(session.inputs, specs_from_json(case.inputs), 1, case.suite_path, case.model_key)
    feeder = Feeder.build(plans, 1, 0, case.suite_path)
    session.prepare(feeder.current())
    outputs: list[np.ndarray] = []
    between = worker.next_sample(session, feeder)
    warm_up(lambda: outputs.append(session.run()[0].copy()), FAST, between=between)
    timed_loop(lambda: outputs.append(session.run()[0].copy()), FAST, between=between)
    assert len(outputs) >= 6
    for index, out in enumerate(outputs):
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, samples[index % 3].astype("float32"))


def test_npz_samples_run_in_the_worker_and_are_stacked_for_a_batch(tmp_path):
    echo_model(tmp_path / "echo.onnx")
    np.savez(tmp_path / "d.npz", x=np.arange(5 * 4, dtype="float32").reshape(5, 1, 4))
    path = make_suite(tmp_path, "echo.onnx", '[models.inputs.x]\ndata = "d.npz"\n', scenario="batch",
                      scenario_extra="batch = 2")
    result = run_one(path)
    assert result["status"] == "ok", result["error"]
    assert fed(result, "x") == {"name": "x", "dtype": "float32", "shape": [2, 4], "source": "data",
                                "samples": 3, "min": 0.0, "max": 19.0}  # 5 samples, 2 at a time: 3 batches


# -- strings --------------------------------------------------------------------------------------------------------
def test_a_string_input_runs_from_a_data_file_and_is_skipped_with_a_reason_without_one(tmp_path):
    string_model(tmp_path / "strings.onnx")
    np.save(tmp_path / "text.npy", np.array([["hello"], ["world"]]))
    result = run_one(make_suite(tmp_path, "strings.onnx", '[models.inputs.text]\ndata = "text.npy"\n'))
    assert result["status"] == "ok", result["error"]
    assert fed(result, "text") == {"name": "text", "dtype": "string", "shape": [1], "source": "data", "samples": 2}
    pinned = run_one(make_suite(tmp_path, "strings.onnx", '[models.inputs.text]\nvalue = ["hello"]\n'))
    assert pinned["status"] == "ok", pinned["error"]
    path = make_suite(tmp_path, "strings.onnx", "")
    skipped = run_one(path)
    assert skipped["status"] == "skipped"
    assert skipped["error"] == (f"input text is a string tensor: give it data (a .npy of strings) or a value in "
                                f"{path}: models[0].inputs.text")


# -- the memory guard ------------------------------------------------------------------------------------------------
def test_an_input_bigger_than_free_memory_is_refused_before_it_is_allocated(tmp_path):
    """1 TiB declared: refused with one line, in a worker process that never grew past a few hundred MiB."""
    echo_model(tmp_path / "echo.onnx", shape=["N", 1024])
    path = make_suite(tmp_path, "echo.onnx", "[models.inputs.x]\nshape = [268435456, 1024]\n",
                      scenario="concurrent", scenario_extra="concurrency = 2")
    run_dir = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "edgebench", "run", "--profile", "local", "--suite", str(path),
                           "--out", str(run_dir), "--fast"], capture_output=True, text=True, timeout=120)
    import gzip
    import json

    document = json.loads((run_dir / "run.json").read_text())
    [record] = document["cases"]
    assert record["status"] == "failed"
    assert record["error"].startswith(
        f"InputError: {path}: models[0].inputs.x.shape: input x of shape [268435456, 1024] (float32) is 1024.0 GiB; "
        f"with the other inputs x 2 streams the case needs 2048.0 GiB, more than the ")
    assert record["error"].endswith(" this device has free")
    raw = json.loads(gzip.decompress((run_dir / record["raw_file"]).read_bytes()))
    assert raw["peak_rss_bytes"] < 1 << 30
    assert done.returncode != 0 or "failed" in done.stderr


# -- host checks stop the run before its first case -----------------------------------------------------------------
def test_a_wrong_input_name_stops_edgebench_run_with_one_line(tmp_path):
    vad_model(tmp_path / "vad.onnx")
    path = make_suite(tmp_path, "vad.onnx", "[models.inputs.rate]\nvalue = 16000\n")
    done = subprocess.run([sys.executable, "-m", "edgebench", "run", "--profile", "local", "--suite", str(path),
                           "--out", str(tmp_path / "run"), "--fast"], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        f"edgebench: error: {path}: models[0].inputs.rate: the model has no input 'rate' (its inputs: audio, sr)"]
    assert not (tmp_path / "run").exists()


# -- TFLite: checked in the worker, same messages ----------------------------------------------------------------
def tflite_suite(tmp_path: Path, inputs: str) -> Path:
    return make_suite(tmp_path, str(MODELS / "kws_dscnn_int8.tflite"), inputs, backend="tflite")


def test_tflite_value_and_range_are_fed(tmp_path):
    name = "serving_default_input:0"
    ranged = run_one(tflite_suite(tmp_path, f'[models.inputs."{name}"]\nrange = [-3, 3]\n'))
    assert ranged["status"] == "ok", ranged["error"]
    assert fed(ranged, name)["dtype"] == "int8" and -3 <= fed(ranged, name)["min"] < fed(ranged, name)["max"] <= 3
    pinned = run_one(tflite_suite(tmp_path, f'[models.inputs."{name}"]\nvalue = 7\n'))
    assert pinned["status"] == "ok", pinned["error"]
    assert (fed(pinned, name)["min"], fed(pinned, name)["max"], fed(pinned, name)["shape"]) == (7, 7, [1, 49, 10, 1])


def test_tflite_mistakes_are_the_case_error_naming_file_and_key(tmp_path):
    name = "serving_default_input:0"
    path = tflite_suite(tmp_path, "[models.inputs.audio]\nvalue = 1\n")
    assert run_one(path)["error"] == (f"InputError: {path}: models[0].inputs.audio: the model has no input 'audio' "
                                      f"(its inputs: {name})")
    path = tflite_suite(tmp_path, f'[models.inputs."{name}"]\nshape = [1, 49, 10]\n')
    assert run_one(path)["error"] == (
        f'InputError: {path}: models[0].inputs."{name}".shape: shape [1, 49, 10] has rank 3; the model\'s input '
        f"{name} has rank 4 ([?, 49, 10, 1])")
    path = tflite_suite(tmp_path, f'[models.inputs."{name}"]\nrange = [0, 300]\n')
    assert run_one(path)["error"] == (
        f'InputError: {path}: models[0].inputs."{name}".range: [0, 300] is outside the range of input {name} '
        f"(int8): [-128, 127]")


def test_concurrent_streams_each_cycle_the_samples(tmp_path):
    echo_model(tmp_path / "echo.onnx")
    np.save(tmp_path / "x.npy", np.arange(3 * 4, dtype="float32").reshape(3, 1, 4))
    path = make_suite(tmp_path, "echo.onnx", '[models.inputs.x]\ndata = "x.npy"\n', scenario="concurrent",
                      scenario_extra="concurrency = 2")
    result = run_one(path)
    assert result["status"] == "ok", result["error"]
    assert result["concurrency"] == 2 and fed(result, "x")["samples"] == 3


def test_a_model_in_two_formats_takes_the_inputs_each_file_names(tmp_path):
    """The shipped DS-CNN calls its input ``input`` in ONNX and ``serving_default_input:0`` in TFLite: each case
    gets the specs its file has; a name neither has is the TFLite case's error (the host cannot read TFLite)."""
    both = f'path = ["{MODELS / "kws_dscnn_int8.onnx"}", "{MODELS / "kws_dscnn_int8.tflite"}"]'
    text = SUITE.replace('path = "{model}"', both).format(
        inputs='[models.inputs.input]\nrange = [-0.5, 0.5]\n[models.inputs."serving_default_input:0"]\nvalue = 3\n',
        backend="onnxruntime", scenario="single_stream", scenario_extra="") + '[[backends]]\nname = "tflite"\n'
    path = write(tmp_path / "s.toml", text)
    results = {c.backend: worker.run_case(c) for c in cases_of(path)}
    assert results["onnxruntime"]["status"] == "ok", results["onnxruntime"]["error"]
    assert -0.5 <= fed(results["onnxruntime"], "input")["min"] < fed(results["onnxruntime"], "input")["max"] <= 0.5
    assert results["tflite"]["status"] == "ok", results["tflite"]["error"]
    assert fed(results["tflite"], "serving_default_input:0")["max"] == 3
    typo = write(tmp_path / "typo.toml", text.replace("[models.inputs.input]", "[models.inputs.inptu]"))
    results = {c.backend: worker.run_case(c) for c in cases_of(typo)}
    assert results["onnxruntime"]["status"] == "ok"
    assert results["tflite"]["error"] == (f"InputError: {typo}: models[0].inputs.inptu: the model has no input "
                                          f"'inptu' (its inputs: serving_default_input:0)")


def test_a_data_file_changed_after_planning_fails_its_case_by_key(tmp_path):
    echo_model(tmp_path / "echo.onnx")
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 4), dtype="float32"))
    path = make_suite(tmp_path, "echo.onnx", '[models.inputs.x]\ndata = "x.npy"\n')
    [case] = cases_of(path)
    np.save(tmp_path / "x.npy", np.ones((2, 1, 4), dtype="float32"))
    error = worker.run_case(case)["error"]
    assert error.startswith(f"InputError: {path}: models[0].inputs.x.data: data file {tmp_path / 'x.npy'} has sha256 ")
    assert error.endswith("the run planned: it changed during the run")

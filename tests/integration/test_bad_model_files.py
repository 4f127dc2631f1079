"""A suite with every kind of bad model file beside a good one, run for real: each bad file fails only its own
cases with its one line, the good model is measured on both runtimes, and the run's exit code says cases failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.results.store import RunStore
from tests.conftest import REPO, write
from tests.fixtures.model_files import make_bad_models
from tests.unit.test_model_files import expected_lines

pytestmark = pytest.mark.slow

#: [[models]] name -> the kinds of file (tests/fixtures/model_files.py) it lists, in its path
MODELS = {
    "good": ("good_onnx", "good_tflite"),
    "truncated": ("truncated_onnx", "truncated_tflite"),
    "empty": ("empty",),
    "renamed": ("tflite_named_onnx", "onnx_named_tflite"),
    "random": ("random_onnx", "random_tflite"),
    "directory": ("directory",),
    "loop": ("symlink_loop",),
    "unreadable": ("unreadable",),
    "absent": ("absent",),
    "external": ("external_data_missing",),
    "custom_op": ("custom_domain_op", "custom_op_tflite"),
    "unknown_op": ("unknown_op",),
    "new_opset": ("opset_too_new",),
}


def suite_text(files: dict[str, Path]) -> str:
    text = ('name = "bad-models"\n[rules]\nwarmup_iterations = 2\nwarmup_seconds = 0\nmin_iterations = 10\n'
            'min_seconds = 0.02\nmax_seconds = 0.1\n')
    for name, kinds in MODELS.items():
        paths = ", ".join(f'"models/{files[k].name}"' for k in kinds)
        text += f'[[models]]\nname = "{name}"\npath = [{paths}]\n'
    return text + '[[backends]]\nname = "onnxruntime"\nthreads = 1\n[[backends]]\nname = "tflite"\nthreads = 1\n'


def case_id(model: str, backend: str) -> str:
    return f"{model}.fp32.{backend}.threads=1.single_stream.b1"


def test_bad_files_fail_their_own_cases_and_the_rest_is_measured(tmp_path: Path) -> None:
    import onnxruntime

    from edgebench.backends.tflite_backend import import_interpreter_module

    files = make_bad_models(tmp_path / "models")
    suite = write(tmp_path / "bad.toml", suite_text(files))
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "edgebench", "run", "--profile", "local", "--suite", str(suite),
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr  # cases failed
    records = {r["case_id"]: r for r in RunStore.open(out).records()}

    assert records[case_id("good", "onnxruntime")]["status"] == "ok"
    assert records[case_id("good", "tflite")]["status"] == "ok"
    assert records[case_id("good", "tflite")]["summary"]["latency"]["n"] >= 10

    # found by the suite loader: the line names the suite, the key and the file
    lines = expected_lines(files)
    for index, (name, kinds) in enumerate(MODELS.items()):
        for position, kind in enumerate(kinds):
            if kind not in lines:
                continue
            backend = "tflite" if files[kind].suffix == ".tflite" else "onnxruntime"
            key = f"models[{index}].path[{position}]"
            record = records[case_id(name, backend)]
            assert (record["status"], record["error"]) == ("failed", f"{suite}: {key}: {lines[kind]}"), kind
            assert f"{case_id(name, backend)}  {suite}: {key}: {lines[kind]}  (" in done.stderr, kind  # then its time
    # an .onnx-only model on the tflite backend is skipped, as before
    assert records[case_id("directory", "tflite")]["status"] == "skipped"

    # found by the runtime in the worker: edgebench's words first, the runtime's text after them
    _, dist, version = import_interpreter_module()
    ort = f"onnxruntime {onnxruntime.__version__}"
    by_worker = {
        case_id("custom_op", "onnxruntime"): f"{files['custom_domain_op']}: {ort} has no operator MyOp in domain "
                                             f"com.example: ",
        case_id("unknown_op", "onnxruntime"): f"{files['unknown_op']}: {ort} has no operator NoSuchOp in domain "
                                              f"ai.onnx (opset 13): ",
        case_id("new_opset", "onnxruntime"): f"{files['opset_too_new']}: it uses opset 99 of domain ai.onnx; {ort} "
                                             f"supports up to ",
        case_id("custom_op", "tflite"): f"{files['custom_op_tflite']}: {dist} {version} has no custom op MyOp: ",
    }
    for identifier, words in by_worker.items():
        record = records[identifier]
        assert record["status"] == "failed" and record["error"].startswith(words), record["error"]
        assert "\n" not in record["error"]

    statuses = sorted(r["status"] for r in records.values())
    assert statuses.count("ok") == 2 and "pending" not in statuses

    # nothing is left to resume; a resume is a no-op that keeps every line
    again = subprocess.run([sys.executable, "-m", "edgebench", "run", "--resume", str(out)], cwd=REPO,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 1, again.stderr
    assert {r["case_id"]: r["error"] for r in RunStore.open(out).records()} == \
        {k: r["error"] for k, r in records.items()}


def test_resume_runs_the_good_files_cases_and_keeps_the_bad_files_lines(tmp_path: Path) -> None:
    from edgebench.config.profile import load_profile
    from edgebench.config.suite import load_suite
    from edgebench.harness import runner
    from edgebench.transports import make_transport

    files = make_bad_models(tmp_path / "models")
    suite_path = write(tmp_path / "s.toml", suite_text(files).split('[[models]]\nname = "empty"')[0]
                       + '[[backends]]\nname = "onnxruntime"\nthreads = 1\n')
    out = tmp_path / "run"
    profile = load_profile("local")
    with make_transport(profile) as transport:
        store, cases = runner.start_run(load_suite(suite_path), profile, out, runner.RunOptions(fast=True), transport)
    store.finish("interrupted")  # as if Ctrl-C came before the first case
    truncated = f"{suite_path}: models[1].path[0]: {expected_lines(files)['truncated_onnx']}"
    assert [r["case_id"] for r in RunStore.open(out).pending()] == [case_id("good", "onnxruntime")]
    assert RunStore.open(out).record(case_id("truncated", "onnxruntime"))["error"] == truncated

    runner.resume(out, profile)
    records = {r["case_id"]: r for r in RunStore.open(out).records()}
    assert records[case_id("good", "onnxruntime")]["status"] == "ok"
    assert (records[case_id("truncated", "onnxruntime")]["status"],
            records[case_id("truncated", "onnxruntime")]["error"]) == ("failed", truncated)

    # planned sha256 on resume: a model file that became a directory fails its case, named, with no traceback
    RunStore.open(out).mark(case_id("good", "onnxruntime"), "pending", None)
    files["good_onnx"].unlink()
    files["good_onnx"].mkdir()
    store = RunStore.open(out)
    assert runner.unchanged_models(store, runner.resume_cases(store)) == []
    assert store.record(case_id("good", "onnxruntime"))["error"].startswith(
        f"model file {files['good_onnx']} changed since the run started (sha256 was ")
    assert store.record(case_id("good", "onnxruntime"))["error"].endswith(", the file is gone or cannot be read)")

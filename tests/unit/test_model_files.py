"""Model files checked by their content: one line naming the file and what is wrong, for every kind of bad file
(made from the shipped models in a temporary directory), and the runtimes' load errors put in edgebench's words."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

from edgebench.config.model_format import identify, problem_of
from edgebench.config.suite import load_suite
from edgebench.errors import ConfigError, ModelError
from edgebench.harness.matrix import expand, mark_unsupported
from tests.conftest import REPO, write
from tests.fixtures.model_files import GOOD_ONNX, GOOD_TFLITE, make_bad_models


@pytest.fixture
def bad(tmp_path: Path) -> dict[str, Path]:
    return make_bad_models(tmp_path / "models")


def expected_lines(files: dict[str, Path]) -> dict[str, str]:
    """What edgebench says about each file the suite loader can judge alone (by kind)."""
    return {  # 62113: where kws_dscnn_int8.onnx's graph field ends (its opset_import follows)
        "truncated_onnx": f"{files['truncated_onnx']} is truncated: 5000 bytes, but the ONNX model in it runs to byte "
                          f"62113",
        "truncated_tflite": f"{files['truncated_tflite']} is truncated: 5000 bytes, but the TFLite flatbuffer in it "
                            f"runs to byte 48276",
        "empty": f"{files['empty']} is empty (0 bytes)",
        "tflite_named_onnx": f"{files['tflite_named_onnx']} is a TFLite flatbuffer, not ONNX: rename it to "
                             f"renamed.tflite",
        "onnx_named_tflite": f"{files['onnx_named_tflite']} is an ONNX model, not TFLite: rename it to renamed.onnx",
        "random_onnx": f"{files['random_onnx']} is not a model file: neither ONNX (at byte 0: wire type 3 (not used "
                       f"by ONNX)) nor TFLite (no TFL3 at bytes 4..8)",
        "random_tflite": f"{files['random_tflite']} is not a model file: neither ONNX (at byte 0: wire type 3 (not "
                         f"used by ONNX)) nor TFLite (no TFL3 at bytes 4..8)",
        "unreadable": f"{files['unreadable']} cannot be read: no one has read permission (mode 000)",
        "directory": f"{files['directory']} is a directory, not a model file",
        "symlink_loop": f"{files['symlink_loop']} is a symlink loop (following its links leads back to a link "
                        f"already seen)",
        "absent": f"file not found: {files['absent']}",
        "external_data_missing": f"{files['external_data_missing']}: its external data file "
                                 f"{files['external_data_missing']}.data is missing (tensor 'w1' is stored there)",
    }


def test_each_bad_file_gets_one_line_naming_it(bad: dict[str, Path]) -> None:
    for kind, line in expected_lines(bad).items():
        declared = "tflite" if bad[kind].suffix == ".tflite" else "onnx"
        assert problem_of(bad[kind], declared) == line, kind
    for kind in ("good_onnx", "good_tflite", "custom_domain_op", "unknown_op", "opset_too_new", "custom_op_tflite"):
        # sound files: what these lack is the runtime's to say (in the worker)
        assert problem_of(bad[kind], bad[kind].suffix[1:]) is None, kind


def test_every_shipped_model_is_sound_and_is_what_its_name_says(repo: Path) -> None:
    for path in sorted((repo / "suites" / "models").glob("*.*")):
        if path.suffix in (".onnx", ".tflite"):
            assert problem_of(path, path.suffix[1:]) is None, path
            assert identify(path.read_bytes()) == (path.suffix[1:], None), path


def test_the_truncation_point_does_not_matter(tmp_path: Path) -> None:
    """Cut anywhere (inside the header, a varint, the graph, the weights): truncated or not a model, never
    passed as sound."""
    for source in (GOOD_ONNX, GOOD_TFLITE):
        data = source.read_bytes()
        for cut in (1, 3, 7, 9, 40, 200, len(data) // 3, len(data) // 2, len(data) - 300, len(data) - 1):
            path = tmp_path / f"cut{source.suffix}"
            path.write_bytes(data[:cut])
            line = problem_of(path, source.suffix[1:])
            assert line is not None and line.startswith(f"{path} is "), (source.name, cut, line)
            assert " truncated: " in line or " is not a model file: " in line, (source.name, cut, line)


def test_the_other_format_damaged_is_named_as_both(tmp_path: Path) -> None:
    path = tmp_path / "cut.tflite"
    path.write_bytes(GOOD_ONNX.read_bytes()[:5000])
    assert problem_of(path, "tflite") == (f"{path} is an ONNX model, not TFLite (rename it to cut.onnx), and it is "
                                          f"truncated: 5000 bytes, but the ONNX model in it runs to byte 62113")


def test_tflite_weights_appended_after_the_flatbuffer(tmp_path: Path) -> None:
    """Models over 2 GB keep their weights after the flatbuffer (Buffer.offset/size, absolute): they count."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(GOOD_TFLITE.read_bytes(), 0))
    largest = max(model.buffers, key=lambda b: 0 if b.data is None else len(b.data))
    weights = bytes(bytearray(largest.data))
    largest.data = None
    largest.offset, largest.size = 1 << 20, len(weights)  # placed once the flatbuffer's length is known
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    flat = bytes(builder.Output())
    assert len(flat) < 1 << 20
    path = tmp_path / "appended.tflite"
    path.write_bytes(flat + bytes((1 << 20) - len(flat)) + weights)
    assert problem_of(path, "tflite") is None
    path.write_bytes(flat + bytes((1 << 20) - len(flat)) + weights[:-1])
    assert problem_of(path, "tflite") == (f"{path} is truncated: {(1 << 20) + len(weights) - 1} bytes, but the "
                                          f"TFLite flatbuffer in it runs to byte {(1 << 20) + len(weights)}")


def test_external_data_shorter_than_its_tensor(tmp_path: Path) -> None:
    from tests.fixtures.model_files import external_data_onnx

    model = external_data_onnx(tmp_path / "ext.onnx")
    data_file = tmp_path / "ext.onnx.data"
    assert problem_of(model, "onnx") is None
    data_file.write_bytes(data_file.read_bytes()[:100])
    assert problem_of(model, "onnx") == (f"{model}: its external data file {data_file} is truncated: 100 bytes, but "
                                         f"tensor 'w1' runs to byte 2048")


def test_things_mistaken_for_a_model(tmp_path: Path) -> None:
    pointer = write(tmp_path / "lfs.onnx", "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1\n")
    assert problem_of(pointer, "onnx") == f"{pointer} is a Git LFS pointer, not the model: fetch it with `git lfs pull`"
    page = write(tmp_path / "page.tflite", "<!DOCTYPE html><html><body>404</body></html>")
    assert problem_of(page, "tflite") == f"{page} is an HTML page, not a model (a failed download?)"
    stub = tmp_path / "stub.tflite"
    stub.write_bytes(GOOD_TFLITE.read_bytes()[:6])
    assert problem_of(stub, "tflite") == (f"{stub} is truncated: 6 bytes, too few for a TFLite flatbuffer (its "
                                          f"header is 8)")


def as_user(uid: int, action: Callable[[], object]) -> str:
    """``action()``'s result (a string) computed in a forked child running as ``uid``: the kernel, not a mock,
    refuses what that user may not read. The child runs only code already imported."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.write(write_end, str(action()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read().decode()
    os.waitpid(pid, 0)
    return answer


def test_unreadable_for_the_user_who_runs_it() -> None:
    """Read bits present but the kernel refuses open() to this user (a file owned by someone else, mode 600):
    the same kind of line. As root (the usual case here) the check runs in a child that became ``nobody``."""
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="edgebench-unreadable-"))  # under /tmp: traversable by nobody
    try:
        shared.chmod(0o755)
        path = shared / "m.onnx"
        path.write_bytes(GOOD_ONNX.read_bytes())
        path.chmod(0o600)
        if os.geteuid() == 0:
            line = as_user(65534, lambda: problem_of(path, "onnx"))
        else:
            os.chmod(path, 0o044)  # group and others may read, the owner may not
            line = str(problem_of(path, "onnx"))
        assert line == f"{path} cannot be read: Permission denied"
    finally:
        path.unlink()
        shared.rmdir()


SUITE = """
name = "bad-models"
[[models]]
name = "good"
path = ["models/good.onnx", "models/good.tflite"]
[[models]]
name = "renamed"
path = ["models/renamed.onnx", "models/renamed.tflite"]
[[models]]
name = "loop"
path = "models/loop.onnx"
[[models]]
name = "absent"
path = "models/absent.onnx"
[[backends]]
name = "onnxruntime"
threads = 1
[[backends]]
name = "tflite"
threads = 1
"""


def test_a_bad_file_fails_its_own_cases_and_nothing_else(tmp_path: Path, bad: dict[str, Path]) -> None:
    suite_path = write(tmp_path / "s.toml", SUITE)
    suite = load_suite(suite_path)  # loads: no bad file stops the suite
    lines = expected_lines(bad)
    problems = {c.case_id: c.model_problem for c in expand(suite)}
    assert problems == {
        "good.fp32.onnxruntime.threads=1.single_stream.b1": None,
        "good.fp32.tflite.threads=1.single_stream.b1": None,
        "renamed.fp32.onnxruntime.threads=1.single_stream.b1":
            f"{suite_path}: models[1].path[0]: {lines['tflite_named_onnx']}",
        "renamed.fp32.tflite.threads=1.single_stream.b1":
            f"{suite_path}: models[1].path[1]: {lines['onnx_named_tflite']}",
        "loop.fp32.onnxruntime.threads=1.single_stream.b1": f"{suite_path}: models[2].path: {lines['symlink_loop']}",
        "loop.fp32.tflite.threads=1.single_stream.b1": None,  # skipped: no .tflite file for it
        "absent.fp32.onnxruntime.threads=1.single_stream.b1": f"{suite_path}: models[3].path: {lines['absent']}",
        "absent.fp32.tflite.threads=1.single_stream.b1": None,
    }
    # a device without the runtime still fails the bad file's cases: the file is bad everywhere
    from edgebench.config.profile import load_profile

    probe = {"backends": {"onnxruntime": {"available": False, "reason": "runtime not installed"},
                          "tflite": {"available": True}}}
    marked = {c.case_id: c for c in mark_unsupported(expand(suite), load_profile("local"), probe)}
    renamed = marked["renamed.fp32.onnxruntime.threads=1.single_stream.b1"]
    assert renamed.model_problem and renamed.skip_reason is None
    assert marked["good.fp32.onnxruntime.threads=1.single_stream.b1"].skip_reason.startswith(
        "backend onnxruntime is not available")
    recorded = suite.to_json()["models"][1]["files"][0]
    assert recorded["problem"] == problems["renamed.fp32.onnxruntime.threads=1.single_stream.b1"]
    assert "problem" not in suite.to_json()["models"][0]["files"][0]


def test_an_extension_that_names_no_format_is_a_suite_error_that_says_what_the_file_is(tmp_path: Path) -> None:
    model = tmp_path / "models" / "net.bin"
    model.parent.mkdir()
    model.write_bytes(GOOD_TFLITE.read_bytes())
    suite_path = write(tmp_path / "s.toml", SUITE.split("[[models]]\nname = \"renamed\"")[0].replace(
        '["models/good.onnx", "models/good.tflite"]', '"models/net.bin"') + '[[backends]]\nname = "null"\n')
    with pytest.raises(ConfigError) as info:
        load_suite(suite_path)
    assert str(info.value) == (f"{suite_path}: models[0].path: unsupported model file type '.bin' (known: .onnx, "
                               f".tflite); {model} is a TFLite flatbuffer: rename it to net.tflite")


# -- what only the runtime can tell, in the worker's backends ------------------------------------------------
def load_error_of(backend: str, path: Path) -> str:
    from edgebench import plugins

    with pytest.raises(ModelError) as info:
        plugins.load("edgebench.backends", backend)().load(str(path), {"threads": 1})
    return str(info.value)


def test_onnxruntime_load_errors_name_the_file_the_op_and_its_domain(bad: dict[str, Path], tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    runtime = f"onnxruntime {ort.__version__}"
    cases = {
        "custom_domain_op": (f"{runtime} has no operator MyOp in domain com.example: ", "com.example:MyOp"),
        "unknown_op": (f"{runtime} has no operator NoSuchOp in domain ai.onnx (opset 13): ", "NoSuchOp"),
        "opset_too_new": ("it uses opset 99 of domain ai.onnx; ", "Opset 99"),
        # on a device the host's check does not see (a copy without its .data file)
        "external_data_missing": (f"its external data file {bad['external_data_missing']}.data is missing: ",
                                  ("External data", "cannot get file size")),  # newer / older onnxruntime
    }
    for kind, (words, runtime_text) in cases.items():
        line = load_error_of("onnxruntime", bad[kind])
        assert line.startswith(f"{bad[kind]}: {words}"), line
        texts = runtime_text if isinstance(runtime_text, tuple) else (runtime_text,)
        assert any(t in line[len(f"{bad[kind]}: {words}"):] for t in texts) and "\n" not in line, line
    assert load_error_of("onnxruntime", bad["opset_too_new"]).startswith(
        f"{bad['opset_too_new']}: it uses opset 99 of domain ai.onnx; {runtime} supports up to ")


CAPPED_LOAD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # a runtime that reads a damaged file wildly fails here
from edgebench import plugins
from edgebench.errors import ModelError
try:
    plugins.load("edgebench.backends", sys.argv[1])().load(sys.argv[2], {"threads": 1})
except ModelError as exc:
    print(exc)
"""


def capped_load_error_of(backend: str, path: Path) -> str:
    """``load_error_of`` in a child process whose address space is capped at 4 GiB: LiteRT before 2.3 does not
    verify a flatbuffer and, on a truncated one, asks for tens of GiB (the machine's OOM killer took the test
    process). In a run the worker process takes that risk alone; here the cap does."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", CAPPED_LOAD, backend, str(path)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0 and done.stdout.strip(), done.stderr[-2000:]
    return done.stdout.strip()


def test_litert_load_errors_name_the_file_and_the_op(bad: dict[str, Path]) -> None:
    pytest.importorskip("ai_edge_litert")
    from edgebench.backends.tflite_backend import import_interpreter_module

    _, dist, version = import_interpreter_module()
    line = capped_load_error_of("tflite", bad["custom_op_tflite"])
    words = f"{bad['custom_op_tflite']}: {dist} {version} has no custom op MyOp: "
    assert line.startswith(words) and "unresolved custom op: MyOp" in line and "\n" not in line, line
    verifies = tuple(int(p) for p in version.split(".")[:2]) >= (2, 3)  # LiteRT 2.3 verifies the flatbuffer
    for kind in ("truncated_tflite", "random_tflite", "onnx_named_tflite"):
        line = capped_load_error_of("tflite", bad[kind])
        assert line.startswith(f"{bad[kind]}: ") and "\n" not in line, (kind, line)
        if verifies:
            assert line.startswith(f"{bad[kind]}: it is not a valid TFLite flatbuffer: "), (kind, line)
    absent = bad["absent"].with_suffix(".tflite")
    assert capped_load_error_of("tflite", absent).startswith(f"{absent}: it cannot be opened: Could not open "
                                                             f"'{absent}'.")  # LiteRT 2.3 adds a sentence


def test_load_error_rules_on_runtime_texts_not_produced_here() -> None:
    """onnxruntime's text when an op has a schema but no kernel for the types (seen with older builds and
    other execution providers; this build falls back for every type tried), and a model with a newer IR."""
    from edgebench.backends.base import load_error
    from edgebench.backends.onnxruntime_backend import LOAD_ERRORS

    def words(text: str) -> str:
        return str(load_error("m.onnx", RuntimeError(text), LOAD_ERRORS, "fallback", runtime="onnxruntime",
                              version="1.16.3"))

    assert words("[ONNXRuntimeError] : 9 : NOT_IMPLEMENTED : Could not find an implementation for Relu(14) node "
                 "with name 'relu_1'") == (
        "m.onnx: onnxruntime 1.16.3 has no implementation of operator Relu (opset 14) for these types on the "
        "chosen providers: [ONNXRuntimeError] : 9 : NOT_IMPLEMENTED : Could not find an implementation for "
        "Relu(14) node with name 'relu_1'")
    assert words("[ONNXRuntimeError] : 1 : FAIL : Load model from m.onnx failed:Unsupported model IR version: 10, "
                 "max supported IR version: 9\n").startswith(
        "m.onnx: its IR version is 10; onnxruntime 1.16.3 reads up to 9: [ONNXRuntimeError]")
    assert words("something\nnew") == "m.onnx: fallback: something new"


def test_onnx_without_the_onnx_package(bad: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The host may not have ``onnx``: the wire scan alone judges the same files the same way."""
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnx" else real_find_spec(name, *a))
    for kind, line in expected_lines(bad).items():
        assert problem_of(bad[kind], bad[kind].suffix[1:]) == line, kind
    assert problem_of(bad["good_onnx"], "onnx") is None

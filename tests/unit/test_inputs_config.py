"""``models[].inputs``: parsed at the edge, checked against ONNX models on the host, one line per mistake."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebench.config.onnx_graph import OnnxReadError, read_inputs
from edgebench.config.suite import load_suite
from edgebench.errors import ConfigError
from edgebench.harness.matrix import expand
from edgebench.wire import Case
from tests.conftest import MODELS, write
from tests.input_models import echo_model, string_model, token_model, vad_model

HEAD = """
name = "s"
[[models]]
name = "m"
path = "{model}"
{inputs}
[[backends]]
name = "onnxruntime"
"""


@pytest.fixture
def models(tmp_path: Path) -> Path:
    directory = tmp_path / "models"
    vad_model(directory / "vad.onnx")
    token_model(directory / "tokens.onnx")
    echo_model(directory / "echo.onnx")
    string_model(directory / "strings.onnx")
    return directory


def suite(tmp_path: Path, model: str, inputs: str) -> Path:
    return write(tmp_path / "s.toml", HEAD.format(model=f"models/{model}", inputs=inputs))


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_the_schema_of_the_issue_parses_into_plain_data_for_the_case(tmp_path, models):
    np.save(models / "audio.npy", np.zeros((3, 1, 512), dtype="float32"))
    path = suite(tmp_path, "vad.onnx", """
[models.inputs.sr]
value = 16000
[models.inputs.audio]
shape = [1, 512]
range = [-1.0, 1.0]
""")
    model = load_suite(path).models[0]
    assert model.inputs["sr"].value == 16000 and model.inputs["sr"].key == "models[0].inputs.sr"
    assert model.inputs["audio"].shape == (1, 512) and model.inputs["audio"].range == (-1.0, 1.0)
    [case] = expand(load_suite(path))
    assert case.inputs == {"sr": {"key": "models[0].inputs.sr", "value": 16000},
                           "audio": {"key": "models[0].inputs.audio", "shape": [1, 512], "range": [-1.0, 1.0]}}
    assert case.suite_path == str(path) and case.model_key == "models[0]"
    assert Case.from_json(case.to_json()) == case


def test_data_file_is_resolved_next_to_the_suite_and_named_by_sha256(tmp_path, models):
    np.save(models / "audio.npy", np.zeros((3, 1, 512), dtype="float32"))
    path = suite(tmp_path, "vad.onnx", """
[models.inputs.sr]
value = 16000
[models.inputs.audio]
data = "models/audio.npy"
""")
    data = load_suite(path).models[0].inputs["audio"].data
    assert data is not None and data.path == str(models / "audio.npy") and len(data.sha256) == 64
    [case] = expand(load_suite(path))
    assert case.data_files == [{"path": data.path, "sha256": data.sha256, "bytes": data.size_bytes}]
    moved = case.with_data_paths({data.sha256: "/device/cache/audio.npy"})
    assert moved.inputs["audio"]["data"]["path"] == "/device/cache/audio.npy"


def test_input_shapes_is_the_older_spelling_of_shape(tmp_path, models):
    path = suite(tmp_path, "vad.onnx", "input_shapes = { audio = [1, 512] }\n[models.inputs.sr]\nvalue = 16000\n")
    spec = load_suite(path).models[0].inputs["audio"]
    assert spec.shape == (1, 512) and spec.key_of("shape") == "models[0].input_shapes.audio"
    both = suite(tmp_path, "vad.onnx", "input_shapes = { audio = [1, 512] }\n[models.inputs.audio]\nshape = [1, 4]\n")
    assert error_of(both) == (f"{both}: models[0].input_shapes.audio: the shape of audio is given twice (also in "
                              f"models[0].inputs.audio.shape)")


def test_an_old_run_directory_case_with_input_shapes_still_loads():
    case = Case.from_json({"case_id": "c", "model": "m", "precision": "fp32", "format": "onnx", "model_path": "m",
                           "model_sha256": "", "backend": "onnxruntime", "settings": {}, "scenario": "single_stream",
                           "input_shapes": {"x": [1, 3]}})
    assert case.inputs == {"x": {"shape": [1, 3], "key": "input_shapes.x"}}


@pytest.mark.parametrize("model, inputs, key, problem", [
    ("vad.onnx", "[models.inputs.rate]\nvalue = 16000\n", "models[0].inputs.rate",
     "the model has no input 'rate' (its inputs: audio, sr)"),
    ("vad.onnx", "input_shapes = { rate = [1] }\n", "models[0].input_shapes.rate",
     "the model has no input 'rate' (its inputs: audio, sr)"),
    ("vad.onnx", "[models.inputs.audio]\nshape = [512]\n", "models[0].inputs.audio.shape",
     "shape [512] has rank 1; the model's input audio has rank 2 ([1, ?])"),
    ("vad.onnx", "[models.inputs.audio]\nshape = [1, 0]\n", "models[0].inputs.audio.shape",
     "dimension 1 is 0: every dimension must be >= 1 (give the size to use for a dynamic dimension of the model)"),
    ("vad.onnx", "input_shapes = { audio = [1, -1] }\n", "models[0].input_shapes.audio",
     "dimension 1 is -1: every dimension must be >= 1 (give the size to use for a dynamic dimension of the model)"),
    ("echo.onnx", "[models.inputs.x]\nshape = [1, 5]\n", "models[0].inputs.x.shape",
     "shape [1, 5]: dimension 1 is 5, but the model fixes it at 4 (x: [?, 4])"),
    ("vad.onnx", "[models.inputs.sr]\nvalue = 16000.5\n", "models[0].inputs.sr.value",
     "floats cannot feed input sr (int64)"),
    ("vad.onnx", "[models.inputs.sr]\nrange = [0.5, 3]\n", "models[0].inputs.sr.range",
     "input sr (int64) is an integer input: give integer bounds (inclusive), got [0.5, 3]"),
    ("vad.onnx", "[models.inputs.sr]\nnormal = [0.0, 1.0]\n", "models[0].inputs.sr.normal",
     "normal is for float inputs; input sr (int64) takes range = [low, high]"),
    ("echo.onnx", '[models.inputs.x]\nvalue = [["a", "b", "c", "d"]]\n', "models[0].inputs.x.value",
     "strings cannot feed input x (float32)"),
    ("strings.onnx", "[models.inputs.text]\nrange = [0, 1]\n", "models[0].inputs.text.range",
     "a range is for numeric inputs; input text (string) takes data or a value"),
    ("vad.onnx", "[models.inputs.sr]\nvalue = 16000\nrange = [0, 1]\n", "models[0].inputs.sr.range",
     "give only one of value, range, normal, data (this input has value and range)"),
    ("vad.onnx", "[models.inputs.sr]\nvalu = 16000\n", "models[0].inputs.sr.valu",
     "unknown key (known: shape, value, range, normal, data)"),
    ("vad.onnx", "[models.inputs.audio]\nvalue = [[1.0, 2.0], [3.0]]\n", "models[0].inputs.audio.value",
     "a ragged list: every row must have the same length"),
    ("vad.onnx", "[models.inputs.audio]\nshape = [1, 4]\nvalue = [[1.0, 2.0]]\n", "models[0].inputs.audio.value",
     "has shape [1, 2], not the shape [1, 4] given"),
    ("vad.onnx", "[models.inputs.audio]\nrange = [1.0, -1.0]\nshape = [1, 4]\n", "models[0].inputs.audio.range",
     "low 1.0 is above high -1.0"),
    ("tokens.onnx", "[models.inputs.ids]\nrange = [0, 99999999999999999]\n", "models[0].inputs.ids.range",
     None),  # fits int64: accepted
])
def test_each_mistake_is_one_line_naming_file_and_key(tmp_path, models, model, inputs, key, problem):
    path = suite(tmp_path, model, inputs)
    if problem is None:
        load_suite(path)
        return
    assert error_of(path) == f"{path}: {key}: {problem}"


def test_data_file_mistakes(tmp_path, models):
    def data_error(name: str, setup) -> str:
        setup(models / name)
        path = suite(tmp_path, "echo.onnx", f'[models.inputs.x]\ndata = "models/{name}"\n')
        return error_of(path)

    key = f"{tmp_path / 's.toml'}: models[0].inputs.x.data"
    assert data_error("absent.npy", lambda p: None) == f"{key}: file not found: {models / 'absent.npy'}"
    assert data_error("garbage.npy", lambda p: p.write_bytes(b"not numpy")).startswith(
        f"{key}: cannot read {models / 'garbage.npy'}: ")
    assert data_error("images.png", lambda p: p.write_bytes(b"")) == (
        f"{key}: a data file is .npy (axis 0: samples) or .npz (an array named 'x'), got 'models/images.png'")
    assert data_error("other.npz", lambda p: np.savez(p, y=np.zeros((2, 1, 4), "float32"))) == (
        f"{key}: cannot read {models / 'other.npz'}: it has no array named 'x' (its arrays: y)")
    assert data_error("ints.npy", lambda p: np.save(p, np.zeros((2, 1, 4), "complex64"))) == (
        f"{key}: the file holds complex64 values, which cannot feed input x (float32)")
    assert data_error("flat.npy", lambda p: np.save(p, np.zeros((2, 4), "float32"))) == (
        f"{key}: each sample (axis 0 of the file is the samples) has shape [4], rank 1; the model's input x has rank "
        f"2 ([?, 4]); to read axis 0 of the file as the batch, save it with an axis added: np.expand_dims(x, 1)")
    assert data_error("pickle.npy", lambda p: np.save(p, np.array([[{"a": 1}]], dtype=object))).endswith(
        "it holds Python objects (a pickle); save strings as a str or bytes array")


def test_a_file_the_onnx_reader_cannot_parse_is_left_to_the_worker(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.onnx").write_bytes(b"not a real model: the null backend never reads it\n")
    path = suite(tmp_path, "m.onnx", "[models.inputs.x]\nvalue = 1\n")
    assert load_suite(path).models[0].inputs["x"].value == 1


def test_the_onnx_reader_agrees_with_onnx_on_the_shipped_models():
    import onnx

    for path in sorted(MODELS.glob("*.onnx")):
        graph = onnx.load(str(path), load_external_data=False).graph
        weights = {i.name for i in graph.initializer}
        expected = [(i.name, [d.dim_value if d.HasField("dim_value") else -1 for d in i.type.tensor_type.shape.dim])
                    for i in graph.input if i.name not in weights]
        assert [(t.name, list(t.shape or ())) for t in read_inputs(path)] == expected, path.name


def test_the_onnx_reader_gives_dtypes_and_scalar_shapes(tmp_path, models):
    found = {t.name: (t.dtype, t.shape) for t in read_inputs(models / "vad.onnx")}
    assert found == {"audio": ("float32", (1, -1)), "sr": ("int64", ())}
    assert [(t.dtype, t.shape) for t in read_inputs(models / "strings.onnx")] == [("string", (1,))]
    (tmp_path / "x.onnx").write_bytes(b"\xff\xff")
    with pytest.raises(OnnxReadError):
        read_inputs(tmp_path / "x.onnx")

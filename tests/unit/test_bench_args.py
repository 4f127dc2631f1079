"""``edgebench bench``: the --input syntax, and the suite its options build (parsed, not run)."""

from __future__ import annotations

import pytest

from edgebench.cli.bench_cmd import argument_for, build_suite, default_backend, scenarios, suite_data
from edgebench.cli.input_arg import parse_input_arg, parse_input_args
from edgebench.cli.main import build_parser, main
from edgebench.errors import ConfigError
from tests.conftest import MODELS


@pytest.mark.parametrize("text, name, spec", [
    ("x:1x3x224x224", "x", {"shape": [1, 3, 224, 224]}),
    ("x:7", "x", {"shape": [7]}),
    ("sr=16000", "sr", {"value": 16000}),
    ("gain=0.5", "gain", {"value": 0.5}),
    ("flag=true", "flag", {"value": True}),
    ("lang=\"en\"", "lang", {"value": "en"}),
    ("w=[[1,2],[3,4]]", "w", {"value": [[1, 2], [3, 4]]}),
    ("image=@data.npy", "image", {"data": "data.npy"}),
    ("image=@/tmp/a:b.npy", "image", {"data": "/tmp/a:b.npy"}),
    ("ids:1x128:range=0,30521", "ids", {"shape": [1, 128], "range": [0, 30521]}),
    ("ids:range=-1.5,2e3", "ids", {"range": [-1.5, 2000.0]}),
    ("noise:normal=0,1", "noise", {"normal": [0, 1]}),
    ("noise:1x16:normal=0.5,0.1", "noise", {"shape": [1, 16], "normal": [0.5, 0.1]}),
    ("mask:1x128=1", "mask", {"shape": [1, 128], "value": 1}),
    ("x:1x4:value=[1,2,3,4]", "x", {"shape": [1, 4], "value": [1, 2, 3, 4]}),
    ("x:2x3:data=in.npz", "x", {"shape": [2, 3], "data": "in.npz"}),
    ("'serving_default_input:0':1x640", "serving_default_input:0", {"shape": [1, 640]}),
    ('"a=b"=3', "a=b", {"value": 3}),
])
def test_input_syntax_to_the_inputs_table(text, name, spec):
    assert parse_input_arg(text) == (name, spec)


@pytest.mark.parametrize("text, problem", [
    ("x", "say what to feed x"),
    (":1x3", "no input name"),
    ("x:1xb", "'1xb' is not a shape"),
    ("x:1x0x3", "every dimension must be >= 1"),
    ("x:1x3:2x3", "two shapes"),
    ("serving_default_input:0:1x640", "a name with ':' goes in quotes: 'serving_default_input:0'"),
    ("x:range=5,1", "the low end is above the high end"),
    ("x:range=0", "expected two numbers, like range=0,255"),
    ("x:normal=0,-1", "the standard deviation must be >= 0"),
    ("x:normal=a,b", "expected two numbers"),
    ("x:range=0,1:normal=0,1", "give one of value, range, normal, data, not both range and normal"),
    ("x=1:2", "value '1:2': expected a number"),
    ("x=[]", "a non-empty JSON list"),
    ("x=abc", "a string in JSON quotes"),
    ("x=@", "no file after '@'"),
    ("'x:0:1x3", "the quote ' around the name is not closed"),
    ("'x:0'1x3", "expected ':' or '=' after the quoted name"),
])
def test_bad_input_syntax_is_one_line_naming_the_argument(text, problem):
    with pytest.raises(ConfigError) as caught:
        parse_input_arg(text)
    message = str(caught.value)
    assert message.startswith(f"--input {text}: ") and problem in message and "\n" not in message


def test_inputs_table_and_a_name_given_twice():
    assert parse_input_args(["a:1x2", "b=3"]) == {"a": {"shape": [1, 2]}, "b": {"value": 3}}
    with pytest.raises(ConfigError, match="--input a=1: input a is given twice"):
        parse_input_args(["a:1x2", "a=1"])


def test_backend_by_format():
    assert default_backend(MODELS / "kws_dscnn_fp32.onnx") == "onnxruntime"
    assert default_backend(MODELS / "kws_dscnn_fp32.tflite") == "tflite"
    with pytest.raises(ConfigError, match="unsupported model file type '.pt'"):
        default_backend(MODELS / "model.pt")


def test_scenarios_from_batch_and_concurrency():
    assert scenarios([1], [1]) == [{"name": "single_stream"}]
    assert scenarios([8], [1]) == [{"name": "batch", "batch": [8]}]
    assert scenarios([1, 4], [1, 2]) == [{"name": "single_stream"}, {"name": "batch", "batch": [4]},
                                         {"name": "concurrent", "batch": [1, 4], "concurrency": [2]}]
    assert scenarios([1], [4]) == [{"name": "concurrent", "batch": [1], "concurrency": [4]}]


def bench_args(*argv: str):
    return build_parser().parse_args(["bench", *argv])


def test_the_built_suite_goes_through_the_suite_parser():
    model = MODELS / "kws_dscnn_int8.tflite"
    args = bench_args(str(model), "--threads", "1,all", "--batch", "1,4", "--seconds", "2", "--warmup", "3",
                      "--set", "xnnpack=false")
    suite = build_suite(args)
    assert suite.name == "kws_dscnn"  # the manifest beside the file names it
    assert [(m.name, m.precision, [f.path for f in m.files]) for m in suite.models] == [
        ("kws_dscnn", "int8", [model.resolve()])]
    assert suite.backends[0].name == "tflite"
    assert dict(suite.backends[0].settings) == {"threads": (1, "all"), "xnnpack": (False,)}
    assert [(s.name, s.batch) for s in suite.scenarios] == [("single_stream", (1,)), ("batch", (4,))]
    rules = suite.rules
    assert (rules.warmup_iterations, rules.warmup_seconds, rules.min_seconds, rules.max_seconds) == (3, 0, 2, 2)


def test_iterations_and_names(tmp_path):
    model = tmp_path / "net.onnx"
    model.write_bytes((MODELS / "kws_dscnn_fp32.onnx").read_bytes())  # no manifest here
    suite = build_suite(bench_args(str(model), "--iterations", "500", "--precision", "fp16"))
    assert (suite.name, suite.models[0].name, suite.models[0].precision) == ("net", "net", "fp16")
    assert (suite.rules.min_iterations, suite.rules.max_iterations, suite.rules.min_seconds) == (500, 500, 0)
    named = build_suite(bench_args(str(model), "--name", "mine", "--concurrency", "2"))
    assert (named.name, named.models[0].name, named.scenarios[0].concurrency) == ("mine", "mine", (2,))


def test_input_entries_land_in_the_models_inputs_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = suite_data(bench_args(str(MODELS / "kws_dscnn_fp32.onnx"), "--input", "input:1x49x10x1",
                                 "--input", "other=@in.npy"))
    assert data["models"][0]["inputs"] == {"input": {"shape": [1, 49, 10, 1]},
                                           "other": {"data": str(tmp_path / "in.npy")}}


@pytest.mark.parametrize("key, argument", [
    ("models[0].path", "MODEL"), ("models[0].precision", "--precision"), ("backends[0].threads", "--threads"),
    ("backends[0].graph_optimization", "--set graph_optimization"), ("backends[0].name", "--backend"),
    ("models[0].inputs.ids.range", "--input ids"), ("rules.max_seconds", "--seconds/--iterations"),
    ("rules.warmup_iterations", "--warmup"), ("scenarios[0].batch", "--batch/--concurrency"),
])
def test_suite_errors_name_the_option(key, argument):
    assert argument_for(key) == argument


@pytest.mark.parametrize("argv, message", [
    (["--set", "graph_optimization=1"], "--set graph_optimization: expected a string, got an integer 1"),
    (["--set", "nope=1"], "--set nope: unknown setting for backend onnxruntime"),
    (["--set", "novalue"], "--set novalue: expected KEY=VALUE"),
    (["--backend", "nope"], "--backend: unknown backend 'nope'"),
    (["--precision", "int4"], "--precision: must be one of"),
    (["--fast", "--seconds", "2"], "--fast: sets its own short run rules: drop --seconds"),
    (["--sensors", "bogus"], "--sensors bogus: no sensor 'bogus'"),
    (["--input", "x:1xb"], "--input x:1xb: '1xb' is not a shape"),
])
def test_bad_options_are_one_line_and_run_nothing(argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["bench", str(MODELS / "kws_dscnn_fp32.onnx"), "--out", str(out), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"edgebench: error: {message}") and err.count("\n") == 1, err
    assert not out.exists()


def test_a_missing_or_unknown_model_file(tmp_path, capsys):
    assert main(["bench", str(tmp_path / "absent.onnx")]) == 2
    assert capsys.readouterr().err == f"edgebench: error: {tmp_path / 'absent.onnx'}: file not found\n"
    (tmp_path / "m.pt").write_bytes(b"x")
    assert main(["bench", str(tmp_path / "m.pt")]) == 2
    assert "unsupported model file type '.pt' (known: .onnx, .tflite)" in capsys.readouterr().err


def test_names_are_safe_as_directory_names(tmp_path):
    model = tmp_path / "my net.onnx"
    model.write_bytes((MODELS / "kws_dscnn_fp32.onnx").read_bytes())
    assert build_suite(bench_args(str(model))).name == "my_net"


@pytest.mark.parametrize("argv", [["--threads", "two"], ["--batch", "0"], ["--batch", "2,2"], ["--name", "a/b"],
                                  ["--seconds", "1", "--iterations", "5"], ["--seconds", "-1"]])
def test_bad_numbers_are_argparse_errors(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["bench", "m.onnx", *argv])
    assert caught.value.code == 2 and "argument --" in capsys.readouterr().err

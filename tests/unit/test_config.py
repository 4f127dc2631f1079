"""Suite and profile validation: every error names the file and the key, in one line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from edgebench.config.profile import load_profile
from edgebench.config.suite import load_suite
from edgebench.errors import ConfigError
from tests.conftest import write

GOOD = """
name = "s"
[rules]
min_iterations = 5
[[models]]
name = "tiny"
path = "models/tiny.onnx"
[[backends]]
name = "onnxruntime"
threads = [1, "all"]
"""


def suite_at(tmp_path: Path, text: str) -> Path:
    return write(tmp_path / "s.toml", text)


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    return str(info.value)


def test_good_suite_parses(tmp_path, tiny_onnx):
    suite = load_suite(suite_at(tmp_path, GOOD))
    assert suite.name == "s"
    assert suite.rules.min_iterations == 5
    assert suite.models[0].files[0].format == "onnx"
    assert suite.backends[0].settings == {"threads": (1, "all")}


def test_unknown_top_level_key(tmp_path, tiny_onnx):
    path = suite_at(tmp_path, "bogus = 1\n" + GOOD)
    assert error_of(path) == f"{path}: bogus: unknown key"


def test_unknown_rule_key(tmp_path, tiny_onnx):
    path = suite_at(tmp_path, GOOD.replace("min_iterations = 5", "min_iteration = 5"))
    assert error_of(path) == f"{path}: rules.min_iteration: unknown key"


def test_unknown_backend_setting(tmp_path, tiny_onnx):
    path = suite_at(tmp_path, GOOD.replace('threads = [1, "all"]', "thread = 1"))
    assert error_of(path) == (f"{path}: backends[0].thread: unknown setting for backend onnxruntime "
                              "(known: execution_mode, graph_optimization, inter_op_threads, provider_options, "
                              "providers, threads)")


def test_wrong_type(tmp_path, tiny_onnx):
    path = suite_at(tmp_path, GOOD.replace("min_iterations = 5", 'min_iterations = "five"'))
    assert error_of(path) == f"{path}: rules.min_iterations: expected an integer, got a string 'five'"


def test_wrong_type_in_a_setting_axis(tmp_path, tiny_onnx):
    path = suite_at(tmp_path, GOOD.replace('threads = [1, "all"]', 'threads = [1, "many"]'))
    assert error_of(path) == f'{path}: backends[0].threads[1]: expected an integer or "all", got \'many\''


def test_missing_model_file_is_that_files_problem_not_the_suites(tmp_path):
    """The suite loads; the file's cases fail with this line (tests/integration/test_bad_model_files.py)."""
    path = suite_at(tmp_path, GOOD.replace("models/tiny.onnx", "models/absent.onnx"))
    model_file = load_suite(path).models[0].files[0]
    assert model_file.problem == f"{path}: models[0].path: file not found: {tmp_path / 'models' / 'absent.onnx'}"
    assert (model_file.format, model_file.sha256, model_file.size_bytes) == ("onnx", "", None)


def test_sha256_mismatch(tmp_path, tiny_onnx):
    actual = hashlib.sha256(tiny_onnx.read_bytes()).hexdigest()
    path = suite_at(tmp_path, GOOD.replace('path = "models/tiny.onnx"',
                                           'path = "models/tiny.onnx"\nsha256 = "' + "0" * 64 + '"'))
    assert load_suite(path).models[0].files[0].problem == (
        f"{path}: models[0].path: sha256 mismatch for {tiny_onnx}: suite says {'0' * 64}, file has {actual}")


def test_url_model_is_fetched_once_and_checked(tmp_path, tiny_onnx, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    digest = hashlib.sha256(tiny_onnx.read_bytes()).hexdigest()
    text = GOOD.replace('path = "models/tiny.onnx"', f'url = "{tiny_onnx.as_uri()}"\nsha256 = "{digest}"')
    suite = load_suite(suite_at(tmp_path, text))
    cached = suite.models[0].files[0].path
    assert cached == tmp_path / "cache" / "edgebench" / "models" / digest / "tiny.onnx"
    bad = text.replace(digest, "f" * 64)
    path = suite_at(tmp_path, bad)
    assert load_suite(path).models[0].files[0].problem == (
        f"{path}: models[0].url: sha256 mismatch for {tiny_onnx.as_uri()}: suite says {'f' * 64}, download has "
        f"{digest}")


def test_unknown_backend_names_the_known_ones(tmp_path, tiny_onnx):
    path = suite_at(tmp_path, GOOD.replace('name = "onnxruntime"', 'name = "tensorrt"'))
    assert error_of(path).startswith(f"{path}: backends[0].name: unknown backend 'tensorrt' (known: ")


def test_invalid_toml_names_the_file(tmp_path):
    path = suite_at(tmp_path, "name = \n")
    assert error_of(path).startswith(f"{path}: invalid TOML: ")


def test_missing_suite_file(tmp_path):
    path = tmp_path / "nope.toml"
    assert error_of(path) == f"{path}: file not found"


def test_unknown_scenario(tmp_path, tiny_onnx):
    path = suite_at(tmp_path, GOOD + '[[scenarios]]\nname = "offline_magic"\n')
    assert error_of(path) == (f"{path}: scenarios[0].name: unknown scenario 'offline_magic' "
                              "(known: single_stream, batch, concurrent, sustained, server, offline, multistream)")


def test_profile_errors_name_file_and_key(tmp_path):
    path = write(tmp_path / "p.toml", 'name = "p"\n[device]\ncores = "four"\n')
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert str(info.value) == f"{path}: device.cores: expected an integer, got a string 'four'"


def test_every_shipped_profile_and_suite_parses(repo):
    from edgebench.config.locate import list_names

    profiles = sorted(p.stem for p in (repo / "device_profiles").glob("*.toml"))
    assert "local" in profiles
    for name in profiles:
        profile = load_profile(repo / "device_profiles" / f"{name}.toml")
        assert profile.name == name
    for name in list_names("suites"):
        load_suite(repo / "suites" / f"{name}.toml")


def test_profile_redacts_passwords(tmp_path):
    path = write(tmp_path / "p.toml", '[transport]\nkind = "ssh"\nhost = "h"\npassword = "hunter2"\n')
    assert "hunter2" not in str(load_profile(path).to_json())

"""Every configuration value is bounded: a bad one is one line naming the file and the key, found while the
suite or profile is parsed (before any run directory exists)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from edgebench.config.fields import Table, check_number
from edgebench.config.locate import locate
from edgebench.config.profile import load_profile
from edgebench.config.suite import load_suite
from edgebench.errors import ConfigError
from tests.conftest import MODELS, write

SUITE = f"""
name = "s"
seed = 1
[rules]
min_iterations = 5
min_seconds = 0.0
max_seconds = 0.1
[[models]]
name = "kws"
precision = "int8"
path = "{MODELS / 'kws_dscnn_int8.onnx'}"
[[backends]]
name = "null"
busy_wait_us = 0
[[scenarios]]
name = "single_stream"
"""

PROFILE = """
name = "p"
[device]
cores = 4
ram_gb = 4
tdp_w = 10
price_usd = 149
[transport]
kind = "local"
[backends.onnxruntime]
providers = ["CPUExecutionProvider"]
[sensors]
expected = ["psutil"]
period_ms = 100
idle_seconds = 0.0
[cooldown]
max_temp_c = 50.0
stable_delta_c = 0.5
timeout_s = 300
[prepare]
governor = "performance"
"""


def error_of(load, path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


# (what to replace, with what, the key named, the problem said)
SUITE_CASES = [
    ("busy_wait_us = 0", "threads = 10000", "backends[0].threads", "must be between 1 and 1024, got 10000"),
    ("busy_wait_us = 0", "threads = -1", "backends[0].threads", "must be between 1 and 1024, got -1"),
    ("busy_wait_us = 0", "threads = [1, 0]", "backends[0].threads[1]", "must be between 1 and 1024, got 0"),
    ("busy_wait_us = 0", "threads = true", "backends[0].threads", "expected an integer, got a boolean True"),
    ("busy_wait_us = 0", 'threads = "many"', "backends[0].threads", 'expected an integer or "all", got \'many\''),
    ("busy_wait_us = 0", "busy_wait_us = nan", "backends[0].busy_wait_us", "must be a finite number, got nan"),
    ("busy_wait_us = 0", "busy_wait_us = -5", "backends[0].busy_wait_us", "must be between 0 and 1000000, got -5"),
    ("min_seconds = 0.0", "min_seconds = nan", "rules.min_seconds", "must be a finite number, got nan"),
    ("min_seconds = 0.0", "min_seconds = 0.0\nprocesses = 0", "rules.processes", "must be between 1 and 50, got 0"),
    ('name = "null"\nbusy_wait_us = 0', 'name = "null"\nstall_every = -1', "backends[0].stall_every",
     "must be between 0 and 1000000, got -1"),
    ("max_seconds = 0.1", "max_seconds = inf", "rules.max_seconds", "must be a finite number, got inf"),
    ("min_seconds = 0.0\nmax_seconds = 0.1", "min_seconds = 1e9\nmax_seconds = 1e9", "rules.min_seconds",
     "must be between 0 and 86400, got 1000000000"),
    ("max_seconds = 0.1", "max_seconds = 0", "rules.max_seconds", "must be > 0 and <= 86400, got 0"),
    ("min_seconds = 0.0", "min_seconds = 2", "rules.max_seconds", "must be >= min_seconds (2.0), got 0.1"),
    ("min_seconds = 0.0", "min_seconds = -1", "rules.min_seconds", "must be between 0 and 86400, got -1"),
    ("min_iterations = 5", "min_iterations = 0", "rules.min_iterations",
     "must be between 1 and 10000000, got 0"),
    ("min_iterations = 5", "min_iterations = 5.5", "rules.min_iterations", "expected an integer, got a number 5.5"),
    ("min_iterations = 5", "min_iterations = 50\nmax_iterations = 10", "rules.max_iterations",
     "must be >= min_iterations (50), got 10"),
    ("min_iterations = 5", "warmup_seconds = 1e6", "rules.warmup_seconds",
     "must be between 0 and 86400, got 1000000"),
    ("min_iterations = 5", "confidence = 1.0", "rules.confidence", "must be between 0.5 and 0.999, got 1"),
    ("min_iterations = 5", "target_ci_rel_width = -0.1", "rules.target_ci_rel_width",
     "must be between 0 and 1, got -0.1"),
    ("seed = 1", "seed = -1", "seed", "must be between 0 and 4294967295, got -1"),
    ('name = "s"', 'name = "../../../../X"', "name",
     "'../../../../X' is not a safe name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or "
     "digit"),
    ('name = "kws"', 'name = "a/b"', "models[0].name", "'a/b' is not a safe name"),
    ('name = "kws"', 'name = ".."', "models[0].name", "'..' is not a safe name"),
    (f'path = "{MODELS / "kws_dscnn_int8.onnx"}"', "path = []", "models[0].path",
     "an empty list: give at least one model file"),
    ('precision = "int8"', 'precision = "int8"\nsha256 = "abc"', "models[0].sha256",
     "expected 64 hexadecimal digits, got 'abc'"),
    ('name = "single_stream"', 'name = "offline_magic"', "scenarios[0].name",
     "unknown scenario 'offline_magic' (known: single_stream, batch, concurrent, sustained, server, offline, "
     "multistream)"),
    ('name = "single_stream"', 'name = "batch"\nbatch = 0', "scenarios[0].batch",
     "must be between 1 and 4096, got 0"),
    ('name = "single_stream"', 'name = "batch"\nbatch = [8, 100000]', "scenarios[0].batch",
     "must be between 1 and 4096, got 100000"),
    ('name = "single_stream"', 'name = "concurrent"\nconcurrency = 1000', "scenarios[0].concurrency",
     "must be between 1 and 256, got 1000"),
    ('name = "single_stream"', 'name = "sustained"\nduration_s = 0', "scenarios[0].duration_s",
     "must be > 0 and <= 86400, got 0"),
    ('name = "single_stream"', 'name = "sustained"\nduration_s = nan', "scenarios[0].duration_s",
     "must be a finite number, got nan"),
    ('name = "null"\nbusy_wait_us = 0', 'name = "onnxruntime"\ngraph_optimization = "max"',
     "backends[0].graph_optimization", "must be one of disable, basic, extended, all, got 'max'"),
    ('name = "null"\nbusy_wait_us = 0', 'name = "onnxruntime"\nexecution_mode = "fast"',
     "backends[0].execution_mode", "must be one of sequential, parallel, got 'fast'"),
    ('name = "null"\nbusy_wait_us = 0', 'name = "onnxruntime"\ninter_op_threads = 0',
     "backends[0].inter_op_threads", "must be between 1 and 1024, got 0"),
    ('name = "null"\nbusy_wait_us = 0', 'name = "onnxruntime"\ninter_op_threads = "all"',
     "backends[0].inter_op_threads", "expected an integer, got a string 'all'"),
    ('name = "null"\nbusy_wait_us = 0', 'name = "onnxruntime"\nproviders = []', "backends[0].providers",
     "an empty list: name at least one execution provider"),
    ('name = "null"\nbusy_wait_us = 0', 'name = "onnxruntime"\nprovider_options = { CPUExecutionProvider = 1 }',
     "backends[0].provider_options", "CPUExecutionProvider: expected a table of that provider's options"),
    ('name = "null"\nbusy_wait_us = 0', 'name = "tflite"\ndelegates = [{ lib = "x.so" }]', "backends[0].delegates",
     "delegate 0: unknown key 'lib' (known: library, options)"),
    ('name = "single_stream"', 'name = "single_stream"\n[[include]]\nmodel = "kws"\nbackend = "null"\n'
                               'threads = 5000', "include[0].threads", "must be between 1 and 1024, got 5000"),
]


@pytest.mark.parametrize("old, new, key, problem", SUITE_CASES, ids=[c[2] + ":" + c[1][:30] for c in SUITE_CASES])
def test_bad_suite_value_is_one_line_naming_file_and_key(tmp_path, old, new, key, problem):
    path = write(tmp_path / "s.toml", edited(SUITE, old, new))
    assert error_of(load_suite, path).startswith(f"{path}: {key}: {problem}")


def test_duplicate_model_name_and_precision(tmp_path):
    model = SUITE[SUITE.index("[[models]]"):SUITE.index("[[backends]]")]
    path = write(tmp_path / "s.toml", SUITE.replace(model, model + model))
    assert error_of(load_suite, path) == f"{path}: models[1].name: duplicate model kws int8"


def test_the_good_suite_and_profile_parse(tmp_path):
    suite = load_suite(write(tmp_path / "s.toml", SUITE))
    assert suite.rules.max_seconds == 0.1 and suite.seed == 1
    profile = load_profile(write(tmp_path / "p.toml", PROFILE))
    assert profile.device.cores == 4 and profile.cooldown.timeout_s == 300.0


def test_every_shipped_suite_and_profile_is_within_bounds(repo):
    for path in sorted((repo / "suites").glob("*.toml")):
        load_suite(path)
    for path in sorted((repo / "device_profiles").glob("*.toml")):
        load_profile(path)


PROFILE_CASES = [
    ("cores = 4", "cores = 0", "device.cores", "must be between 1 and 1024, got 0"),
    ("cores = 4", "cores = 100000", "device.cores", "must be between 1 and 1024, got 100000"),
    ("cores = 4", "cores = 4.5", "device.cores", "expected an integer, got a number 4.5"),
    ("ram_gb = 4", "ram_gb = 0", "device.ram_gb", "must be > 0 and <= 65536, got 0"),
    ("ram_gb = 4", "ram_gb = nan", "device.ram_gb", "must be a finite number, got nan"),
    ("tdp_w = 10", "tdp_w = -1", "device.tdp_w", "must be > 0 and <= 10000, got -1"),
    ("price_usd = 149", "price_usd = inf", "device.price_usd", "must be a finite number, got inf"),
    ("period_ms = 100", "period_ms = 0", "sensors.period_ms", "must be between 1 and 60000, got 0"),
    ("idle_seconds = 0.0", "idle_seconds = nan", "sensors.idle_seconds", "must be a finite number, got nan"),
    ('expected = ["psutil"]', 'expected = ["psutil", "nope.x_c"]', "sensors.expected[1]", "unknown sensor 'nope'"),
    ('expected = ["psutil"]', 'expected = ["psutil"]\noptions = { thermal = 1 }', "sensors.options.thermal",
     "expected a table of the thermal sensor's options, got 1"),
    ("timeout_s = 300", "timeout_s = 1e9", "cooldown.timeout_s", "must be between 0 and 86400, got 1000000000"),
    ("max_temp_c = 50.0", "max_temp_c = 500", "cooldown.max_temp_c", "must be between -40 and 150, got 500"),
    ("stable_delta_c = 0.5", "stable_delta_c = 0", "cooldown.stable_delta_c", "must be > 0 and <= 50, got 0"),
    ('name = "p"', 'name = "../../x"', "name", "'../../x' is not a safe name"),
    ('kind = "local"', 'kind = "serial"', "transport.kind", "must be one of dask, local, ssh, got 'serial'"),
    ('kind = "local"', 'kind = "local"\nhost = "x"', "transport.host",
     "unknown key (the local transport takes only kind)"),
    ('providers = ["CPUExecutionProvider"]', 'providers = "CPUExecutionProvider"', "backends.onnxruntime.providers",
     "expected a list"),
    ('providers = ["CPUExecutionProvider"]', "threads = 2", "backends.onnxruntime.threads", "unknown key"),
    ('governor = "performance"', "fan = 300", "prepare.fan", 'expected "max" or a PWM value 0..255, got 300'),
]


@pytest.mark.parametrize("old, new, key, problem", PROFILE_CASES,
                         ids=[c[2] + ":" + c[1][:30] for c in PROFILE_CASES])
def test_bad_profile_value_is_one_line_naming_file_and_key(tmp_path, old, new, key, problem):
    path = write(tmp_path / "p.toml", edited(PROFILE, old, new))
    assert error_of(load_profile, path).startswith(f"{path}: {key}: {problem}")


@pytest.mark.parametrize("load", [load_suite, load_profile], ids=["suite", "profile"])
@pytest.mark.parametrize("content, problem", [
    (b"\xff\xfename = 's'\n", "not a UTF-8 text file (byte 0xff at offset 0): TOML is UTF-8 text"),
    (b'name = "caf\xe9"\n', "not a UTF-8 text file (byte 0xe9 at offset 11): TOML is UTF-8 text"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00", "a binary file (NUL byte at offset 7), not TOML"),
], ids=["bom16", "latin1", "binary"])
def test_non_utf8_or_binary_file(tmp_path, load, content, problem):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    assert error_of(load, path) == f"{path}: {problem}"


def test_a_directory_given_as_a_file(tmp_path):
    directory = tmp_path / "mine.toml"
    directory.mkdir()
    with pytest.raises(ConfigError, match=r"mine\.toml: is a directory, not a TOML file$"):
        locate(str(directory), "suites")
    with pytest.raises(ConfigError, match=r"mine\.toml: is a directory, not a TOML file$"):
        load_suite(directory)


def test_an_unsafe_file_name_is_not_a_suite_name(tmp_path):
    path = write(tmp_path / "my suite.toml", SUITE.replace('name = "s"\n', "", 1))
    assert error_of(load_suite, path).startswith(f"{path}: name (taken from the file name): 'my suite' is not a "
                                                 f"safe name")


@pytest.mark.parametrize("value, minimum, maximum, above, problem", [
    (math.nan, 0, 10, None, "must be a finite number, got nan"),
    (-math.inf, None, None, None, "must be a finite number, got -inf"),
    (True, 0, 10, None, "expected a number, got a boolean True"),
    ("1", 0, 10, None, "expected a number, got a string '1'"),
    (11, 0, 10, None, "must be between 0 and 10, got 11"),
    (0, None, 10, 0, "must be > 0 and <= 10, got 0"),
    (0.5, 1, None, None, "must be >= 1, got 0.5"),
])
def test_check_number(value, minimum, maximum, above, problem):
    with pytest.raises(ConfigError) as info:
        check_number(value, "f.toml", "k", minimum, maximum, above=above)
    assert str(info.value) == f"f.toml: k: {problem}"


def test_table_helpers_keep_defaults_and_types():
    table = Table({"n": 3, "s": 2, "names": ["a"]}, "f.toml")
    assert table.integer("n", 1, 1, 10) == 3
    assert table.integer("absent", None, 1, 10) is None
    assert table.seconds("s") == 2.0 and isinstance(table.seconds("s"), float)
    assert table.strings("names", allow_empty=False) == ["a"]
    table.done()
    with pytest.raises(ConfigError, match="f.toml: names: an empty list"):
        Table({"names": []}, "f.toml").strings("names", allow_empty=False)


def test_a_case_may_not_run_longer_than_a_day(tmp_path):
    """Each bound alone holds, but 256 streams x a day of warm-up would overflow the worker's timeout."""
    text = edited(SUITE, "min_iterations = 5", "warmup_seconds = 3600\nmin_iterations = 5")
    path = write(tmp_path / "s.toml", edited(text, 'name = "single_stream"', 'name = "concurrent"\nconcurrency = 256'))
    assert error_of(load_suite, path) == (f"{path}: scenarios[0]: a case would run up to 921600 s (max_seconds + "
                                          f"256 stream(s) x warmup_seconds), more than the 86400 s one case may take")
    path = write(tmp_path / "s.toml", text + '[[include]]\nmodel = "kws"\nbackend = "null"\nscenario = "concurrent"\n'
                                             'concurrency = 200\n')
    assert error_of(load_suite, path).startswith(f"{path}: include[0].concurrency: a case would run up to 720000 s")

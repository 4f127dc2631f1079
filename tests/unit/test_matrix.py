"""Matrix expansion with include/exclude, filters, and skipped cases with their reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.config.profile import parse_profile
from edgebench.config.suite import parse_suite
from edgebench.errors import ConfigError
from edgebench.harness.matrix import apply_filters, expand, mark_unsupported

PROBE = {"backends": {
    "onnxruntime": {"available": True, "reason": None, "providers": ["CPUExecutionProvider"]},
    "tflite": {"available": False, "reason": "runtime not installed (none of: ai_edge_litert, tflite_runtime)"},
    "null": {"available": True, "reason": None},
}}


def suite(tmp_path: Path, **extra):
    data = {
        "name": "m",
        "models": [{"name": "tiny", "path": "models/tiny.onnx"}],
        "backends": [{"name": "onnxruntime", "threads": [1, "all"], "graph_optimization": ["basic", "all"]},
                     {"name": "null", "busy_wait_us": [0, 100]}],
        "scenarios": [{"name": "single_stream"}, {"name": "batch", "batch": [4, 8]}],
    }
    data.update(extra)
    return parse_suite(data, tmp_path / "m.toml")


def ids(cases):
    return [c.case_id for c in cases]


def test_product_of_models_backends_settings_scenarios(tmp_path, tiny_onnx):
    cases = expand(suite(tmp_path))
    # onnxruntime: 2 threads x 2 levels x 3 (scenario, batch); null: 2 x 3
    assert len(cases) == 12 + 6
    assert ids(cases)[:3] == [
        "tiny.fp32.onnxruntime.graph_optimization=basic.threads=1.single_stream.b1",
        "tiny.fp32.onnxruntime.graph_optimization=basic.threads=1.batch.b4",
        "tiny.fp32.onnxruntime.graph_optimization=basic.threads=1.batch.b8",
    ]
    assert len(set(ids(cases))) == len(cases)


def test_exclude_with_values_lists_and_globs(tmp_path, tiny_onnx):
    cases = expand(suite(tmp_path, exclude=[{"backend": "null", "scenario": "batch"},
                                            {"graph_optimization": "basic", "threads": ["all"]},
                                            {"case_id": "*b8"}]))
    # rule 1 drops 4 (null x 2 batches), rule 2 drops 3, rule 3 drops the 6 b8 cases; 3 of those overlap
    assert len(cases) == 18 - (4 + 3 + 6 - 3)
    assert not [c for c in cases if c.backend == "null" and c.scenario == "batch"]
    assert not [c for c in cases if c.settings.get("graph_optimization") == "basic" and c.threads == "all"]
    assert not [c for c in cases if c.batch == 8]


def test_include_adds_a_case_outside_the_product(tmp_path, tiny_onnx):
    cases = expand(suite(tmp_path, include=[{"model": "tiny", "backend": "onnxruntime", "threads": 2,
                                             "scenario": "batch", "batch": 16}]))
    added = [c for c in cases if c.batch == 16]
    assert ids(added) == ["tiny.fp32.onnxruntime.graph_optimization=basic.threads=2.batch.b16"]
    # an include that repeats an existing case adds nothing
    again = expand(suite(tmp_path, include=[{"model": "tiny", "backend": "null", "busy_wait_us": 0}]))
    assert len(again) == 18


def test_rule_with_unknown_key_is_an_error(tmp_path, tiny_onnx):
    with pytest.raises(ConfigError) as info:
        expand(suite(tmp_path, exclude=[{"modle": "tiny"}]))
    assert str(info.value).startswith(f"{tmp_path / 'm.toml'}: exclude[0].modle: unknown key (known: model, ")


def test_filters(tmp_path, tiny_onnx):
    cases = expand(suite(tmp_path))
    assert len(apply_filters(cases, ["backend=null"])) == 6
    assert len(apply_filters(cases, ["*threads=all*single_stream*"])) == 2
    assert len(apply_filters(cases, ["b8", "backend=null"])) == 6 + 6 - 2  # the 2 null b8 cases match both


def test_skipped_cases_say_why(tmp_path, tiny_onnx):
    data_suite = parse_suite({
        "models": [{"name": "tiny", "path": "models/tiny.onnx"}],
        "backends": [{"name": "onnxruntime", "providers": [["CUDAExecutionProvider"], ["CPUExecutionProvider"]]},
                     {"name": "tflite"}, {"name": "null"}],
    }, tmp_path / "x.toml")
    profile = parse_profile({"name": "dev", "backends": {"onnxruntime": {}, "tflite": {}}}, tmp_path / "dev.toml")
    cases = {c.case_id: c.skip_reason for c in mark_unsupported(expand(data_suite), profile, PROBE)}
    assert cases == {
        "tiny.fp32.onnxruntime.providers=CUDAExecutionProvider.single_stream.b1":
            "dev lacks provider CUDAExecutionProvider",
        "tiny.fp32.onnxruntime.providers=CPUExecutionProvider.single_stream.b1": None,
        "tiny.fp32.tflite.single_stream.b1": "backend tflite runs tflite models; tiny is onnx",
        "tiny.fp32.null.single_stream.b1": "profile dev does not list backend null",
    }


def test_backend_not_installed_is_skipped_with_the_probe_reason(tmp_path, tiny_onnx, repo):
    tflite_model = repo / "suites" / "models" / "kws_dscnn_fp32.tflite"
    data_suite = parse_suite({"models": [{"name": "kws", "path": str(tflite_model)}],
                              "backends": [{"name": "tflite"}]}, tmp_path / "x.toml")
    profile = parse_profile({"name": "dev"}, tmp_path / "dev.toml")
    [case] = mark_unsupported(expand(data_suite), profile, PROBE)
    assert case.skip_reason == ("backend tflite is not available on dev: runtime not installed "
                                "(none of: ai_edge_litert, tflite_runtime)")


def test_concurrent_scenario_expands_over_concurrency(tmp_path, tiny_onnx):
    cases = expand(suite(tmp_path, scenarios=[{"name": "concurrent", "concurrency": [2, 4]}],
                         exclude=[{"backend": "null", "concurrency": 4}]))
    onnx = [c for c in cases if c.backend == "onnxruntime" and c.settings == {"threads": 1,
                                                                               "graph_optimization": "all"}]
    assert ids(onnx) == ["tiny.fp32.onnxruntime.graph_optimization=all.threads=1.concurrent.c2.b1",
                         "tiny.fp32.onnxruntime.graph_optimization=all.threads=1.concurrent.c4.b1"]
    assert [c.concurrency for c in onnx] == [2, 4]
    assert {c.concurrency for c in cases if c.backend == "null"} == {2}  # excluded by concurrency
    assert ids(apply_filters(cases, ["concurrency=4"])) == [c.case_id for c in cases if c.concurrency == 4]
    default = expand(suite(tmp_path, scenarios=[{"name": "concurrent"}]))
    assert {c.concurrency for c in default} == {2}
    single = expand(suite(tmp_path))
    assert {c.concurrency for c in single} == {1} and not any(".c1." in c.case_id for c in single)


@pytest.mark.parametrize("scenario, message", [
    ({"name": "single_stream", "concurrency": 2}, "scenarios[0].concurrency: only the concurrent, server, "
                                                  "offline and multistream scenarios take concurrency"),
    ({"name": "concurrent", "concurrency": [2, 0]}, "scenarios[0].concurrency: must be between 1 and 256, got 0"),
    ({"name": "concurrent", "concurrency": "many"}, "scenarios[0].concurrency"),
    ({"name": "concurrent", "concurrency": []}, "scenarios[0].concurrency: an empty list: give at least one value"),
    ({"name": "concurrent", "concurrency": [2, 2]}, "scenarios[0].concurrency: a value is repeated: [2, 2]"),
    ({"name": "batch", "batch": [4, 4]}, "scenarios[0].batch: a value is repeated: [4, 4]"),
    ({"name": "concurrent", "duration_s": 60}, "scenarios[0].duration_s: the concurrent scenario runs for the "
                                               "rules' max_seconds; for a fixed time under load use the sustained"),
])
def test_concurrency_errors_name_the_key(tmp_path, tiny_onnx, scenario, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        suite(tmp_path, scenarios=[scenario])


@pytest.mark.parametrize("rule, message", [
    ({"model": "tiny", "backend": "null", "concurrency": 4}, "include[0].concurrency: only the concurrent, server, "
                                                             "offline and multistream scenarios take concurrency "
                                                             "(this rule's scenario: single_stream"),
    ({"model": "tiny", "backend": "null", "scenario": "concurrent", "concurrency": [2, 4]},
     "include[0].concurrency: expected one integer >= 1, got [2, 4]"),
    ({"model": "tiny", "backend": "null", "scenario": "concurrent", "concurrency": 0},
     "include[0].concurrency: must be between 1 and 256, got 0"),
    ({"model": "tiny", "backend": "null", "scenario": "offline_magic"},
     "include[0].scenario: unknown scenario 'offline_magic'"),
])
def test_include_rules_check_scenario_and_concurrency(tmp_path, tiny_onnx, rule, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
                       .replace(")", r"\)")):
        expand(suite(tmp_path, include=[rule]))


def test_include_rule_adds_a_concurrent_case(tmp_path, tiny_onnx):
    cases = expand(suite(tmp_path, include=[{"model": "tiny", "backend": "null", "scenario": "concurrent"},
                                            {"model": "tiny", "backend": "null", "scenario": "concurrent",
                                             "concurrency": 3}]))
    added = [c for c in cases if c.scenario == "concurrent"]
    assert [(c.case_id, c.concurrency) for c in added] == [
        ("tiny.fp32.null.busy_wait_us=0.concurrent.c2.b1", 2),  # the scenario's default: 2 streams
        ("tiny.fp32.null.busy_wait_us=0.concurrent.c3.b1", 3)]


def test_include_rule_defaults_match_the_suites_defaults(tmp_path, tiny_onnx):
    """A scenario an include rule names but the suite does not run gets the batch a scenario table would get."""
    cases = expand(suite(tmp_path, scenarios=[{"name": "single_stream"}],
                         include=[{"model": "tiny", "backend": "null", "scenario": "batch"}]))
    from_a_table = expand(suite(tmp_path, scenarios=[{"name": "batch"}]))
    added = [c for c in cases if c.scenario == "batch"]
    assert [c.batch for c in added] == [8]
    assert {c.batch for c in from_a_table} == {8}

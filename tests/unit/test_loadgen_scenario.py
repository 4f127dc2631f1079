"""The LoadGen scenarios without running LoadGen: settings parsing, reading LoadGen's recorded logs, the
server search's bisection, the summary, the gate metrics and the skip when LoadGen is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.analysis.gates import parse_rule
from edgebench.config.fields import Table
from edgebench.config.loadgen_settings import LoadgenSettings
from edgebench.config.suite import parse_suite
from edgebench.errors import ConfigError
from edgebench.harness.matrix import expand
from edgebench.record import CaseRecord
from edgebench.results.summary import case_summary
from edgebench.worker import loadgen_scenario as lgs
from tests.conftest import MODELS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "loadgen"


def _suite(scenarios: list[dict]) -> dict:
    return {"name": "t", "models": [{"name": "kws", "precision": "int8", "path": str(MODELS / "kws_dscnn_int8.onnx")}],
            "backends": [{"name": "null"}], "scenarios": scenarios}


def test_defaults_are_loadgens_and_a_short_run_is_marked_shortened() -> None:
    full = LoadgenSettings.parse(Table({}, "s.toml"), "server")
    assert (full.min_duration_s, full.min_query_count, full.latency_percentile, full.latency_bound_ms) == \
        (10.0, 100, 0.99, 100.0)
    assert full.early_stopping and not full.shortened
    short = LoadgenSettings.parse(Table({"min_duration_s": 1.5}, "s.toml"), "offline")
    assert short.shortened and short.to_json()["shortened"] is True
    assert LoadgenSettings.parse(Table({}, "s.toml"), "single_stream").latency_percentile == 0.9


def test_scenarios_expand_into_loadgen_cases(tmp_path: Path) -> None:
    suite = parse_suite(_suite([{"name": "server", "concurrency": [1, 2], "latency_bound_ms": 50},
                                {"name": "single_stream"}, {"name": "single_stream", "loadgen": True}]),
                        tmp_path / "s.toml")
    ids = {c.case_id: c for c in expand(suite)}
    assert set(ids) == {"kws.int8.null.server.b1", "kws.int8.null.server.c2.b1", "kws.int8.null.single_stream.b1",
                        "kws.int8.null.loadgen_single_stream.b1"}
    assert ids["kws.int8.null.server.c2.b1"].loadgen["latency_bound_ms"] == 50
    assert ids["kws.int8.null.single_stream.b1"].loadgen == {}
    assert ids["kws.int8.null.loadgen_single_stream.b1"].loadgen["scenario"] == "single_stream"


@pytest.mark.parametrize(("scenario", "key", "message"), [
    ({"name": "server", "latency_percentile": 1.0}, "latency_percentile", "must be below 1"),
    ({"name": "server", "latency_bound_ms": 0}, "latency_bound_ms", "must be > 0"),
    ({"name": "offline", "latency_bound_ms": 5}, "latency_bound_ms", "unknown key"),
    ({"name": "batch", "min_duration_s": 1}, "min_duration_s", "unknown key"),
    ({"name": "offline", "duration_s": 5}, "duration_s", "min_duration_s"),
    ({"name": "single_stream", "loadgen": "yes"}, "loadgen", "expected a boolean"),
    ({"name": "server", "min_duration_s": 5, "max_duration_s": 2}, "max_duration_s", ">= min_duration_s"),
    ({"name": "server", "batch": 4}, "batch", "use the offline scenario"),
])
def test_bad_loadgen_keys_name_file_and_key(tmp_path: Path, scenario: dict, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_suite(_suite([scenario]), tmp_path / "s.toml")
    assert f"scenarios[0].{key}" in str(err.value) and message in str(err.value)


def test_a_missing_loadgen_skips_the_case_with_the_install_hint(tmp_path: Path) -> None:
    from edgebench.config.profile import parse_profile
    from edgebench.harness.matrix import mark_unsupported

    suite = parse_suite(_suite([{"name": "offline"}, {"name": "single_stream"}]), tmp_path / "s.toml")
    probe = {"backends": {"null": {"available": True}},
             "loadgen": {"available": False, "reason": "mlperf_loadgen is not installed"}}
    profile = parse_profile({"name": "here"}, tmp_path / "here.toml")
    reasons = {c.scenario: c.skip_reason for c in mark_unsupported(expand(suite), profile, probe)}
    assert reasons["single_stream"] is None
    assert "pip install 'edgebench[loadgen]'" in reasons["offline"]
    assert "mlperf_loadgen is not installed" in reasons["offline"]


def test_a_recorded_invalid_server_run_is_read_with_loadgens_reason() -> None:
    figures = lgs.run_figures(lgs.parse_detail_log((FIXTURES / "server_invalid_detail.txt").read_text()))
    assert figures["validity"] == "INVALID" and figures["valid"] is False
    assert figures["perf_constraints_met"] is False and figures["early_stopping_met"] is False
    assert figures["samples_per_s"] == 187.622
    assert figures["latency_ns"]["p99_ns"] == 6187913 and figures["latency_ns"]["p999_ns"] == 6723296
    assert figures["overlatency_query_count"] == 4
    reason = lgs.invalid_reason(figures)
    assert reason.startswith("Reduce target QPS to improve latency.")
    assert "not met: latency constraint, early stopping" in reason
    assert not lgs.server_trial_passed(figures, early_stopping=True)
    assert not lgs.server_trial_passed(figures, early_stopping=False)  # the percentile itself is over the bound


def test_recorded_single_and_multistream_runs() -> None:
    single = lgs.run_figures(lgs.parse_detail_log((FIXTURES / "single_stream_valid_detail.txt").read_text()))
    assert single["valid"] and lgs.invalid_reason(single) is None
    assert single["samples_per_s"] == 875.503 and single["early_stopping_latency_ns"] == 1171460
    multi = lgs.run_figures(lgs.parse_detail_log((FIXTURES / "multistream_invalid_detail.txt").read_text()))
    assert multi["latency_ns"]["p99_ns"] == 4081002  # the per-query latency, not the per-sample one
    assert "early stopping" in lgs.invalid_reason(multi) and "min duration" in lgs.invalid_reason(multi)


def _figures(valid: bool, perf_met: bool = True) -> dict:
    return {"valid": valid, "perf_constraints_met": perf_met, "min_duration_met": True, "min_queries_met": True,
            "early_stopping_met": valid, "invalid_reason": None if valid else "early stopping"}


def test_server_search_bisects_to_the_highest_passing_qps() -> None:
    tried: list[float] = []

    def run(qps: float) -> dict:  # a system that meets the bound up to 612 QPS
        tried.append(qps)
        return {"figures": _figures(qps <= 612), "service_ns": [1], "logs": {}}

    search = lgs.server_search(run, capacity_qps=1000.0, settings={"max_trials": 10, "early_stopping": True})
    assert len(tried) == 10 and tried[0] == 500.0
    best = search["best"]["trial"]["target_qps"]
    lo, hi = search["bracket_qps"]
    assert best == lo <= 612 < hi and hi - lo == pytest.approx(1100 / 2**10, rel=0.5)
    assert [t["passed"] for t in search["trials"]] == [q <= 612 for q in tried]


def test_server_search_widens_when_the_top_passes_and_reports_none_when_nothing_passes() -> None:
    search = lgs.server_search(lambda q: {"figures": _figures(True)}, 100.0,
                               {"max_trials": 3, "early_stopping": True, "target_qps": 200.0})
    assert [t["target_qps"] for t in search["trials"]] == [200.0, 300.0, 450.0]
    none = lgs.server_search(lambda q: {"figures": _figures(False, perf_met=False)}, 100.0,
                             {"max_trials": 3, "early_stopping": True})
    assert none["best"] is None and [t["target_qps"] for t in none["trials"]] == [50.0, 25.0, 12.5]


def test_early_stopping_off_judges_a_server_trial_on_the_percentile_alone() -> None:
    only_early_stopping_failed = _figures(False)
    assert not lgs.server_trial_passed(only_early_stopping_failed, early_stopping=True)
    assert lgs.server_trial_passed(only_early_stopping_failed, early_stopping=False)


def _server_result(valid: bool) -> dict:
    return {"case_id": "c", "batch": 1, "latency_ns": [2_000_000] * 10, "loadgen": {
        "scenario": "server", "valid": valid, "invalid_reason": None if valid else "Reduce target QPS",
        "shortened": True, "served_qps": 750.0, "streams": 2,
        "settings": {"latency_bound_ms": 10, "latency_percentile": 0.99},
        "result": {"samples_per_s": 748.0, "latency_ns": {"p99_ns": 8e6}},
        "trials": [{"target_qps": 750.0, "passed": True, "valid": valid, "samples_per_s": 748.0, "latency_ns": {}}]}}


def test_summary_reports_loadgens_throughput_only_from_a_valid_run() -> None:
    valid = case_summary(_server_result(True))
    assert valid["throughput_ips"] == 748.0 and valid["loadgen"]["served_qps"] == 750.0
    assert valid["loadgen"]["trials"][0]["target_qps"] == 750.0
    invalid = case_summary(_server_result(False))
    assert invalid["throughput_ips"] is None and invalid["loadgen"]["invalid_reason"] == "Reduce target QPS"


def test_gate_metrics_read_loadgen_figures_of_their_scenario_only() -> None:
    rule = parse_rule("server.qps:-5%")
    record = CaseRecord.from_json({"scenario": "server", "summary": case_summary(_server_result(True))})
    assert rule.metric.value(record) == 750.0 and rule.applies(record)
    assert not rule.applies(CaseRecord.from_json({"scenario": "single_stream"}))
    invalid = CaseRecord.from_json({"scenario": "server", "summary": case_summary(_server_result(False))})
    assert rule.metric.value(invalid) is None
    offline = parse_rule("offline.throughput:-3%")
    assert offline.metric.worse == -1 and not offline.applies(record)


def test_the_worker_timeout_allows_every_trial_of_the_server_search(tmp_path: Path) -> None:
    from edgebench.transports.local import case_timeout_s

    suite = parse_suite(_suite([{"name": "server", "max_trials": 8}, {"name": "offline"}]), tmp_path / "s.toml")
    server, offline = expand(suite)
    assert case_timeout_s(server) >= 8 * (2 * 10 + 30) and case_timeout_s(offline) >= 2 * 10 + 30


def test_fast_shortens_loadgen_runs_and_says_so(tmp_path: Path) -> None:
    from edgebench.config.profile import parse_profile
    from edgebench.harness.runner import RunOptions, plan_cases

    suite = parse_suite(_suite([{"name": "server"}, {"name": "offline", "min_duration_s": 0.2}]), tmp_path / "s.toml")
    server, offline = plan_cases(suite, parse_profile({"name": "here"}, tmp_path / "here.toml"), RunOptions(fast=True))
    assert (server.loadgen["min_duration_s"], server.loadgen["max_trials"], server.loadgen["early_stopping"]) == \
        (0.5, 3, False)
    assert offline.loadgen["min_duration_s"] == 0.2 and server.loadgen["shortened"] and offline.loadgen["shortened"]
    kept, _ = plan_cases(suite, parse_profile({"name": "here"}, tmp_path / "here.toml"), RunOptions())
    assert kept.loadgen["min_duration_s"] == 10.0 and not kept.loadgen["shortened"]

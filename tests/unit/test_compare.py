"""Gate statistics and verdicts: Mann-Whitney U against reference values, A/A false alarms, shift detection,
checked context, exit codes, baselines, and the pytest-benchmark export."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.analysis.compare import (
    DEFAULT_ALPHA,
    EXIT_INCOMPARABLE,
    EXIT_PASS,
    EXIT_REGRESSION,
    bootstrap_test,
    compare_runs,
    judge,
    mann_whitney_u,
    significance,
)
from edgebench.analysis.gates import parse_rule, parse_rules
from edgebench.analysis.stats import summarize
from edgebench.cli.main import main
from edgebench.record import CaseRecord
from edgebench.results.store import RunStore
from tests.run_fixtures import case, latency_samples, make_run

# -- Mann-Whitney U on tiny literal arrays (reference: scipy.stats.mannwhitneyu, method="asymptotic") -------


def test_mwu_separated_samples():
    u, z, p = mann_whitney_u([4, 5, 6], [1, 2, 3])
    assert u == 0.0
    assert z == pytest.approx(-1.7457431218879391)
    assert p == pytest.approx(0.08085559837005224, rel=1e-12)


def test_mwu_with_ties_uses_tie_corrected_variance():
    u, _, p = mann_whitney_u([2, 2, 4, 4, 6, 7], [1, 2, 2, 3, 5])
    assert u == 8.0
    assert p == pytest.approx(0.22339063142499604, rel=1e-12)


def test_mwu_direction_and_all_ties():
    u, z, p = mann_whitney_u([1, 2, 3], [5, 6, 7, 8])
    assert (u, p) == (12.0, pytest.approx(0.05182992721790968, rel=1e-12)) and z > 0
    assert mann_whitney_u([7, 7, 7], [7, 7, 7, 7]) == (6.0, 0.0, 1.0)  # every value tied: variance 0, p = 1


def test_mwu_refuses_empty_side():
    with pytest.raises(ValueError):
        mann_whitney_u([], [1, 2])


def test_bootstrap_detects_a_tail_shift_and_is_seeded():
    base = latency_samples(1, 2000, 1_000_000, 100_000, tail=0.0)
    fat = [v + (400_000 if k % 5 == 0 else 0)  # a fatter tail: one sample in five 0.4 ms slower
           for k, v in enumerate(latency_samples(2, 2000, 1_000_000, 100_000, tail=0.0))]
    result = bootstrap_test(base, fat, "p90", 0.001)
    assert result.significant and result.direction == 1
    assert bootstrap_test(base, fat, "p90", 0.001).detail == result.detail
    assert significance(base, fat, "p90", 0.001).test == "bootstrap"
    assert not bootstrap_test(base, latency_samples(3, 2000, 1_000_000, 100_000, tail=0.0), "p90", 0.001).significant


# -- the statistical claim: A/A false alarms and 5 % shift detection ----------------------------------------


def _skewed(rng, n: int, scale: float = 1.0):
    """Realistic latency: lognormal body (sigma 0.1 around 1 ms) and 2 % Pareto(1.5) outliers (heavy tail)."""
    import numpy as np

    x = rng.lognormal(math.log(1e6), 0.1, n)
    outliers = rng.random(n) < 0.02
    x[outliers] *= 1.0 + rng.pareto(1.5, int(outliers.sum()))
    return np.round(x * scale)


def _record(samples) -> CaseRecord:
    stats = summarize(samples)
    return CaseRecord.from_json({"case_id": "c", "model": "m", "backend": "b", "batch": 1,
                                 "summary": {"latency": stats.to_json(), "throughput_ips": 1e9 / stats.mean_ns}})


def _gate(rule, base, cur) -> str:
    """The verdict of the whole gate (threshold AND significance) on two synthetic samples."""
    return judge(rule, _record(base), _record(cur), lambda _: base, lambda _: cur, DEFAULT_ALPHA, "auto").verdict


@pytest.mark.slow
def test_aa_false_alarms_and_shift_detection_at_default_alpha(capsys):
    import numpy as np

    pairs, n = 60, 200
    rule = parse_rule("latency.p50:+3%")
    aa_test = aa_gate = shift_test = shift_gate = 0
    for seed in range(pairs):
        rng = np.random.default_rng(seed)
        a, b, shifted = _skewed(rng, n), _skewed(rng, n), _skewed(rng, n, 1.05)
        aa = significance(a, b, "p50", DEFAULT_ALPHA)
        aa_test += aa.significant
        aa_gate += _gate(rule, a, b) == "worse"
        sh = significance(a, shifted, "p50", DEFAULT_ALPHA)
        shift_test += sh.significant and sh.direction == 1
        shift_gate += _gate(rule, a, shifted) == "worse"
    with capsys.disabled():
        print(f"\n[gate statistics] alpha={DEFAULT_ALPHA:g}, n={n}, {pairs} seeded pairs, lognormal(0.1) + 2% "
              f"Pareto(1.5) outliers: A/A false alarms: test {aa_test}/{pairs}, gate latency.p50:+3% "
              f"{aa_gate}/{pairs}; 5% shift detected: test {shift_test}/{pairs} ({100 * shift_test / pairs:.0f}%), "
              f"gate {shift_gate}/{pairs} ({100 * shift_gate / pairs:.0f}%)")
    assert aa_test <= 2 and aa_gate <= 2
    assert shift_test / pairs >= 0.75 and shift_gate / pairs >= 0.75


# -- verdicts on runs ----------------------------------------------------------------------------------------


def _runs(tmp_path: Path, scale_current: float = 1.0, **current_kwargs):
    cases = [case("kws", "onnxruntime", 1), case("kws", "onnxruntime", 4)]
    base_samples = {c["case_id"]: latency_samples(10 + i, 400, 2_000_000, 200_000) for i, c in enumerate(cases)}
    cur_samples = {c["case_id"]: [int(v * scale_current) for v in latency_samples(20 + i, 400, 2_000_000, 200_000)]
                   for i, c in enumerate(cases)}
    base = make_run(tmp_path / "base", cases=cases, samples=base_samples)
    cur_cases = current_kwargs.pop("cases", cases)
    cur = make_run(tmp_path / "cur", cases=cur_cases, samples=cur_samples, **current_kwargs)
    return base, cur


def test_same_distribution_passes_and_a_10_percent_slowdown_fails(tmp_path):
    base, same = _runs(tmp_path)
    result = compare_runs(base, same, parse_rules(["latency.p50:+5%", "throughput.mean:-5%"]))
    assert result.outcome == "pass" and result.exit_code == EXIT_PASS
    assert {c.verdict for c in result.checks} == {"same"}
    base2, slow = _runs(tmp_path / "slow", scale_current=1.10)
    result = compare_runs(base2, slow, parse_rules(["latency.p50:+5%", "throughput.mean:-5%", "latency.p90:+5%"]))
    verdicts = {(c.case_id.split(".")[3], c.rule): c.verdict for c in result.checks}
    # issue 8: one worker process per case decides the median, never the tail or the mean
    assert {v for (_, rule), v in verdicts.items() if rule == "latency.p50:+5%"} == {"worse"}, result.to_json()
    assert {v for (_, rule), v in verdicts.items() if rule != "latency.p50:+5%"} == {"undecidable"}
    assert result.exit_code == EXIT_REGRESSION
    worse = result.checks[0]
    assert worse.change == pytest.approx(0.10, abs=0.03) and worse.test == "two-level bootstrap"
    assert "above 1" in worse.detail


def test_faster_is_better_not_a_failure(tmp_path):
    base, fast = _runs(tmp_path, scale_current=0.85)
    result = compare_runs(base, fast, parse_rules(["latency.p50:+5%"]))
    assert {c.verdict for c in result.checks} == {"better"} and result.exit_code == EXIT_PASS


def test_threshold_without_significance_is_same(tmp_path):
    cases = [case("kws", "onnxruntime", 1)]
    cid = cases[0]["case_id"]
    base = make_run(tmp_path / "b", cases=cases, samples={cid: latency_samples(1, 12, 2_000_000, 900_000)})
    cur = make_run(tmp_path / "c", cases=cases,
                   samples={cid: [int(v * 1.08) for v in latency_samples(2, 12, 2_000_000, 900_000)]})
    check = compare_runs(base, cur, parse_rules(["latency.p50:+1%"])).checks[0]
    if check.change > 0.01:
        assert check.verdict == "same" and "not significant" in check.detail


def test_memory_is_judged_on_the_threshold_alone(tmp_path):
    base, cur = _runs(tmp_path, peak_rss_mb=120.0)
    result = compare_runs(base, cur, parse_rules(["memory.peak:+10%", "memory.peak:+30MiB"]))
    by_rule = {c.rule: c for c in result.checks}
    assert by_rule["memory.peak:+10%"].verdict == "worse"
    assert by_rule["memory.peak:+10%"].test == "threshold only"
    assert by_rule["memory.peak:+30MiB"].verdict == "same"  # +24 MiB


def test_context_mismatch_is_incomparable_unless_allowed(tmp_path):
    base, cur = _runs(tmp_path, runtime_version="1.18.0", device="other-board")
    result = compare_runs(base, cur, parse_rules(["latency.p50:+5%"]))
    assert result.outcome == "incomparable" and result.exit_code == EXIT_INCOMPARABLE
    assert "runtime version 1.17.1 != 1.18.0" in result.checks[0].detail
    assert "device jetson-orin-nano != other-board" in result.checks[0].detail
    allowed = compare_runs(base, cur, parse_rules(["latency.p50:+5%"]), allow_mismatch=True)
    assert allowed.outcome == "pass" and "mismatch allowed" in allowed.checks[0].detail
    assert allowed.notes and "allow-mismatch" in allowed.notes[0]


def test_model_file_threads_and_precision_are_checked(tmp_path):
    cases = [case("kws", "onnxruntime", 1)]
    other = [dict(cases[0], model_sha256="c" * 64)]
    base = make_run(tmp_path / "b", cases=cases)
    cur = make_run(tmp_path / "c", cases=other)
    detail = compare_runs(base, cur, parse_rules(["latency.p50:+5%"])).checks[0].detail
    assert "model sha256 aaaaaaaaaaaa != cccccccccccc" in detail


def test_missing_and_failed_cases(tmp_path):
    cases = [case("kws", "onnxruntime", 1), case("kws", "onnxruntime", 4), case("kws", "tflite", 4)]
    base = make_run(tmp_path / "b", cases=cases[:2])
    cur = make_run(tmp_path / "c", cases=[cases[0], cases[2]], failed=(cases[0]["case_id"],))
    result = compare_runs(base, cur, parse_rules(["latency.p50:+5%"]))
    by_case = {c.case_id: c for c in result.checks}
    assert by_case[cases[0]["case_id"]].verdict == "worse"
    assert "failed in the current run: RuntimeError: delegate crashed" in by_case[cases[0]["case_id"]].detail
    assert by_case[cases[1]["case_id"]].verdict == "incomparable"
    assert result.new_cases == [cases[2]["case_id"]]
    assert result.exit_code == EXIT_REGRESSION  # a regression outranks an incomparable case


def test_scoped_rules_only_touch_their_cases(tmp_path):
    base, slow = _runs(tmp_path, scale_current=1.10)
    result = compare_runs(base, slow, parse_rules(["latency.p50:+5%@case=*threads=4*"]))
    assert [c.case_id.split(".")[3] for c in result.checks] == ["threads=4"]
    none = compare_runs(base, slow, parse_rules(["latency.p50:+5%@model=nothing*"]))
    assert none.checks == [] and none.outcome == "incomparable" and "nothing was compared" in none.notes[0]


def test_missing_metric_is_incomparable(tmp_path):
    base, cur = _runs(tmp_path)
    check = compare_runs(base, cur, parse_rules(["energy.per_inference:+3%"])).checks[0]
    assert check.verdict == "incomparable" and "missing in either run" in check.detail


# -- the CLI: exit codes, outputs, baselines -------------------------------------------------------------------


def test_compare_cli_exit_codes_and_outputs(tmp_path, capsys):
    base, slow = _runs(tmp_path, scale_current=1.10)
    junit, md, js = tmp_path / "c.xml", tmp_path / "c.md", tmp_path / "c.json"
    code = main(["compare", str(base.directory), str(slow.directory), "--fail-on", "latency.p50:+5%",
                 "--junit", str(junit), "--markdown", str(md), "--json", str(js)])
    assert code == EXIT_REGRESSION
    assert "REGRESSION" in capsys.readouterr().out
    assert json.loads(js.read_text())["counts"]["worse"] == 2
    assert "❌ regression" in md.read_text()
    from xml.etree import ElementTree as ET

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "2" and suite.get("tests") == "2"
    assert main(["compare", str(base.directory), str(base.directory), "--fail-on", "latency.p50:+5%"]) == EXIT_PASS
    assert main(["compare", str(base.directory), str(slow.directory), "--fail-on", "latency.p50:5"]) == 2
    assert "latency.p50:5" in capsys.readouterr().err
    assert main(["compare", str(base.directory), str(tmp_path / "nope")]) == 2
    assert main(["compare", str(base.directory), str(slow.directory), "--junit", str(tmp_path / "no/dir/x.xml")]) == 2
    other_base, other = _runs(tmp_path / "o", runtime_version="2.0")
    assert main(["compare", str(other_base.directory), str(other.directory)]) == EXIT_INCOMPARABLE
    assert main(["compare", str(other_base.directory), str(other.directory), "--allow-mismatch"]) == EXIT_PASS


def test_baseline_save_list_show_and_compare_by_name(tmp_path, capsys):
    base, slow = _runs(tmp_path, scale_current=1.10)
    store = tmp_path / "store"
    assert main(["baseline", "save", str(base.directory), "--name", "main", "--store", str(store)]) == 0
    assert main(["baseline", "save", str(base.directory), "--name", "main", "--store", str(store)]) == 0  # replace
    assert sorted(p.name for p in store.iterdir()) == ["main"]
    capsys.readouterr()
    assert main(["baseline", "list", "--store", str(store)]) == 0
    assert "main" in capsys.readouterr().out
    assert main(["baseline", "show", "main", "--store", str(store)]) == 0
    assert "kws" in capsys.readouterr().out
    assert main(["compare", "main", str(slow.directory), "--store", str(store), "--fail-on",
                 "latency.p50:+5%"]) == EXIT_REGRESSION
    assert main(["baseline", "save", str(base.directory), "--name", "../evil", "--store", str(store)]) == 2
    assert main(["compare", "nope", str(slow.directory), "--store", str(store)]) == 2
    assert "baselines: main" in capsys.readouterr().err


def test_baseline_store_defaults_to_env(tmp_path, monkeypatch):
    from edgebench.results.baselines import default_store

    monkeypatch.setenv("EDGEBENCH_BASELINES", str(tmp_path / "b"))
    assert default_store() == tmp_path / "b"
    monkeypatch.delenv("EDGEBENCH_BASELINES")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store() == tmp_path / "xdg" / "edgebench" / "baselines"


# -- export to pytest-benchmark ----------------------------------------------------------------------------------


def test_export_loads_in_pytest_benchmark_compare(tmp_path):
    base, _ = _runs(tmp_path)
    out = tmp_path / "0001_edgebench.json"
    assert main(["export", str(base.directory), "--format", "pytest-benchmark", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    bench = data["benchmarks"][0]
    samples = RunStore.open(base.directory).load_raw(bench["name"])["latency_ns"]
    assert bench["stats"]["rounds"] == len(samples)
    assert bench["stats"]["median"] == pytest.approx(summarize(samples).p50_ns / 1e9)
    assert bench["extra_info"]["p99_ms"] == pytest.approx(summarize(samples).p99_ns / 1e6)
    done = subprocess.run([sys.executable, "-m", "pytest_benchmark", "compare", str(out), "--columns",
                           "min,median,max,ops,rounds"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Failed to load" not in done.stdout + done.stderr
    assert bench["name"] in done.stdout and "benchmark 'kws': 2 tests" in done.stdout


@pytest.mark.slow
def test_pytest_plugin_fixture_fills_extra_info(tmp_path):
    (tmp_path / "test_user.py").write_text(
        "def test_null(edgebench_model):\n"
        "    r = edgebench_model(None, backend='null', busy_wait_us=50, rounds=40, warmup_rounds=2)\n"
        "    assert 0.04 < r.p50_ms < 5 and r.p99_ms >= r.p50_ms\n"
        "\n\n"
        "def test_a_typo_is_an_error(edgebench_model):\n"
        "    import pytest\n"
        "    with pytest.raises(TypeError, match='unknown setting busy_wait for backend null'):\n"
        "        edgebench_model(None, backend='null', busy_wait=50)\n"
        "\n\n"
        "def test_a_bad_value_is_an_error(edgebench_model):\n"
        "    import pytest\n"
        "    with pytest.raises(ValueError, match='edgebench_model: threads: must be between 1 and 1024, got 0'):\n"
        "        edgebench_model(None, backend='null', threads=0)\n")
    out = tmp_path / "bench.json"
    from importlib.metadata import entry_points

    eps = entry_points()  # Python 3.9: a dict of groups; 3.10+: has select()
    pytest11 = eps.select(group="pytest11") if hasattr(eps, "select") else eps.get("pytest11", [])
    installed = any(ep.value == "edgebench.pytest_plugin" for ep in pytest11)
    load = [] if installed else ["-p", "edgebench.pytest_plugin"]  # -p twice would register it twice
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", *load, "-p", "no:cacheprovider",
                           f"--benchmark-json={out}", "test_user.py"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    bench = json.loads(out.read_text())["benchmarks"][0]
    extra = bench["extra_info"]
    assert extra["edgebench_backend"] == "null" and extra["setting_busy_wait_us"] == 50
    assert extra["p99_ms"] >= extra["p50_ms"] > 0.04 and extra["peak_rss_mb"] > 0
    assert bench["stats"]["rounds"] == 40


def test_farm_runs_pair_cases_by_device_and_scope_by_device(tmp_path):
    """A farm run holds several devices in one directory: never pair a Nano case with a Pi case."""
    def farm_case(device: str) -> dict:
        c = case("kws", "onnxruntime", 1)
        return {**c, "case_id": f"{c['case_id']}@{device}", "device": device}

    base = make_run(tmp_path / "b", device="farm", cases=[farm_case("jetson-nano")])
    cur = make_run(tmp_path / "c", device="farm", cases=[farm_case("raspberry-pi-5")])
    result = compare_runs(base, cur, parse_rules(["latency.p50:+5%"]))
    assert [c.verdict for c in result.checks] == ["incomparable"]
    same = make_run(tmp_path / "s", device="farm", cases=[farm_case("jetson-nano")])
    scoped = compare_runs(base, same, parse_rules(["latency.p50:+5%@device=jetson-nano"]))
    assert [c.verdict for c in scoped.checks] == ["same"]
    assert compare_runs(base, same, parse_rules(["latency.p50:+5%@device=raspberry-pi-5"])).checks == []

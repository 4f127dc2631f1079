"""The optimisation study: variants built from the shipped fp32 models, the fidelity figures, the per-op profile."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from edgebench.analysis.compare import SAME, WORSE, judge
from edgebench.analysis.fidelity import compare_outputs
from edgebench.analysis.gates import RuleError, parse_rule
from edgebench.analysis.op_profile import summarize_profile
from edgebench.backends.onnxruntime_backend import OnnxRuntimeBackend
from edgebench.digest import sha256_of
from edgebench.optimise.variants import VariantUnavailable, build_variant
from edgebench.record import CaseRecord
from edgebench.worker.feeds import Feeder
from edgebench.worker.inputs import plan_inputs
from edgebench.worker.untimed_passes import output_pass, profile_pass

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

MODELS = Path(__file__).resolve().parents[2] / "suites" / "models"
SOURCE = MODELS / "kws_dscnn_fp32.onnx"
ONNX_RECIPES = ("int8-dynamic", "int8-static", "int8-static-pc", "fp16", "fp16-full", "prune-50")
TFLITE_RECIPES = ("int8-dynamic", "int8-static", "int8-weight-only", "fp16")


def build(path: Path, fmt: str, recipe: str, cache: Path):
    return build_variant(path, sha256_of(path), fmt, recipe, {}, 0, "suite.toml", "models[0]", cache)


def outputs_of(path: Path, backend=None) -> dict:
    backend = backend or OnnxRuntimeBackend()
    session = backend.load(str(path), {"threads": 1})
    plans = plan_inputs(session.inputs, {}, 1, "suite.toml", "models[0]")
    session.resize({p.tensor.name: p.shape for p in plans})
    return output_pass(session, plans, 1, 0, "suite.toml", 4)


def _ort_version() -> tuple[int, ...]:
    import onnxruntime

    return tuple(int(p) for p in onnxruntime.__version__.split(".")[:2])


@pytest.mark.parametrize("recipe", ONNX_RECIPES)
def test_each_onnx_recipe_builds_a_model_that_runs_and_the_cache_skips_rebuilding(recipe, tmp_path):
    pytest.importorskip("onnxconverter_common")
    built = build(SOURCE, "onnx", recipe, tmp_path)
    assert built.record["cached"] is False and built.path.is_file() and built.path != SOURCE
    assert built.record["recipe"] == recipe and built.record["tool_version"]
    if "static" in recipe:
        assert built.record["calibration"] == {"source": "seeded generated (seed 0)", "samples": 16}
    if recipe == "int8-dynamic" and _ort_version() < (1, 20):
        pytest.skip("onnxruntime < 1.20 (the newest for Python 3.9 is 1.19) has no CPU kernel for the ConvInteger "
                    "nodes dynamic quantisation writes: such a case fails with that one line")
    out = outputs_of(built.path)
    assert out["inputs"] == 4 and len(out["samples"][0]) == 1
    mtime = built.path.stat().st_mtime_ns
    again = build(SOURCE, "onnx", recipe, tmp_path)
    assert again.record["cached"] is True and again.path == built.path and again.path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("recipe", TFLITE_RECIPES)
def test_each_tflite_recipe_builds_a_model_that_runs(recipe, tmp_path):
    pytest.importorskip("ai_edge_quantizer")
    from edgebench.backends.tflite_backend import TFLiteBackend

    built = build(MODELS / "kws_dscnn_fp32.tflite", "tflite", recipe, tmp_path)
    assert built.record["tool"] == "ai-edge-quantizer"
    out = outputs_of(built.path, TFLiteBackend())
    assert out["inputs"] == 4


def test_a_recipe_the_tools_cannot_apply_says_why(tmp_path):
    with pytest.raises(VariantUnavailable, match="weight-only int8"):
        build(SOURCE, "onnx", "int8-weight-only", tmp_path)


def test_the_source_against_itself_is_exact():
    figures = compare_outputs(outputs_of(SOURCE), outputs_of(SOURCE))
    assert figures["cosine"] == 1.0 and figures["max_abs_err"] == 0.0 and figures["mean_abs_err"] == 0.0
    assert figures["exact"] is True and figures["snr_db"] is None and figures["top1_agreement"] == 1.0


def test_int8_fidelity_is_below_one_and_above_a_floor(tmp_path):
    built = build(SOURCE, "onnx", "int8-static", tmp_path)
    figures = compare_outputs(outputs_of(SOURCE), outputs_of(built.path))
    assert 0.95 < figures["cosine"] < 1.0
    assert figures["max_abs_err"] > 0 and figures["snr_db"] > 10


def scaled_weights(source: Path, target: Path) -> Path:
    """A numerically broken build: every weight tensor scaled by seeded factors drawn from N(1, 1)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source))
    rng = np.random.default_rng(3)
    for index, init in enumerate(model.graph.initializer):
        weights = numpy_helper.to_array(init)
        if weights.dtype.kind == "f" and weights.ndim >= 2:
            broken = (weights * rng.normal(1, 1, weights.shape)).astype(weights.dtype)
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(broken, init.name))
    onnx.save(model, str(target))
    return target


def record(figures: dict, case_id: str = "kws.broken") -> dict:
    return {"case_id": case_id, "model": "kws", "backend": "onnxruntime", "status": "ok",
            "summary": {"fidelity": figures}}


def test_a_broken_variant_fails_the_cosine_gate_and_a_sound_one_passes(tmp_path):
    reference = outputs_of(SOURCE)
    broken = compare_outputs(reference, outputs_of(scaled_weights(SOURCE, tmp_path / "broken.onnx")))
    sound = compare_outputs(reference, outputs_of(build(SOURCE, "onnx", "int8-static", tmp_path).path))
    rule = parse_rule("fidelity.cosine:>=0.99")

    def verdict(figures: dict) -> str:
        case = CaseRecord.from_json(record(figures))
        return judge(rule, case, case, lambda _: [], lambda _: [], 0.001, "mannwhitney").verdict

    assert broken["cosine"] < 0.99
    assert verdict(broken) == WORSE and verdict(sound) == SAME


def test_bound_rules_name_the_better_direction():
    assert parse_rule("fidelity.max_abs_err:<=0.05").bound == "<="
    with pytest.raises(RuleError, match="better when higher: write fidelity.cosine:>=0.99"):
        parse_rule("fidelity.cosine:<=0.99")


def test_op_type_shares_sum_to_one_hundred_percent():
    session_settings = {"threads": 1}
    backend = OnnxRuntimeBackend()
    session = backend.load(str(SOURCE), session_settings)
    plans = plan_inputs(session.inputs, {}, 1, "suite.toml", "models[0]")
    shapes = {p.tensor.name: p.shape for p in plans}
    feeds = Feeder.build(plans, 1, 0, "suite.toml").current()
    case = SimpleNamespace(backend="onnxruntime", model_path=str(SOURCE))
    raw = profile_pass(case, backend, session_settings, shapes, feeds)
    assert raw["iterations"] >= 2 and '"cat"' in raw["trace_text"]
    summary = summarize_profile(raw)
    shares = [entry["share"] for entry in summary["op_types"]]
    assert sum(shares) == pytest.approx(1.0)
    assert summary["inferences"] == raw["iterations"] - 1  # the first is a warm-up
    assert {"Conv"} <= {entry["op"] for entry in summary["op_types"]}
    assert 0 < summary["covered"] <= 1.0


def test_the_profiling_pass_of_tflite_is_a_skip_with_the_reason():
    case = SimpleNamespace(backend="tflite", model_path="x.tflite")
    assert "per-operator profiler" in profile_pass(case, None, {}, {}, {})["skipped"]


def test_variants_in_a_suite_become_models_of_their_own(tmp_path, monkeypatch):
    pytest.importorskip("onnxconverter_common")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from edgebench.config.suite import load_suite
    from edgebench.harness.matrix import expand

    shutil.copy(SOURCE, tmp_path / "kws.onnx")
    (tmp_path / "s.toml").write_text(
        'name = "s"\n[[models]]\nname = "kws"\npath = "kws.onnx"\nvariants = ["fp32", "fp16", "int8-weight-only"]\n'
        '[[backends]]\nname = "onnxruntime"\nthreads = 1\nprofile_ops = true\n')
    suite = load_suite(tmp_path / "s.toml")
    assert [m.precision for m in suite.models] == ["fp32", "fp16", "int8-weight-only"]
    cases = {c.precision: c for c in expand(suite)}
    assert cases["fp32"].model_path == str(tmp_path / "kws.onnx") and cases["fp32"].profile_ops
    assert cases["fp16"].variant["recipe"] == "fp16" and cases["fp16"].model_path.endswith(".fp16.onnx")
    assert "weight-only int8" in cases["int8-weight-only"].skip_reason
    assert suite.to_json()["reference"] == {"precision": "fp32", "backend": "onnxruntime"}


def test_an_unknown_variant_is_one_line_naming_the_key(tmp_path):
    from edgebench.config.suite import load_suite
    from edgebench.errors import ConfigError

    shutil.copy(SOURCE, tmp_path / "kws.onnx")
    (tmp_path / "s.toml").write_text('[[models]]\nname = "kws"\npath = "kws.onnx"\nvariants = ["int3"]\n'
                                     '[[backends]]\nname = "onnxruntime"\n')
    with pytest.raises(ConfigError, match=r"models\[0\]\.variants\[0\]: unknown variant 'int3'"):
        load_suite(tmp_path / "s.toml")


def test_bench_profile_ops_turns_on_the_profiling_pass():
    from edgebench.cli.bench_cmd import build_suite
    from edgebench.cli.main import build_parser
    from edgebench.harness.matrix import expand

    args = build_parser().parse_args(["bench", str(SOURCE), "--profile-ops"])
    suite = build_suite(args)
    assert suite.backends[0].profile_ops is True and "profile_ops" not in suite.backends[0].settings
    assert all(case.profile_ops for case in expand(suite))
    plain = build_suite(build_parser().parse_args(["bench", str(SOURCE)]))
    assert not any(case.profile_ops for case in expand(plain))


def encoded(*arrays):
    from edgebench.worker.untimed_passes import encode_output

    return [encode_output(np.asarray(a, dtype=np.float32), SimpleNamespace(name="y", scale=None)) for a in arrays]


def test_fidelity_figures_on_literal_outputs():
    reference = {"samples": [encoded([[1.0, 0.0, 0.0]]), encoded([[0.0, 2.0, 0.0]])]}
    current = {"samples": [encoded([[1.0, 0.0, 0.0]]), encoded([[0.0, 1.0, 0.5]])]}
    figures = compare_outputs(reference, current)
    assert figures["max_abs_err"] == 1.0 and figures["mean_abs_err"] == pytest.approx(1.5 / 6)
    assert figures["cosine"] == pytest.approx(3.0 / (np.sqrt(5) * 1.5))
    assert figures["snr_db"] == pytest.approx(10 * np.log10(5 / 1.25))
    assert figures["inputs"] == 2 and figures["values"] == 6 and figures["exact"] is False
    assert figures["top1_agreement"] == 1.0  # argmax 0 and 1 in both
    flipped = compare_outputs(reference, {"samples": [encoded([[0.0, 3.0, 0.0]]), encoded([[0.0, 2.0, 0.0]])]})
    assert flipped["top1_agreement"] == 0.5


def test_fidelity_refuses_outputs_of_another_shape():
    figures = compare_outputs({"samples": [encoded([[1.0, 2.0]])]}, {"samples": [encoded([[1.0, 2.0, 3.0]])]})
    assert "shape [1, 3]" in figures["error"]


def test_quantised_outputs_are_compared_as_real_values():
    from edgebench.worker.untimed_passes import encode_output

    out = encode_output(np.array([[10, -20]], dtype=np.int8), SimpleNamespace(name="y", scale=0.5, zero_point=-10))
    from edgebench.worker.untimed_passes import decode_output as decode

    assert decode(out).tolist() == [[10.0, -5.0]]


def test_op_profile_on_literal_events():
    events = [{"cat": "Session", "name": "model_run", "ts": 0, "dur": 100},
              {"cat": "Node", "name": "conv1_kernel_time", "op": "Conv", "ts": 10, "dur": 50},  # warm-up run
              {"cat": "Session", "name": "model_run", "ts": 200, "dur": 40},
              {"cat": "Node", "name": "conv1_kernel_time", "op": "Conv", "ts": 205, "dur": 20},
              {"cat": "Node", "name": "conv2_kernel_time", "op": "Conv", "ts": 226, "dur": 10},
              {"cat": "Node", "name": "q_kernel_time", "op": "QuantizeLinear", "ts": 237, "dur": 10}]
    summary = summarize_profile({"tool": "t", "events": events})
    assert summary["inferences"] == 1 and summary["op_time_us"] == 40 and summary["covered"] == 1.0
    assert [(e["op"], e["nodes"], e["total_us"], e["share"]) for e in summary["op_types"]] == [
        ("Conv", 2, 30.0, 0.75), ("QuantizeLinear", 1, 10.0, 0.25)]
    from edgebench.analysis.op_profile import compare_op_types

    rows = compare_op_types(summary, {"op_types": [{"op": "Conv", "per_inference_us": 12.0}]})
    assert rows == [{"op": "Conv", "base_us": 30.0, "other_us": 12.0, "delta_us": -18.0},
                    {"op": "QuantizeLinear", "base_us": 10.0, "other_us": None, "delta_us": -10.0}]


def test_a_tool_that_fails_on_a_model_is_a_reason_not_a_crash(tmp_path):
    """A file the tool cannot read (cut short): its own error becomes the variant's skip reason."""
    broken = tmp_path / "truncated.onnx"
    broken.write_bytes(SOURCE.read_bytes()[:5000])
    with pytest.raises(VariantUnavailable, match="onnxruntime .* failed to build it"):
        build(broken, "onnx", "int8-dynamic", tmp_path / "cache")

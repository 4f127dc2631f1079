"""Variants of one source model, built on the host: quantised (dynamic, static, weight-only), fp16, pruned.

A suite asks for them on a model (``variants = ["fp32", "int8-dynamic", "int8-static", "fp16"]``); each variant
becomes a model of its own in the matrix, whose precision is the variant's name, so its cases, reports and gates
are those of any model. The files are built once and cached under ``<cache>/variants/<key>/`` where the key is
the sha256 of (source sha256, recipe, tool and version, calibration): a second run, or a second suite, finds them.

Recipes (``RECIPES``), per format:

===================  ===============================================  ==========================================
variant              ONNX (onnxruntime.quantization, onnxconverter)    TFLite (ai-edge-quantizer)
===================  ===============================================  ==========================================
fp32                 the source file itself                            the source file itself
int8-dynamic         ``quantize_dynamic``, int8 weights                 ``dynamic_wi8_afp32``
int8-static          ``quantize_static``, QDQ, int8 per tensor,        ``static_wi8_ai8``, calibrated
                     calibrated
int8-static-pc       as int8-static, weights per channel               (skipped: ai-edge-quantizer's static
                                                                       recipe is per channel already)
int8-weight-only     (skipped: onnxruntime has no weight-only int8      ``weight_only_wi8_afp32``
                     for these operators)
fp16                 ``convert_float_to_float16``, inputs and           weight-only float casting to 16 bits
                     outputs kept fp32
fp16-full            the same, inputs and outputs fp16 too              (skipped)
prune-50, prune-90   weights (initialisers of 2+ dimensions) with the  (skipped: no TFLite writer needed here)
                     smallest magnitudes set to zero, per tensor
===================  ===============================================  ==========================================

Calibration (static recipes) feeds ``CALIBRATION_SAMPLES`` inputs made from the suite's ``models.inputs`` specs
(config/inputs.py): an input's data file where it has one (its samples in turn), pinned values as given, else
seeded generated data, exactly as the worker makes them; the variant's record says which (``calibration``).

A recipe the installed tools cannot apply is not an error of the suite: the variant's file carries the reason
(``ModelFile.unavailable``) and its cases are skipped with it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping

#: every variant name a suite may ask for
RECIPES = ("fp32", "int8-dynamic", "int8-static", "int8-static-pc", "int8-weight-only", "fp16", "fp16-full",
           "prune-50", "prune-90")
#: static recipes: how many inputs calibrate them
CALIBRATION_SAMPLES = 16
#: bump when a recipe's code changes what it builds, so cached files are rebuilt
RECIPE_REVISION = 1


class VariantUnavailable(Exception):
    """The installed tools cannot apply this recipe to this file: its cases are skipped with this reason."""


@dataclass(frozen=True)
class BuiltVariant:
    path: Path
    #: what run.json records: recipe, tool and version, calibration source, file size, cache hit
    record: Dict[str, Any]


def variants_cache_dir() -> Path:
    from edgebench.files import cache_home

    return cache_home() / "variants"


def _version(dist: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return None


def tool_of(variant: str, fmt: str) -> tuple[str, str | None]:
    """The tool (distribution) that builds ``variant`` for ``fmt``, and its installed version (None: absent)."""
    if variant == "fp32":
        return "none", "-"
    if fmt == "onnx":
        if variant.startswith("fp16"):
            return "onnxconverter-common", _version("onnxconverter-common")
        if variant.startswith("prune-"):
            return "onnx", _version("onnx")
        return "onnxruntime", _version("onnxruntime")
    return "ai-edge-quantizer", _version("ai-edge-quantizer")


# -- calibration data ----------------------------------------------------------------------------------------
CalibrationData = List[Dict[str, Any]]


def calibration_feeds(tensors: Any, specs: Mapping[str, Any], seed: int, source: str,
                      key: str, count: int = CALIBRATION_SAMPLES) -> tuple[CalibrationData, str]:
    """``count`` feeds (input name -> array) made the way the worker makes its inputs, and where they came from:
    ``"data files"`` when an input reads one, else ``"seeded generated (seed N)"``."""
    from edgebench.worker.feeds import Feeder, check_data_files
    from edgebench.worker.inputs import plan_inputs

    plans = plan_inputs(tensors, dict(specs), 1, source, key)
    uses_data = any(p.spec.data is not None for p in plans)
    feeds: CalibrationData = []
    if uses_data:
        check_data_files([p.spec for p in plans], source)
        return Feeder.build(plans, 1, seed, source).take(count), "data files"
    for index in range(count):
        feeds.append(Feeder.build(plans, 1, seed + 1 + index, source).current())
    return feeds, f"seeded generated (seed {seed})"


# -- ONNX ----------------------------------------------------------------------------------------------------
def _onnx_tensors(path: Path) -> Any:
    """The model's inputs as the worker sees them (onnxruntime on the host: it is the quantisation tool anyway)."""
    from edgebench.backends.onnxruntime_backend import OnnxRuntimeBackend

    return OnnxRuntimeBackend().load(str(path), {"threads": 1}).inputs


def _build_onnx(variant: str, source: Path, target: Path, calibrate: Callable[[Any], tuple[CalibrationData, str]]
                ) -> Dict[str, Any]:
    info: Dict[str, Any] = {}
    if variant == "int8-dynamic":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
        info["settings"] = {"weight_type": "QInt8"}
    elif variant in ("int8-static", "int8-static-pc"):
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

        feeds, origin = calibrate(_onnx_tensors(source))

        class Reader(CalibrationDataReader):  # type: ignore[misc]
            def __init__(self) -> None:
                self._feeds = iter(feeds)

            def get_next(self) -> Any:
                return next(self._feeds, None)

        per_channel = variant == "int8-static-pc"
        quantize_static(str(source), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
        info["settings"] = {"format": "QDQ", "per_channel": per_channel, "activation_type": "QInt8",
                            "weight_type": "QInt8"}
        info["calibration"] = {"source": origin, "samples": len(feeds)}
    elif variant in ("fp16", "fp16-full"):
        import onnx
        from onnxconverter_common import float16

        keep_io = variant == "fp16"
        model = onnx.load(str(source))
        onnx.save(float16.convert_float_to_float16(model, keep_io_types=keep_io), str(target))
        info["settings"] = {"keep_io_types": keep_io}
    elif variant.startswith("prune-"):
        sparsity = int(variant.split("-", 1)[1]) / 100
        info["settings"] = {"sparsity": sparsity, "scope": "per tensor, initialisers of 2+ dimensions"}
        info["pruned_fraction"] = _prune_onnx(source, target, sparsity)
    elif variant == "int8-weight-only":
        raise VariantUnavailable("onnxruntime.quantization has no weight-only int8 for Conv/Gemm (its "
                                 "MatMulNBits is 4-bit and for MatMul only): use int8-dynamic")
    else:  # pragma: no cover - RECIPES is checked when the suite is parsed
        raise VariantUnavailable(f"no ONNX recipe {variant}")
    return info


def _prune_onnx(source: Path, target: Path, sparsity: float) -> float:
    """Unstructured magnitude pruning: in each weight tensor the ``sparsity`` share of smallest |w| become 0."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source))
    zeroed = total = 0
    for index, init in enumerate(model.graph.initializer):
        weights = numpy_helper.to_array(init)
        if weights.ndim < 2 or weights.dtype.kind != "f":
            continue
        count = int(weights.size * sparsity)
        if count == 0:
            continue
        threshold = np.partition(np.abs(weights).ravel(), count - 1)[count - 1]
        pruned = np.where(np.abs(weights) <= threshold, 0, weights).astype(weights.dtype)
        zeroed += int((pruned == 0).sum())
        total += weights.size
        model.graph.initializer[index].CopyFrom(numpy_helper.from_array(pruned, init.name))
    onnx.save(model, str(target))
    return zeroed / total if total else 0.0


# -- TFLite --------------------------------------------------------------------------------------------------
def _tflite_tensors(path: Path) -> Any:
    from edgebench.backends.tflite_backend import TFLiteBackend

    return TFLiteBackend().load(str(path), {"threads": 1}).inputs


def _build_tflite(variant: str, source: Path, target: Path,
                  calibrate: Callable[[Any], tuple[CalibrationData, str]]) -> Dict[str, Any]:
    if variant in ("int8-static-pc",):
        raise VariantUnavailable("ai-edge-quantizer's static int8 recipe quantises weights per channel already: "
                                 "use int8-static")
    if variant.startswith("prune-"):
        raise VariantUnavailable("pruning is built for ONNX models only")
    if variant == "fp16-full":
        raise VariantUnavailable("ai-edge-quantizer casts weights to fp16 but keeps fp32 inputs and outputs: use fp16")
    try:
        from ai_edge_quantizer import quantizer, recipe, recipe_manager
        from ai_edge_quantizer.algorithm_manager import AlgorithmName
    except ImportError as exc:
        raise VariantUnavailable(f"ai-edge-quantizer is not installed ({exc}): pip install 'edgebench[optimise]'"
                                 ) from None
    info: Dict[str, Any] = {}
    if variant == "int8-dynamic":
        chosen = recipe.dynamic_wi8_afp32()
    elif variant == "int8-weight-only":
        chosen = recipe.weight_only_wi8_afp32()
    elif variant == "int8-static":
        chosen = recipe.static_wi8_ai8()
    elif variant == "fp16":
        manager = recipe_manager.RecipeManager()
        manager.add_weight_only_config(regex=".*", operation_name="*", num_bits=16,
                                       algorithm_key=AlgorithmName.FLOAT_CASTING)
        chosen = manager.get_quantization_recipe()
    else:  # pragma: no cover
        raise VariantUnavailable(f"no TFLite recipe {variant}")
    info["settings"] = {"recipe": variant}
    engine = quantizer.Quantizer(str(source))
    try:
        engine.load_quantization_recipe(chosen)
        calibration = None
        if engine.need_calibration:
            feeds, origin = calibrate(_tflite_tensors(source))
            signature, names = _signature_inputs(source)
            data = [{names.get(k, k): v for k, v in feed.items()} for feed in feeds]
            calibration = engine.calibrate({signature: data})
            info["calibration"] = {"source": origin, "samples": len(feeds)}
        result = engine.quantize(calibration, enable_progress_report=False)
    except (ValueError, RuntimeError, KeyError, NotImplementedError) as exc:
        text = " ".join(str(exc).split())[:300]
        raise VariantUnavailable(f"ai-edge-quantizer cannot apply {variant}: {type(exc).__name__}: {text}") from None
    target.write_bytes(bytes(result.quantized_model or b""))
    return info


def _signature_inputs(path: Path) -> tuple[str, Dict[str, str]]:
    """The first signature, and tensor name -> that signature's input name (``serving_default_input:0`` ->
    ``input``): ai-edge-quantizer calibrates by signature input names."""
    from edgebench.backends.tflite_backend import import_interpreter_module

    module = import_interpreter_module()[0]
    interpreter = module.Interpreter(model_path=str(path))
    signatures = interpreter.get_signature_list()
    key = next(iter(signatures))
    runner = interpreter.get_signature_runner(key)
    details = runner.get_input_details()
    names = {}
    for sig_name, detail in details.items():
        names[detail["name"]] = sig_name
    return key, names


@contextmanager
def quiet_tools() -> Iterator[None]:
    """The tools' own chatter (onnxruntime.quantization's advice on the root logger, ai-edge-quantizer's progress
    bars and report) kept off the run's terminal, which shows edgebench's lines."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            yield
    finally:
        root.setLevel(level)


# -- the cache -----------------------------------------------------------------------------------------------
def cache_key(source_sha256: str, variant: str, fmt: str, tool: str, version: str | None,
              calibration: Mapping[str, Any]) -> str:
    blob = json.dumps({"source": source_sha256, "recipe": variant, "format": fmt, "tool": tool,
                       "version": version, "revision": RECIPE_REVISION, "calibration": dict(calibration)},
                      sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def build_variant(source: Path, source_sha256: str, fmt: str, variant: str, specs: Mapping[str, Any], seed: int,
                  suite_source: str, model_key: str, cache_dir: Path | None = None) -> BuiltVariant:
    """The variant's file, from the cache or built now; raises VariantUnavailable with the reason."""
    tool, version = tool_of(variant, fmt)
    if variant == "fp32":
        return BuiltVariant(source, {"recipe": "fp32", "tool": "none", "source_sha256": source_sha256,
                                     "file_bytes": source.stat().st_size, "cached": True})
    if version is None:
        if tool == "ai-edge-quantizer" and sys.version_info < (3, 10):
            raise VariantUnavailable(f"{tool} needs Python 3.10 or newer (this is "
                                     f"{sys.version_info[0]}.{sys.version_info[1]})")
        raise VariantUnavailable(f"{tool} is not installed: pip install 'edgebench[optimise]'")
    # what calibration depends on: the input specs (their data files by sha256) and the seed
    calibration = {"specs": {n: s.to_json() for n, s in specs.items()}, "seed": seed} if "static" in variant else {}
    key = cache_key(source_sha256, variant, fmt, tool, version, calibration)
    folder = (cache_dir or variants_cache_dir()) / key
    target = folder / f"{source.stem}.{variant}{source.suffix}"
    meta_path = folder / "variant.json"
    if target.is_file() and meta_path.is_file():
        record = json.loads(meta_path.read_text())
        return BuiltVariant(target, {**record, "cached": True})

    def calibrate(tensors: Any) -> tuple[CalibrationData, str]:
        return calibration_feeds(tensors, specs, seed, suite_source, model_key)

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder.parent))
    except OSError as exc:
        raise VariantUnavailable(f"cannot write the variants cache {folder.parent}: {exc.strerror or exc}") from None
    try:
        built = work / target.name
        sys.stderr.write(f"edgebench: building variant {variant} of {source.name} with {tool} {version} "
                         f"(cached for later runs)\n")
        try:
            with quiet_tools():
                info = (_build_onnx if fmt == "onnx" else _build_tflite)(variant, source, built, calibrate)
        except VariantUnavailable:
            raise
        except Exception as exc:  # the tool's own failure on this model: a skipped case, not a stopped suite
            text = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise VariantUnavailable(f"{tool} {version} failed to build it: {type(exc).__name__}: {text}") from None
        if not built.is_file() or built.stat().st_size == 0:
            raise VariantUnavailable(f"{tool} {version} wrote no model for {variant}")
        record = {"recipe": variant, "format": fmt, "tool": tool, "tool_version": version,
                  "source": str(source), "source_sha256": source_sha256, "file_bytes": built.stat().st_size,
                  "cache_key": key, **info}
        (work / "variant.json").write_text(json.dumps(record, indent=1, default=str))
        try:
            os.replace(work, folder)  # another process may have built it meanwhile: theirs stands
        except OSError:
            if not target.is_file():
                raise
        return BuiltVariant(target, {**record, "cached": False})
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)

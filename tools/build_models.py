#!/usr/bin/env python3
"""Build the small models that edgebench ships in suites/models/.

Five architectures (four MLPerf Tiny reference networks plus MobileNetV2 0.35), each exported as
TFLite and ONNX, fp32 and int8: 20 files plus manifest.json. Weights are random but seeded, so the
models are good for measuring speed, power and memory, not accuracy.

Build (needs the pinned toolchain of tools/requirements-models.txt, in its own virtualenv):

    python tools/build_models.py --out suites/models [--seed 1234] [--only kws_dscnn]

Check shipped files against the manifest with whatever runtimes are installed (onnxruntime and
ai_edge_litert / tflite_runtime / tensorflow; no TensorFlow needed):

    python tools/build_models.py --verify --out suites/models
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SCHEMA_VERSION = 1
DEFAULT_SEED = 1234
DEFAULT_OUT = "suites/models"
ONNX_OPSET = 13
CALIBRATION_SAMPLES = 100
VERIFY_BATCHES = (1, 4)
INPUT_NAME = "input"
OUTPUT_NAME = "output"
WEIGHTS_NOTE = "random, seeded: these models are for speed, power and memory, not accuracy"
PRECISIONS = ("fp32", "int8")
FORMATS = ("onnx", "tflite")

# name -> (input shape without batch, classes/output width, architecture, task)
MODELS = {
    "kws_dscnn": ((49, 10, 1), 12, "DS-CNN, MLPerf Tiny keyword spotting", "keyword spotting"),
    "vww_mobilenetv1_025": (
        (96, 96, 3), 2, "MobileNetV1 alpha 0.25, MLPerf Tiny visual wake words", "visual wake words"),
    "ic_resnet8": ((32, 32, 3), 10, "ResNet-8, MLPerf Tiny image classification", "image classification"),
    "ad_autoencoder": (
        (640,), 640, "fully connected autoencoder, MLPerf Tiny anomaly detection", "anomaly detection"),
    "mobilenetv2_035": (
        (96, 96, 3), 100, "MobileNetV2 alpha 0.35 (tf.keras.applications), 100-class head", "image classification"),
}


def log(msg: str) -> None:
    print(msg, flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def calibration_data(shape, seed: int, n: int = CALIBRATION_SAMPLES):
    """Seeded random samples (batch 1 each) in [-1, 1], shared by the TFLite and ONNX quantizers."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, size=(1,) + tuple(shape)).astype(np.float32) for _ in range(n)]


def verify_inputs(shape, batch: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed + 7 * batch)
    return rng.uniform(-1.0, 1.0, size=(batch,) + tuple(shape)).astype(np.float32)


# --------------------------------------------------------------------------------------------------
# Architectures (Keras functional models). Written for this project after the published MLPerf Tiny
# v1.0 reference designs.
# --------------------------------------------------------------------------------------------------

def _kws_dscnn(tf, shape, classes):
    L = tf.keras.layers
    filters = 64
    x = inp = L.Input(shape=shape, name=INPUT_NAME)
    x = L.Conv2D(filters, (10, 4), strides=(2, 2), padding="same")(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Dropout(0.2)(x)
    for _ in range(4):
        x = L.DepthwiseConv2D((3, 3), padding="same")(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
        x = L.Conv2D(filters, (1, 1), padding="same")(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
    x = L.Dropout(0.4)(x)
    x = L.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    x = L.Flatten()(x)
    out = L.Dense(classes, activation="softmax")(x)
    return tf.keras.Model(inp, out, name="kws_dscnn")


def _vww_mobilenetv1(tf, shape, classes, alpha=0.25):
    L = tf.keras.layers

    def conv_bn_relu(x, filters, kernel, strides):
        x = L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
        x = L.BatchNormalization()(x)
        return L.Activation("relu")(x)

    def dw_separable(x, filters, strides):
        x = L.DepthwiseConv2D((3, 3), strides=strides, padding="same", use_bias=False)(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
        return conv_bn_relu(x, filters, (1, 1), 1)

    x = inp = L.Input(shape=shape, name=INPUT_NAME)
    x = conv_bn_relu(x, int(32 * alpha), (3, 3), 2)
    # (output channels at alpha 1, stride) of the 13 depthwise-separable blocks of MobileNetV1
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for ch, stride in blocks:
        x = dw_separable(x, int(ch * alpha), stride)
    x = L.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    x = L.Flatten()(x)
    out = L.Dense(classes, activation="softmax")(x)
    return tf.keras.Model(inp, out, name="vww_mobilenetv1_025")


def _ic_resnet8(tf, shape, classes):
    L = tf.keras.layers

    def conv_bn(x, filters, strides, relu):
        x = L.Conv2D(filters, (3, 3), strides=strides, padding="same", kernel_initializer="he_normal")(x)
        x = L.BatchNormalization()(x)
        return L.Activation("relu")(x) if relu else x

    x = inp = L.Input(shape=shape, name=INPUT_NAME)
    x = conv_bn(x, 16, 1, relu=True)
    for filters, strides in ((16, 1), (32, 2), (64, 2)):
        y = conv_bn(x, filters, strides, relu=True)
        y = conv_bn(y, filters, 1, relu=False)
        if strides != 1 or int(x.shape[-1]) != filters:
            x = L.Conv2D(filters, (1, 1), strides=strides, padding="same", kernel_initializer="he_normal")(x)
        x = L.Activation("relu")(L.Add()([x, y]))
    x = L.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    x = L.Flatten()(x)
    out = L.Dense(classes, activation="softmax", kernel_initializer="he_normal")(x)
    return tf.keras.Model(inp, out, name="ic_resnet8")


def _ad_autoencoder(tf, shape, width):
    L = tf.keras.layers

    def dense_bn_relu(x, units):
        x = L.Dense(units)(x)
        x = L.BatchNormalization()(x)
        return L.Activation("relu")(x)

    x = inp = L.Input(shape=shape, name=INPUT_NAME)
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = dense_bn_relu(x, units)
    out = L.Dense(width)(x)
    return tf.keras.Model(inp, out, name="ad_autoencoder")


def _mobilenetv2_035(tf, shape, classes):
    inp = tf.keras.layers.Input(shape=shape, name=INPUT_NAME)
    return tf.keras.applications.MobileNetV2(
        input_tensor=inp, alpha=0.35, weights=None, classes=classes, include_top=True)


BUILDERS = {
    "kws_dscnn": _kws_dscnn,
    "vww_mobilenetv1_025": _vww_mobilenetv1,
    "ic_resnet8": _ic_resnet8,
    "ad_autoencoder": _ad_autoencoder,
    "mobilenetv2_035": _mobilenetv2_035,
}


def randomize_statistics(tf, model, seed: int) -> None:
    """Give batch-norm layers and biases seeded random values instead of their 1/0 initial values.

    A freshly initialised BatchNormalization is the identity and every bias is zero, which would make
    the exported graphs unrealistically regular (equal constants get merged by converters).
    """
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            n = int(layer.gamma.shape[0])
            layer.set_weights([
                rng.uniform(0.5, 1.5, n).astype(np.float32),   # gamma
                rng.normal(0.0, 0.1, n).astype(np.float32),    # beta
                rng.normal(0.0, 0.1, n).astype(np.float32),    # moving mean
                rng.uniform(0.5, 1.5, n).astype(np.float32),   # moving variance
            ])
        elif getattr(layer, "bias", None) is not None and getattr(layer, "use_bias", False):
            b = layer.bias
            b.assign(rng.normal(0.0, 0.05, tuple(b.shape)).astype(np.float32))


def count_macs(model) -> int:
    """Multiply-accumulates of one inference (batch 1) in Conv2D, DepthwiseConv2D and Dense layers.

    Conv2D: out_h * out_w * k_h * k_w * (c_in / groups) * c_out.  DepthwiseConv2D: out_h * out_w *
    k_h * k_w * c_in * depth_multiplier.  Dense: (product of non-batch input dims) * units.  Biases,
    batch norm, activations, pooling, padding and additions are not counted.
    """
    import tensorflow as tf

    L = tf.keras.layers
    total = 0
    for layer in model.layers:
        if isinstance(layer, L.DepthwiseConv2D):  # subclass of Conv2D: test it first
            _, oh, ow, _ = layer.output_shape
            kh, kw = layer.kernel_size
            cin = int(layer.input_shape[-1])
            total += oh * ow * kh * kw * cin * layer.depth_multiplier
        elif isinstance(layer, L.Conv2D):
            _, oh, ow, cout = layer.output_shape
            kh, kw = layer.kernel_size
            cin = int(layer.input_shape[-1])
            total += oh * ow * kh * kw * (cin // layer.groups) * cout
        elif isinstance(layer, L.Dense):
            in_shape = layer.input_shape[1:]
            n = 1
            for d in in_shape:
                n *= int(d)
            total += n * layer.units
    return int(total)


# --------------------------------------------------------------------------------------------------
# Read-back with the runtimes (also used by --verify, which needs no TensorFlow)
# --------------------------------------------------------------------------------------------------

_ORT_TYPES = {
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
    "tensor(int8)": "int8", "tensor(uint8)": "uint8", "tensor(int16)": "int16",
    "tensor(int32)": "int32", "tensor(int64)": "int64", "tensor(bool)": "bool",
}


def _ort_dim(d):
    return int(d) if isinstance(d, int) else -1


def onnx_io(path: Path):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def desc(args):
        return [{"name": a.name, "dtype": _ORT_TYPES.get(a.type, a.type),
                 "shape": [_ort_dim(d) for d in a.shape], "quantization": None} for a in args]

    return sess, desc(sess.get_inputs()), desc(sess.get_outputs())


def _tflite_interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter
    return Interpreter


def tflite_io(path: Path):
    import numpy as np

    interp = _tflite_interpreter_class()(model_path=str(path), num_threads=1)

    def desc(details):
        out = []
        for d in details:
            scale, zp = d["quantization"]
            quant = None
            if scale != 0.0:
                quant = {"scale": float(scale), "zero_point": int(zp)}
            out.append({"name": d["name"], "dtype": np.dtype(d["dtype"]).name,
                        "shape": [int(v) for v in d["shape_signature"]], "quantization": quant})
        return out

    return interp, desc(interp.get_input_details()), desc(interp.get_output_details())


def _quantize_input(x, spec):
    import numpy as np

    if spec["quantization"] is None:
        return x.astype(spec["dtype"])
    q = spec["quantization"]
    info = np.iinfo(spec["dtype"])
    return np.clip(np.round(x / q["scale"]) + q["zero_point"], info.min, info.max).astype(spec["dtype"])


def _dequantize_output(y, spec):
    import numpy as np

    if spec["quantization"] is None:
        return y.astype(np.float32)
    q = spec["quantization"]
    return (y.astype(np.float32) - q["zero_point"]) * q["scale"]


def run_file(path: Path, fmt: str, shape, batch: int, seed: int):
    """Load `path` with its runtime, run one batch; return (inputs, outputs, float output)."""
    x = verify_inputs(shape, batch, seed)
    if fmt == "onnx":
        sess, ins, outs = onnx_io(path)
        y = sess.run(None, {ins[0]["name"]: _quantize_input(x, ins[0])})[0]
    else:
        interp, ins, outs = tflite_io(path)
        in_idx = interp.get_input_details()[0]["index"]
        interp.resize_tensor_input(in_idx, [batch] + list(shape), strict=True)
        interp.allocate_tensors()
        interp.set_tensor(in_idx, _quantize_input(x, ins[0]))
        interp.invoke()
        y = interp.get_tensor(interp.get_output_details()[0]["index"])
    y = _dequantize_output(y, outs[0])
    expected = (batch,) + tuple(d for d in outs[0]["shape"][1:])
    if tuple(y.shape) != expected:
        raise RuntimeError(f"{path.name}: batch {batch} gave output shape {y.shape}, expected {expected}")
    import numpy as np

    if not np.all(np.isfinite(y)):
        raise RuntimeError(f"{path.name}: batch {batch} gave non-finite outputs")
    return ins, outs, y


# --------------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------------

def _toolchain():
    import numpy
    import onnx
    import onnxruntime
    import tensorflow as tf
    import tf2onnx

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "tf2onnx": tf2onnx.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": numpy.__version__,
    }


def _save_keras(tf, model, shape, path: Path):
    """SavedModel with one serving signature: input `input` [None, *shape] -> output `output`."""
    spec = tf.TensorSpec([None] + list(shape), tf.float32, name=INPUT_NAME)

    @tf.function(input_signature=[spec])
    def serve(x):
        return {OUTPUT_NAME: model(x, training=False)}

    tf.saved_model.save(model, str(path), signatures={"serving_default": serve.get_concrete_function()})


def _onnx_fp32(saved: Path, out: Path, work: Path):
    import onnx

    raw = work / "raw.onnx"
    cmd = [sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(saved), "--output", str(raw),
           "--opset", str(ONNX_OPSET), "--signature_def", "serving_default"]
    # tf2onnx deduplicates equal constants through set iteration: fix the hash seed for stable bytes.
    env = dict(os.environ, PYTHONHASHSEED="0")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        raise RuntimeError(f"tf2onnx failed for {saved}")
    model = canonicalize_onnx(onnx.load(str(raw)))
    # Name the dynamic batch dimension of the graph inputs/outputs "batch" (tf2onnx writes unk__N).
    for vi in list(model.graph.input) + list(model.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


_GENERATED = re.compile(r"__(\d+)")


def canonicalize_onnx(model):
    """Make tf2onnx output byte-stable across runs.

    tf2onnx numbers the names it generates (`new_shape__104`, `unk__12`) from a global counter whose
    value differs from run to run, and writes the (temporary) SavedModel path into the graph's
    doc_string. Rename constants shared by several nodes, renumber those suffixes in order of first
    appearance (a bijection, so names stay unique and consistent), sort initializers and value_info
    by name, and fix the doc strings. The computation is unchanged.
    """
    g = model.graph
    # tf2onnx merges equal constants (Relu6 bounds, zero biases) and keeps the name of whichever copy
    # it met first, which varies: name every constant read by several nodes after its first use.
    inits = {i.name: i for i in g.initializer}
    users: dict = {}
    for node in g.node:
        for t in node.input:
            if t in inits:
                users.setdefault(t, []).append(node)
    shared = {}
    for node in g.node:
        for t in node.input:
            if t in inits and len(users[t]) > 1 and t not in shared:
                shared[t] = f"shared_const_{len(shared)}"
    for name, new in shared.items():
        inits[name].name = new
    for node in g.node:
        node.input[:] = [shared.get(t, t) for t in node.input]

    nums: dict = {}

    def see(name):
        for n in _GENERATED.findall(name):
            nums.setdefault(n, str(len(nums) + 1))

    for vi in g.input:
        see(vi.name)
    for node in g.node:
        see(node.name)
        for t in list(node.input) + list(node.output):
            see(t)
    for vi in g.output:
        see(vi.name)
    for init in sorted(g.initializer, key=lambda i: i.name):
        see(init.name)
    for vi in sorted(g.value_info, key=lambda v: v.name):
        see(vi.name)
        for d in vi.type.tensor_type.shape.dim:
            see(d.dim_param)
    for vi in list(g.input) + list(g.output):
        for d in vi.type.tensor_type.shape.dim:
            see(d.dim_param)

    def ren(s):
        return _GENERATED.sub(lambda m: "__" + nums[m.group(1)], s)

    for vi in list(g.input) + list(g.output) + list(g.value_info):
        vi.name = ren(vi.name)
        for d in vi.type.tensor_type.shape.dim:
            if d.dim_param:
                d.dim_param = ren(d.dim_param)
    for init in g.initializer:
        init.name = ren(init.name)
    for node in g.node:
        node.name = ren(node.name)
        node.input[:] = [ren(t) for t in node.input]
        node.output[:] = [ren(t) for t in node.output]
    _sort_onnx_lists(model)
    g.doc_string = "converted from Keras SavedModel"
    model.doc_string = ""
    return model


def _sort_onnx_lists(model):
    """Sort initializers and value_info by name (their order carries no meaning, and varies)."""
    g = model.graph
    inits = sorted(g.initializer, key=lambda i: i.name)
    del g.initializer[:]
    g.initializer.extend(inits)
    vis = sorted(g.value_info, key=lambda v: v.name)
    del g.value_info[:]
    g.value_info.extend(vis)


def _onnx_int8(fp32: Path, out: Path, calib, work: Path):
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = work / "pre.onnx"
    quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=False)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter([{INPUT_NAME: x} for x in calib])

        def get_next(self):
            return next(self._it, None)

    raw = work / "quant.onnx"
    quantize_static(str(pre), str(raw), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    # The quantizer writes value_info in a run-dependent order: sort it for byte-stable files.
    model = onnx.load(str(raw))
    _sort_onnx_lists(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def _tflite(tf, saved: Path, out: Path, calib=None):
    conv = tf.lite.TFLiteConverter.from_saved_model(str(saved))
    if calib is not None:
        def representative():
            for x in calib:
                yield [x]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    out.write_bytes(conv.convert())


def build_model(name: str, seed: int, out_dir: Path, tc: dict):
    import numpy as np
    import tensorflow as tf

    shape, classes, architecture, task = MODELS[name]
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(seed)
    model = BUILDERS[name](tf, shape, classes)
    randomize_statistics(tf, model, seed)
    params = int(model.count_params())
    macs = count_macs(model)
    calib = calibration_data(shape, seed)

    entries = []
    with tempfile.TemporaryDirectory(prefix=f"edgebench-{name}-") as tmp:
        work = Path(tmp)
        saved = work / "saved_model"
        _save_keras(tf, model, shape, saved)
        staged = {}
        how = {}
        for prec in PRECISIONS:
            for fmt in FORMATS:
                staged[(prec, fmt)] = work / f"{name}_{prec}.{fmt}"
        _onnx_fp32(saved, staged[("fp32", "onnx")], work)
        how[("fp32", "onnx")] = f"tf2onnx {tc['tf2onnx']} opset {ONNX_OPSET} from Keras SavedModel"
        _onnx_int8(staged[("fp32", "onnx")], staged[("int8", "onnx")], calib, work)
        how[("int8", "onnx")] = (
            f"onnxruntime {tc['onnxruntime']} quant_pre_process + quantize_static QDQ, int8 activations, "
            f"per-channel int8 weights, MinMax over {len(calib)} seeded random samples, "
            f"from {name}_fp32.onnx")
        _tflite(tf, saved, staged[("fp32", "tflite")])
        how[("fp32", "tflite")] = f"tensorflow {tc['tensorflow']} TFLiteConverter from Keras SavedModel"
        _tflite(tf, saved, staged[("int8", "tflite")], calib)
        how[("int8", "tflite")] = (
            f"tensorflow {tc['tensorflow']} TFLiteConverter from Keras SavedModel, full-integer int8 "
            f"(TFLITE_BUILTINS_INT8, int8 input/output), representative dataset of {len(calib)} "
            f"seeded random samples")

        # Read every file back, run batch 1 and 4; fp32 ONNX and TFLite must agree.
        results = {}
        for (prec, fmt), path in staged.items():
            outs_by_batch = {}
            for b in VERIFY_BATCHES:
                ins, outs, y = run_file(path, fmt, shape, b, seed)
                outs_by_batch[b] = y
            if not np.allclose(outs_by_batch[1][0], outs_by_batch[4][0], rtol=1e-3, atol=1e-3 * (
                    1 + float(np.abs(outs_by_batch[1]).max()))):
                log(f"  note: {path.name}: batch 1 and batch 4 disagree on sample 0 beyond tolerance")
            results[(prec, fmt)] = (ins, outs, outs_by_batch)
        ref = results[("fp32", "tflite")][2][4]
        got = results[("fp32", "onnx")][2][4]
        diff = float(np.abs(ref - got).max())
        if diff > 1e-4 * (1.0 + float(np.abs(ref).max())):
            raise RuntimeError(f"{name}: fp32 ONNX and TFLite outputs differ by {diff}")

        for (prec, fmt), path in staged.items():
            dest = out_dir / path.name
            shutil.copyfile(path, dest)
            ins, outs, _ = results[(prec, fmt)]
            entry = {
                "name": name,
                "precision": prec,
                "format": fmt,
                "file": dest.name,
                "architecture": architecture,
                "task": task,
                "sha256": sha256_file(dest),
                "bytes": dest.stat().st_size,
                "parameters": params,
                "macs": macs,
                "inputs": ins,
                "outputs": outs,
                "built_with": how[(prec, fmt)],
            }
            entries.append(entry)
            log(f"built {dest}  {entry['bytes']:>9} bytes  sha256 {entry['sha256'][:12]}  "
                f"params {params}  macs {macs}")
    return entries


def _sort_key(e):
    return (e["name"], PRECISIONS.index(e["precision"]), e["format"])


def write_manifest(out_dir: Path, seed: int, tc: dict, entries: list):
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generator": "tools/build_models.py",
        "seed": seed,
        "weights": WEIGHTS_NOTE,
        "toolchain": tc,
        "models": sorted(entries, key=_sort_key),
    }
    path = out_dir / "manifest.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, path)
    log(f"wrote {path} ({len(entries)} entries)")


def cmd_build(args) -> int:
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = args.only or list(MODELS)
    for n in names:
        if n not in MODELS:
            print(f"error: --only {n}: unknown model (known: {', '.join(MODELS)})", file=sys.stderr)
            return 2
    kept = []
    mpath = out_dir / "manifest.json"
    if args.only and mpath.exists():
        old = json.loads(mpath.read_text())
        if old.get("seed") != args.seed:
            print(f"error: {mpath}: seed {old.get('seed')} differs from --seed {args.seed}; "
                  f"rebuild all models instead of --only", file=sys.stderr)
            return 2
        kept = [e for e in old.get("models", []) if e["name"] not in names]

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    tc = _toolchain()
    entries = list(kept)
    for n in names:
        entries.extend(build_model(n, args.seed, out_dir, tc))
    write_manifest(out_dir, args.seed, tc, entries)
    total = sum(e["bytes"] for e in entries)
    log(f"total {total} bytes in {len(entries)} model files")
    return 0


def cmd_verify(args) -> int:
    """Check every manifest entry against its file with the installed runtimes."""
    out_dir = Path(args.out)
    mpath = out_dir / "manifest.json"
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, ValueError) as exc:
        print(f"error: {mpath}: cannot read manifest: {exc}", file=sys.stderr)
        return 2
    if manifest.get("schema_version") != SCHEMA_VERSION:
        print(f"error: {mpath}: schema_version {manifest.get('schema_version')!r}, expected "
              f"{SCHEMA_VERSION}", file=sys.stderr)
        return 2
    problems = 0
    for e in manifest["models"]:
        if args.only and e["name"] not in args.only:
            continue
        path = out_dir / e["file"]
        shape = tuple(e["inputs"][0]["shape"][1:])
        try:
            if sha256_file(path) != e["sha256"]:
                raise RuntimeError("sha256 differs from manifest")
            for b in VERIFY_BATCHES:
                ins, outs, _ = run_file(path, e["format"], shape, b, manifest["seed"])
            if ins != e["inputs"] or outs != e["outputs"]:
                raise RuntimeError(f"runtime reports inputs {ins} outputs {outs}, manifest differs")
            log(f"ok {e['file']}  (batch {', '.join(map(str, VERIFY_BATCHES))})")
        except Exception as exc:  # report every file, then fail
            problems += 1
            log(f"FAIL {e['file']}: {exc}")
    return 1 if problems else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="build_models.py",
        description="Build edgebench's shipped models (random seeded weights) as ONNX and TFLite, "
                    "fp32 and int8, and write manifest.json; or --verify them.")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output directory (default {DEFAULT_OUT})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="N",
                   help=f"seed for weights and calibration data (default {DEFAULT_SEED})")
    p.add_argument("--only", action="append", metavar="NAME", choices=list(MODELS),
                   help="build (or verify) only this model; repeatable; other manifest entries are kept")
    p.add_argument("--verify", action="store_true",
                   help="do not build: load and run every file in DIR against manifest.json")
    args = p.parse_args(argv)
    return cmd_verify(args) if args.verify else cmd_build(args)


if __name__ == "__main__":
    sys.exit(main())

"""Small real ONNX models, built with onnx.helper, whose behaviour depends on their inputs' values."""

from __future__ import annotations

from pathlib import Path


def _save(graph, path: Path, opset: int = 13) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def vad_model(path: Path) -> Path:
    """A voice-activity-like model: ``audio`` float32 [1, T] and a scalar int64 ``sr``. The audio is reshaped to
    [sr - 15999, -1], which only works for sr = 16000 (any other rate takes the model somewhere it cannot go)."""
    from onnx import TensorProto, helper

    audio = helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, "T"])
    sr = helper.make_tensor_value_info("sr", TensorProto.INT64, [])
    out = helper.make_tensor_value_info("speech", TensorProto.FLOAT, [1])
    consts = [helper.make_tensor("offset", TensorProto.INT64, [], [15999]),
              helper.make_tensor("one", TensorProto.INT64, [1], [1]),
              helper.make_tensor("rest", TensorProto.INT64, [1], [-1])]
    nodes = [helper.make_node("Sub", ["sr", "offset"], ["rows"]),
             helper.make_node("Reshape", ["rows", "one"], ["rows1"]),
             helper.make_node("Concat", ["rows1", "rest"], ["target"], axis=0),
             helper.make_node("Reshape", ["audio", "target"], ["frames"]),
             helper.make_node("ReduceMean", ["frames"], ["speech"], axes=[1], keepdims=0)]
    return _save(helper.make_graph(nodes, "vad", [audio, sr], [out], consts), path)


def token_model(path: Path, vocab: int = 100, length: int = 16) -> Path:
    """``ids`` int64 [1, length] looked up in a [vocab, 8] embedding: an id outside [0, vocab - 1] fails."""
    import numpy as np
    from onnx import TensorProto, helper

    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [1, length])
    out = helper.make_tensor_value_info("emb", TensorProto.FLOAT, [1, length, 8])
    table = helper.make_tensor("table", TensorProto.FLOAT, [vocab, 8],
                               np.arange(vocab * 8, dtype="float32").tolist())
    nodes = [helper.make_node("Gather", ["table", "ids"], ["emb"], axis=0)]
    return _save(helper.make_graph(nodes, "tokens", [ids], [out], [table]), path)


def echo_model(path: Path, shape: list | None = None) -> Path:
    """``x`` float32 (default [N, 4]) returned as ``y``: what the model was fed is what comes out."""
    from onnx import TensorProto, helper

    shape = shape or ["N", 4]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)
    return _save(helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "echo", [x], [y]), path)


def string_model(path: Path) -> Path:
    """``text`` string [1] returned as ``same``."""
    from onnx import TensorProto, helper

    text = helper.make_tensor_value_info("text", TensorProto.STRING, [1])
    same = helper.make_tensor_value_info("same", TensorProto.STRING, [1])
    return _save(helper.make_graph([helper.make_node("Identity", ["text"], ["same"])], "strings", [text], [same]),
                 path)

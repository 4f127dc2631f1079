"""Shared test helpers: paths of the checkout, the shipped models, the recorded fixtures, and `need_tool`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "suites" / "models"
#: recorded device outputs, in the checkout (copied from the project's shared fixtures: a clone needs nothing beside it)
SHARED_FIXTURES = REPO / "tests" / "fixtures"


def need_tool(reason: str) -> NoReturn:
    """Stop a test whose tool (sshd, chromium, a Python of some version) is missing here.

    Locally the test skips with ``reason``. In CI (``CI=true``, which GitHub Actions and most CI services set) it fails
    instead: CI installs every tool the tests use, so a missing one is a broken CI, and a skip would let it pass
    green without having run them."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def tiny_onnx(tmp_path: Path) -> Path:
    """A real two-layer ONNX model with a dynamic batch, built with onnx's helpers (no download)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 32])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8])
    w1 = helper.make_tensor("w1", TensorProto.FLOAT, [32, 16], rng.standard_normal(512).astype("float32"))
    w2 = helper.make_tensor("w2", TensorProto.FLOAT, [16, 8], rng.standard_normal(128).astype("float32"))
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("MatMul", ["r", "w2"], ["y"])]
    graph = helper.make_graph(nodes, "tiny", [x], [y], [w1, w2])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / "models" / "tiny.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path

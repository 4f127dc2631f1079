"""Building inputs: the dtype they are made in, the default ranges, the memory estimate and its refusal."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from edgebench.backends.base import TensorSpec
from edgebench.worker.feeds import Feeder, generate
from edgebench.worker.inputs import (
    InputError,
    InputPlan,
    InputSpec,
    check_memory,
    default_int_range,
    estimate_bytes,
    plan_inputs,
    resolve_shape,
)


def plan(dtype: str, shape: tuple, **spec) -> InputPlan:
    return InputPlan(TensorSpec("x", dtype, shape), InputSpec("x", "models[0].inputs.x", **spec), shape)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_floats_are_made_in_their_dtype_without_a_float64_copy(dtype):
    """numpy reports its buffers to tracemalloc: the peak is the value itself (float16: plus its float32 source),
    never the 8 bytes per element of a float64 detour."""
    shape = (1000, 1000)
    rng = np.random.default_rng(0)
    tracemalloc.start()
    try:
        value = generate(plan(dtype, shape), rng)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert value.dtype == np.dtype(dtype) and value.shape == shape
    assert peak < 1_000_000 * (4 + np.dtype(dtype).itemsize) + 100_000


def test_ranges_and_normal_parameters_are_honoured():
    rng = np.random.default_rng(0)
    ints = generate(plan("int64", (10_000,), range=(0, 30521)), rng)
    assert ints.dtype == np.int64 and ints.min() >= 0 and ints.max() <= 30521 and len(np.unique(ints)) > 1000
    assert generate(plan("int64", (1000,), range=(5, 6)), rng).max() == 6  # inclusive
    floats = generate(plan("float32", (10_000,), range=(-1.0, 1.0)), rng)
    assert floats.dtype == np.float32 and -1.0 <= floats.min() and floats.max() <= 1.0
    normal = generate(plan("float32", (100_000,), normal=(5.0, 0.5)), rng)
    assert abs(float(normal.mean()) - 5.0) < 0.01 and abs(float(normal.std()) - 0.5) < 0.01
    fixed = generate(plan("int64", (2, 3), value=7), rng)
    assert fixed.dtype == np.int64 and fixed.tolist() == [[7, 7, 7], [7, 7, 7]]


def test_default_integer_ranges():
    assert default_int_range("int8") == (-128, 127)
    assert default_int_range("uint8") == (0, 255)
    assert default_int_range("int16") == (-32768, 32767)
    assert default_int_range("int32") == (0, 1)
    assert default_int_range("int64") == (0, 1)
    rng = np.random.default_rng(0)
    values = generate(plan("int64", (1000,)), rng)
    assert sorted(np.unique(values).tolist()) == [0, 1]


def test_the_memory_estimate_counts_streams_and_samples_and_refuses_with_one_line():
    tensors = [TensorSpec("x", "float32", (-1, 1024)), TensorSpec("ids", "int64", (1, 8))]
    specs = {"x": InputSpec("x", "models[0].inputs.x", shape=(268435456, 1024))}
    plans = plan_inputs(tensors, specs, 1, "s.toml", "models[0]")
    assert [p.shape for p in plans] == [(268435456, 1024), (1, 8)]
    assert estimate_bytes(plans, 2) == 2 * (268435456 * 1024 * 4 + 8 * 8)
    with pytest.raises(InputError) as info:
        check_memory(plans, 2, 16 << 30, "s.toml")
    assert str(info.value) == ("s.toml: models[0].inputs.x.shape: input x of shape [268435456, 1024] (float32) is "
                               "1024.0 GiB; with the other inputs x 2 streams the case needs 2048.0 GiB, more than "
                               "the 16.0 GiB this device has free")
    assert check_memory(plans[1:], 1, 16 << 30, "s.toml") == 64
    assert check_memory(plans, 1, None, "s.toml") > 16 << 30  # nothing known about the device: nothing refused


def test_feeder_cycles_every_input_with_several_samples():
    feeder = Feeder({"a": [np.array(0), np.array(1), np.array(2)], "b": [np.array(9)]})
    assert feeder.cycles and not Feeder({"b": [np.array(9)]}).cycles
    seen = [int(feeder.current()["a"])] + [int(feeder.advance()["a"]) for _ in range(4)]
    assert seen == [0, 1, 2, 0, 1] and int(feeder.current()["b"]) == 9
    assert int(feeder.fork().current()["a"]) == 0


def test_the_older_input_shapes_interface_still_resolves():
    spec = TensorSpec("x", "float32", (-1, -1))
    assert resolve_shape(spec, 4, {"x": [1, 7]}) == (4, 7)
    with pytest.raises(InputError, match="dynamic dimensions"):
        resolve_shape(spec, 1, {})


def test_a_rank_0_input_given_a_shape_takes_it():
    """onnxruntime reports an input of unknown rank as rank 0 (the host's ONNX reader tells the two apart)."""
    [found] = plan_inputs([TensorSpec("x", "float32", ())], {"x": InputSpec("x", "k", shape=(1, 3))}, 1, "s.toml")
    assert found.shape == (1, 3)
    [scalar] = plan_inputs([TensorSpec("sr", "int64", ())], {"sr": InputSpec("sr", "k", value=16000)}, 1, "s.toml")
    assert scalar.shape == ()

"""Seeded model inputs, built once from the input specs the runtime reports (dtype, shape, quantisation)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from edgebench.backends.base import TensorSpec


class InputError(ValueError):
    pass


def resolve_shape(spec: TensorSpec, batch: int, overrides: Mapping[str, Sequence[int]]) -> tuple[int, ...]:
    """Dynamic dims (-1) become the batch (first dim) or come from the suite's ``input_shapes``."""
    if spec.name in overrides:
        shape = [int(d) for d in overrides[spec.name]]
        if shape and batch != 1:
            shape[0] = batch
        return tuple(shape)
    shape = list(spec.shape)
    if not shape:
        return ()
    if shape[0] == -1:
        shape[0] = batch
    elif batch != 1 and shape[0] != batch:
        raise InputError(f"input {spec.name} has a fixed batch dimension {shape[0]}; batch {batch} needs a model "
                         f"with a dynamic batch dimension")
    if any(d < 0 for d in shape[1:]):
        raise InputError(f"input {spec.name} has dynamic dimensions {list(spec.shape)}: "
                         f"give its shape in the suite's models[].input_shapes")
    return tuple(shape)


def build_inputs(specs: Sequence[TensorSpec], shapes: Mapping[str, tuple[int, ...]], seed: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    feeds: dict[str, Any] = {}
    for spec in specs:
        shape = shapes[spec.name]
        dtype = np.dtype(spec.dtype)
        if dtype.kind == "f":
            feeds[spec.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            low, high = max(int(info.min), -128), min(int(info.max), 127)
            feeds[spec.name] = rng.integers(low, high + 1, size=shape, dtype=np.int64).astype(dtype)
        elif dtype.kind == "b":
            feeds[spec.name] = rng.integers(0, 2, size=shape).astype(bool)
        else:
            raise InputError(f"input {spec.name}: cannot generate data of dtype {spec.dtype}")
    return feeds

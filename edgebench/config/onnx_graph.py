"""The inputs an ONNX model declares (name, dtype, shape), read on the host without a runtime or the ``onnx``
package: a minimal reader of the protobuf wire format that walks ``ModelProto.graph`` and skips everything else
(weights included) by length, over a memory map, so a 2 GB model costs no more than a small one.

Field numbers are those of onnx.proto: ModelProto.graph = 7; GraphProto.initializer = 5, .input = 11,
.sparse_initializer = 15; TensorProto.name = 8; SparseTensorProto.values = 1; ValueInfoProto.name = 1, .type = 2;
TypeProto.tensor_type = 1; TypeProto.Tensor.elem_type = 1, .shape = 2; TensorShapeProto.dim = 1;
Dimension.dim_value = 1, .dim_param = 2. Graph inputs that are also initializers are weights, not inputs (as
onnxruntime's ``get_inputs`` leaves them out).
"""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Iterator

from edgebench.backends.base import TensorSpec
from edgebench.config.model_format import Malformed, Truncated, wire_fields

#: TensorProto.DataType -> the dtype names the backends report
ELEM_TYPES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
              9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 14: "complex64",
              15: "complex128", 16: "bfloat16"}


class OnnxReadError(ValueError):
    """The file is not an ONNX model this reader understands."""


def _fields(buf: memoryview) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value): an int for varints, None for fixed ints, a memoryview for
    length-delimited; the wire format as ``model_format`` reads it, its errors as ``OnnxReadError``."""
    try:
        for number, wire, value, start, end in wire_fields(buf, 0, len(buf)):  # type: ignore[arg-type]
            yield number, wire, (buf[start:end] if wire == 2 else value)
    except (Truncated, Malformed) as exc:
        raise OnnxReadError(str(exc) or type(exc).__name__) from None


def _sub(fields: Iterator[tuple[int, int, object]], number: int) -> Iterator[memoryview]:
    for found, wire, value in fields:
        if found == number and wire == 2:
            assert isinstance(value, memoryview)
            yield value


def _text(value: memoryview) -> str:
    return bytes(value).decode("utf-8", errors="replace")


def _tensor_spec(value_info: memoryview) -> TensorSpec:
    name = ""
    dtype = "unknown"
    shape: tuple[int, ...] | None = None
    for number, wire, value in _fields(value_info):
        if number == 1 and wire == 2:
            name = _text(value)  # type: ignore[arg-type]
        elif number == 2 and wire == 2:
            for tensor_type in _sub(_fields(value), 1):  # type: ignore[arg-type]
                for t_number, t_wire, t_value in _fields(tensor_type):
                    if t_number == 1 and t_wire == 0:
                        dtype = ELEM_TYPES.get(int(t_value), f"onnx type {t_value}")  # type: ignore[call-overload]
                    elif t_number == 2 and t_wire == 2:
                        dims = []
                        for dim in _sub(_fields(t_value), 1):  # type: ignore[arg-type]
                            size = -1
                            for d_number, d_wire, d_value in _fields(dim):
                                if d_number == 1 and d_wire == 0:
                                    size = int(d_value)  # type: ignore[call-overload]
                                    size = size if size < 1 << 63 else size - (1 << 64)  # int64 two's complement
                            dims.append(size)
                        shape = tuple(dims)
    return TensorSpec(name, dtype, shape)  # type: ignore[arg-type]


def read_inputs(path: Path) -> list[TensorSpec]:
    """The graph's inputs, weights left out; ``shape`` is None when the model does not say the rank."""
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                return _read(view)
            finally:
                view.release()
    except (OSError, ValueError) as exc:
        raise OnnxReadError(f"{path}: {exc}") from None


def _read(model: memoryview) -> list[TensorSpec]:
    graphs = list(_sub(_fields(model), 7))
    if not graphs:
        raise OnnxReadError("no graph")
    inputs: list[TensorSpec] = []
    weights: set[str] = set()
    for number, wire, value in _fields(graphs[-1]):
        if wire != 2:
            continue
        if number == 11:
            inputs.append(_tensor_spec(value))  # type: ignore[arg-type]
        elif number == 5:
            weights.update(_text(v) for v in _sub(_fields(value), 8))  # type: ignore[arg-type]
        elif number == 15:
            for values in _sub(_fields(value), 1):  # type: ignore[arg-type]
                weights.update(_text(v) for v in _sub(_fields(values), 8))
    if any(not spec.name for spec in inputs):
        raise OnnxReadError("an input without a name")
    return [spec for spec in inputs if spec.name not in weights]

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

#: TensorProto.DataType -> the dtype names the backends report
ELEM_TYPES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
              9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 14: "complex64",
              15: "complex128", 16: "bfloat16"}


class OnnxReadError(ValueError):
    """The file is not an ONNX model this reader understands."""


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise OnnxReadError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value): an int for varints and fixed ints, a memoryview for length-delimited."""
    pos = 0
    end = len(buf)
    while pos < end:
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise OnnxReadError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, wire, value
        elif wire == 1:
            pos += 8
            yield number, wire, None
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > end:
                raise OnnxReadError("truncated field")
            yield number, wire, buf[pos:pos + length]
            pos += length
        elif wire == 5:
            pos += 4
            yield number, wire, None
        else:
            raise OnnxReadError(f"wire type {wire}")
        if pos > end:
            raise OnnxReadError("truncated field")


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

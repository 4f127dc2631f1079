"""What a model file really is, read from its bytes, and what is wrong with it, in one line that names it.

The suite loader asks ``problem_of(path, declared)`` for every model file before anything runs; a file with a
problem fails only the cases that use it (the rest of the suite runs). ``declared`` is the format the
file's extension names (``.onnx`` or ``.tflite``). The content decides, and a file whose content is the other
format is a problem, not silently re-routed: ``m.onnx is a TFLite flatbuffer, not ONNX: rename it to m.tflite``.
(Re-routing it would change which cases exist and put a format in run.json that disagrees with the name people
read; a rename is a one-line fix.)

How each format is recognised, with nothing but the standard library:

- TFLite: a FlatBuffer whose file identifier ``TFL3`` sits at bytes 4..8. Its root table, vtable, operator
  codes, subgraphs and buffers (weights, inline or appended at an absolute offset) must lie inside the file; a
  file they run past is reported truncated.
- ONNX: a protobuf ``ModelProto``. A wire-format scan reads its top-level fields (an ``ir_version`` first, a
  ``graph``), then the graph's tensors (initializers and the tensors and subgraphs in node attributes) for
  external data, whose files must exist and be long enough. When the ``onnx`` package is installed, it parses the
  whole message too, as a second opinion on what the scan does not look into.

Runtime-only problems (an operator or opset the runtime lacks) are found in the worker, by the backends.
"""

from __future__ import annotations

import errno
import mmap
import os
import stat
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

TFLITE_IDENTIFIER = b"TFL3"
FORMAT_NAMES = {"onnx": "ONNX", "tflite": "TFLite"}
CONTENT_NAMES = {"onnx": "an ONNX model", "tflite": "a TFLite flatbuffer"}
EXTENSIONS = {"onnx": ".onnx", "tflite": ".tflite"}
#: the ``onnx`` package's full parse holds the model in memory twice: above this size only the scan runs
ONNX_FULL_PARSE_MAX_BYTES = 512 << 20
#: the protobuf ``ir_version`` ONNX writers put first; a first field like this makes a file "look like ONNX"
MAX_PLAUSIBLE_IR_VERSION = 64
#: content that people mistake for a model, by its first bytes
OTHER_CONTENT = (
    (b"version https://git-lfs", "a Git LFS pointer, not the model: fetch it with `git lfs pull`"),
    (b"<!DOCTYPE html", "an HTML page, not a model (a failed download?)"),
    (b"<html", "an HTML page, not a model (a failed download?)"),
    (b"PK\x03\x04", "a zip archive, not a model file"),
    (b"\x1f\x8b", "a gzip file, not a model file: unpack it"),
)


class Truncated(Exception):
    """The content runs past the end of the file: ``need_bytes`` is how far it reaches."""

    def __init__(self, need_bytes: int) -> None:
        super().__init__(need_bytes)
        self.need_bytes = need_bytes


class Malformed(Exception):
    """The bytes are not the structure they claim to be; the message says where."""


# -- the file itself ---------------------------------------------------------------------------------------------
def problem_of(path: Path, declared: str) -> Optional[str]:
    """None when ``path`` is a readable ``declared`` model (``onnx`` or ``tflite``), else one line naming it."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"{path} is a broken symlink (to {os.readlink(path)}, which does not exist)"
        return f"file not found: {path}"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path} is a symlink loop (following its links leads back to a link already seen)"
        return f"{path} cannot be read: {exc.strerror}"
    if stat.S_ISDIR(info.st_mode):
        return f"{path} is a directory, not a model file"
    if not stat.S_ISREG(info.st_mode):
        return f"{path} is not a regular file (a device, a pipe or a socket)"
    if not info.st_mode & (stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH):
        # checked on the mode bits, not only by open(): root can open such a file, a user (in CI, on a device)
        # cannot, and a suite should not pass or fail by who runs it
        return f"{path} cannot be read: no one has read permission (mode {stat.S_IMODE(info.st_mode):03o})"
    if info.st_size == 0:
        return f"{path} is empty (0 bytes)"
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _content_problem(path, data, declared)
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}"


def content_format(path: Path) -> Optional[str]:
    """``onnx`` or ``tflite`` when the file's bytes are a sound model of that format, else None (also when
    it cannot be read): for the hint on a file whose extension names no format."""
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return identify(data)[0]
    except (OSError, ValueError):
        return None


def identify(data: bytes | mmap.mmap,
             external: Optional[List[ExternalTensor]] = None) -> Tuple[Optional[str], Optional[str]]:
    """(format, None) for a sound model; (format, problem) for a damaged one of that format (the problem
    without the file's name); (None, why) when the bytes are neither format. ``external``, when given, receives
    a sound ONNX model's tensors stored outside it."""
    size = len(data)
    tflite_problem = None
    if size >= 8 and data[4:8] == TFLITE_IDENTIFIER:
        tflite_problem = _tflite_problem(data)
        if tflite_problem is None:
            return "tflite", None
    try:
        _scan_onnx(data, [] if external is None else external)
        return "onnx", None
    except Truncated as cut:
        onnx_problem = f"is truncated: {size} bytes, but the ONNX model in it runs to byte {cut.need_bytes}"
        onnx_detail = f"it runs past the end, to byte {cut.need_bytes}"
    except Malformed as exc:
        onnx_problem = f"is a damaged ONNX model: {exc}"
        onnx_detail = str(exc)
    if tflite_problem is not None:
        return "tflite", tflite_problem
    if _starts_like_onnx(data):
        return "onnx", onnx_problem
    head = bytes(data[:64]).lstrip()
    for prefix, what in OTHER_CONTENT:
        if head.startswith(prefix):
            return None, f"is {what}"
    return None, (f"is not a model file: neither ONNX ({onnx_detail}) nor TFLite (no "
                  f"{TFLITE_IDENTIFIER.decode()} at bytes 4..8)")


def _content_problem(path: Path, data: mmap.mmap, declared: str) -> Optional[str]:
    external: List[ExternalTensor] = []
    found, problem = identify(data, external)
    if found is None and declared == "tflite" and len(data) < 8:
        return f"{path} is truncated: {len(data)} bytes, too few for a TFLite flatbuffer (its header is 8)"
    if found is not None and found != declared:
        new_name = path.with_suffix(EXTENSIONS[found]).name
        if problem is None:
            return f"{path} is {CONTENT_NAMES[found]}, not {FORMAT_NAMES[declared]}: rename it to {new_name}"
        return (f"{path} is {CONTENT_NAMES[found]}, not {FORMAT_NAMES[declared]} (rename it to {new_name}), and "
                f"it {problem}")
    if problem is not None:
        return f"{path} {problem}"
    if found == "onnx":
        return _external_data_problem(path, external) or _onnx_package_problem(path, data)
    return None


# -- TFLite: a FlatBuffer ----------------------------------------------------------------------------------------
class _FlatBuffer:
    """Bounds-checked reads of a FlatBuffer: every read past the end raises ``Truncated``."""

    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data = data
        self.size = len(data)

    def within(self, pos: int, length: int) -> None:
        """``length`` bytes from ``pos`` lie inside the file."""
        if pos < 0:
            raise Malformed(f"an offset points before the start of the file ({pos})")
        if pos + length > self.size:
            raise Truncated(pos + length)

    def uint(self, pos: int, width: int) -> int:
        self.within(pos, width)
        return int.from_bytes(self.data[pos:pos + width], "little")

    def table(self, pos: int) -> Tuple[int, int]:
        """(table position, its vtable position), both checked."""
        soffset = self.uint(pos, 4)
        soffset = soffset - (1 << 32) if soffset >= 1 << 31 else soffset
        vtable = pos - soffset
        vtable_bytes = self.uint(vtable, 2)
        table_bytes = self.uint(vtable + 2, 2)
        if vtable_bytes < 4 or vtable_bytes % 2:
            raise Malformed(f"a vtable at byte {vtable} has an impossible size ({vtable_bytes})")
        self.within(vtable, vtable_bytes)
        self.within(pos, table_bytes)
        return pos, vtable

    def field(self, table: Tuple[int, int], index: int) -> Optional[int]:
        """The position of field ``index`` of ``table``, or None when it is absent."""
        pos, vtable = table
        vtable_bytes = self.uint(vtable, 2)
        slot = 4 + 2 * index
        if slot + 2 > vtable_bytes:
            return None
        offset = self.uint(vtable + slot, 2)
        return pos + offset if offset else None

    def vector(self, field_pos: int, element_bytes: int) -> Tuple[int, int]:
        """(first element's position, count) of the vector ``field_pos`` refers to; all of it in the file."""
        start = field_pos + self.uint(field_pos, 4)
        count = self.uint(start, 4)
        self.within(start + 4, count * element_bytes)
        return start + 4, count

    def tables(self, field_pos: Optional[int]) -> List[Tuple[int, int]]:
        if field_pos is None:
            return []
        first, count = self.vector(field_pos, 4)
        out = []
        for index in range(count):
            element = first + 4 * index
            out.append(self.table(element + self.uint(element, 4)))
        return out


# fields of the TFLite schema's Model and Buffer tables (tensorflow/lite/schema/schema.fbs)
_MODEL_OPERATOR_CODES, _MODEL_SUBGRAPHS, _MODEL_BUFFERS = 1, 2, 4
_BUFFER_DATA, _BUFFER_OFFSET, _BUFFER_SIZE = 0, 1, 2


def _tflite_problem(data: bytes | mmap.mmap) -> Optional[str]:
    """None for a sound TFLite flatbuffer (as far as its layout goes), else what is wrong."""
    buffer = _FlatBuffer(data)
    try:
        root = buffer.uint(0, 4)
        if root < 8:
            raise Malformed(f"its root table offset ({root}) points into its own header")
        model = buffer.table(root)
        buffer.tables(buffer.field(model, _MODEL_OPERATOR_CODES))
        if not buffer.tables(buffer.field(model, _MODEL_SUBGRAPHS)):
            raise Malformed("it has no subgraph")
        for weights in buffer.tables(buffer.field(model, _MODEL_BUFFERS)):
            inline = buffer.field(weights, _BUFFER_DATA)
            if inline is not None:
                buffer.vector(inline, 1)
            offset_pos = buffer.field(weights, _BUFFER_OFFSET)
            size_pos = buffer.field(weights, _BUFFER_SIZE)
            if offset_pos is not None and size_pos is not None:
                offset, size = buffer.uint(offset_pos, 8), buffer.uint(size_pos, 8)
                if offset > 1:  # weights appended after the flatbuffer (models over 2 GB)
                    buffer.within(offset, size)
    except Truncated as cut:
        return f"is truncated: {buffer.size} bytes, but the TFLite flatbuffer in it runs to byte {cut.need_bytes}"
    except Malformed as exc:
        return f"is a damaged TFLite flatbuffer: {exc}"
    return None


# -- ONNX: a protobuf ModelProto ---------------------------------------------------------------------------------
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
# field numbers of onnx.proto's messages, and the wire types the scan insists on
_MODEL_IR_VERSION, _MODEL_GRAPH = 1, 7
_MODEL_WIRE_TYPES = {1: _VARINT, 2: _LENGTH, 3: _LENGTH, 4: _LENGTH, 5: _VARINT, 6: _LENGTH, 7: _LENGTH,
                     8: _LENGTH, 14: _LENGTH, 20: _LENGTH, 25: _LENGTH}
_MODEL_FIELD_NAMES = {1: "ir_version", 2: "producer_name", 3: "producer_version", 4: "domain",
                      5: "model_version", 6: "doc_string", 7: "graph", 8: "opset_import", 14: "metadata_props",
                      20: "training_info", 25: "functions"}
_GRAPH_NODE, _GRAPH_INITIALIZER = 1, 5
_NODE_ATTRIBUTE = 5
_ATTRIBUTE_TENSOR, _ATTRIBUTE_GRAPH, _ATTRIBUTE_TENSORS, _ATTRIBUTE_GRAPHS = 5, 6, 10, 11
_TENSOR_NAME, _TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION = 8, 13, 14
_TENSOR_EXTERNAL = 1
_ENTRY_KEY, _ENTRY_VALUE = 1, 2

#: one field: (number, wire type, varint value or None, first byte of its value, end of its value)
Field = Tuple[int, int, Optional[int], int, int]


def _varint(data: bytes | mmap.mmap, pos: int, end: int) -> Tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end:
            raise Truncated(pos + 1)
        if shift > 63:
            raise Malformed(f"a varint at byte {pos} is longer than 10 bytes")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if not byte & 0x80:
            return value, pos


def wire_fields(data: bytes | mmap.mmap, start: int, end: int) -> Iterator[Field]:
    """The fields of the message in ``data[start:end]``; ``Truncated`` when one runs past ``end``."""
    pos = start
    while pos < end:
        tag_at = pos
        tag, pos = _varint(data, pos, end)
        number, wire_type = tag >> 3, tag & 7
        if number == 0:
            raise Malformed(f"at byte {tag_at}: field number 0")
        value = None
        if wire_type == _VARINT:
            value, value_end = _varint(data, pos, end)
        elif wire_type == _FIXED64:
            value_end = pos + 8
        elif wire_type == _FIXED32:
            value_end = pos + 4
        elif wire_type == _LENGTH:
            length, pos = _varint(data, pos, end)
            value_end = pos + length
        else:
            raise Malformed(f"at byte {tag_at}: wire type {wire_type} (not used by ONNX)")
        if value_end > end:
            raise Truncated(value_end)
        yield number, wire_type, value, pos, value_end
        pos = value_end


def _starts_like_onnx(data: bytes | mmap.mmap) -> bool:
    """ONNX writers put ``ir_version`` (field 1, a small varint) first."""
    try:
        number, wire_type, value, _, _ = next(wire_fields(data, 0, len(data)))
    except (StopIteration, Truncated, Malformed):
        return False
    return number == _MODEL_IR_VERSION and wire_type == _VARINT and 1 <= (value or 0) <= MAX_PLAUSIBLE_IR_VERSION


def _scan_onnx(data: bytes | mmap.mmap, external: List[ExternalTensor]) -> None:
    """Returns for a sound ONNX ModelProto, its tensors stored outside it added to ``external``; raises
    ``Truncated`` (past the end of the file) or ``Malformed``."""
    size = len(data)
    seen = set()
    try:
        for number, wire_type, _, start, end in wire_fields(data, 0, size):
            wanted = _MODEL_WIRE_TYPES.get(number)
            if wanted is not None and wire_type != wanted:
                raise Malformed(f"at byte {start}: field {_MODEL_FIELD_NAMES[number]} has wire type {wire_type}")
            seen.add(number)
            if number == _MODEL_GRAPH:
                _graph_tensors(data, start, end, external)  # its structure, down to tensors
    except Truncated as cut:
        if cut.need_bytes <= size:  # a field runs past the message that holds it, not past the file
            raise Malformed(f"a field runs past the message that holds it, to byte {cut.need_bytes}") from None
        raise
    if _MODEL_IR_VERSION not in seen:
        raise Malformed("it has no ir_version")
    if _MODEL_GRAPH not in seen:
        raise Malformed("it has no graph")


#: a tensor stored outside the model: (its name, the fields of its external_data entries)
ExternalTensor = Tuple[str, dict]


def _graph_tensors(data: bytes | mmap.mmap, start: int, end: int, out: List[ExternalTensor]) -> List[ExternalTensor]:
    """The tensors of a GraphProto (and its nodes' subgraphs) whose data lies in external files."""
    for number, _, _, field_start, field_end in wire_fields(data, start, end):
        if number == _GRAPH_INITIALIZER:
            _tensor(data, field_start, field_end, out)
        elif number == _GRAPH_NODE:
            for node_field, _, _, node_start, node_end in wire_fields(data, field_start, field_end):
                if node_field == _NODE_ATTRIBUTE:
                    _attribute_tensors(data, node_start, node_end, out)
    return out


def _attribute_tensors(data: bytes | mmap.mmap, start: int, end: int, out: List[ExternalTensor]) -> None:
    for number, wire_type, _, field_start, field_end in wire_fields(data, start, end):
        if wire_type != _LENGTH:
            continue
        if number in (_ATTRIBUTE_TENSOR, _ATTRIBUTE_TENSORS):
            _tensor(data, field_start, field_end, out)
        elif number in (_ATTRIBUTE_GRAPH, _ATTRIBUTE_GRAPHS):
            _graph_tensors(data, field_start, field_end, out)


def _tensor(data: bytes | mmap.mmap, start: int, end: int, out: List[ExternalTensor]) -> None:
    name = ""
    external = False
    entries = {}
    for number, _, value, field_start, field_end in wire_fields(data, start, end):
        if number == _TENSOR_NAME:
            name = bytes(data[field_start:field_end]).decode("utf-8", "replace")
        elif number == _TENSOR_DATA_LOCATION:
            external = value == _TENSOR_EXTERNAL
        elif number == _TENSOR_EXTERNAL_DATA:
            key = entry_value = ""
            for entry_field, _, _, entry_start, entry_end in wire_fields(data, field_start, field_end):
                text = bytes(data[entry_start:entry_end]).decode("utf-8", "replace")
                if entry_field == _ENTRY_KEY:
                    key = text
                elif entry_field == _ENTRY_VALUE:
                    entry_value = text
            entries[key] = entry_value
    if external:
        out.append((name, entries))


def _external_data_problem(path: Path, external: List[ExternalTensor]) -> Optional[str]:
    """Each tensor stored outside the model must find its file, long enough, beside the model."""
    for name, entries in external:
        location = entries.get("location")
        if not location:
            return f"{path}: tensor {name!r} is stored externally but names no location"
        target = path.parent / location
        try:
            length = os.stat(target).st_size
        except FileNotFoundError:
            return f"{path}: its external data file {target} is missing (tensor {name!r} is stored there)"
        except OSError as exc:
            return f"{path}: its external data file {target} cannot be read: {exc.strerror}"
        try:
            need = int(entries.get("offset") or 0) + int(entries.get("length") or 0)
        except ValueError:
            return f"{path}: tensor {name!r} has a malformed external data offset or length"
        if need > length:
            return (f"{path}: its external data file {target} is truncated: {length} bytes, but tensor "
                    f"{name!r} runs to byte {need}")
    return None


def _onnx_package_problem(path: Path, data: mmap.mmap) -> Optional[str]:
    """The ``onnx`` package's full parse, when it is installed (the host may not have it)."""
    import importlib.util

    if len(data) > ONNX_FULL_PARSE_MAX_BYTES or importlib.util.find_spec("onnx") is None:
        return None
    import onnx
    from google.protobuf.message import DecodeError

    try:
        onnx.ModelProto().ParseFromString(bytes(data))
    except DecodeError as exc:
        return f"{path} is a damaged ONNX model: the onnx package cannot parse it ({exc})"
    return None

"""Model inputs: what the suite says about each input (``models[].inputs.NAME``), checked against what the
runtime reports (name, dtype, rank, fixed dimensions), and sized against the device's free memory before
anything is allocated. (``edgebench.worker.feeds`` then builds the values.)

This module runs on the device (Python 3.8, numpy, no host-only imports); the host's suite parser
(``edgebench.config.inputs``) builds the same :class:`InputSpec` and runs the same :func:`check_spec` against an
ONNX model's declared inputs, so most mistakes are found before the first case. Every problem is an
:class:`InputError` (a :class:`~edgebench.errors.ConfigError`) naming the suite file and the key to change.

Sources of an input's values (at most one): ``value`` (fixed), ``range`` (uniform; integers inclusive),
``normal`` (mean, standard deviation), ``data`` (a ``.npy`` whose axis 0 is the samples, or a ``.npz`` holding an
array named after the input). Without one, values are random: floats standard normal, integers over
:func:`default_int_range`, booleans 0/1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from edgebench.backends.base import TensorSpec
from edgebench.errors import ConfigError

SOURCES = ("value", "range", "normal", "data")
DATA_SUFFIXES = (".npy", ".npz")
#: dtype names runtimes give string tensors (onnxruntime ``tensor(string)`` -> ``string``; TFLite ``bytes_``)
STRING_DTYPES = frozenset({"string", "str", "str_", "bytes", "bytes_", "object", "object_"})
#: int32/int64 inputs are mostly token ids, positions, token types and masks: 0 and 1 index any embedding table
#: and are valid in any mask, where the dtype's range (or [-128, 127]) fails a Gather. ``range`` overrides it.
WIDE_INT_DEFAULT = (0, 1)
WIDE_INTS = frozenset({"int32", "int64", "uint32", "uint64"})


def toml_key(name: str) -> str:
    """``sr`` as is, ``"serving_default_input:0"`` quoted: how the name is written in a dotted TOML key."""
    if name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def input_key(model_key: str, name: str) -> str:
    """Where the suite says something about input ``name`` of the model at ``model_key`` (``models[0]``)."""
    return f"{model_key}.inputs.{toml_key(name)}" if model_key else f"inputs.{toml_key(name)}"


class InputSkip(Exception):
    """The case cannot build an input here (a string input with no data): it is skipped with this reason."""


class InputError(ConfigError):
    """An input the suite describes does not fit the model, the data file or the device (file: key: problem)."""


@dataclass(frozen=True)
class DataFile:
    """A ``.npy``/``.npz`` the samples of an input come from; ``sha256`` names it in a device's cache."""

    path: str
    sha256: str = ""
    size_bytes: int = 0

    def to_json(self) -> Dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.size_bytes}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DataFile:
        return cls(str(data["path"]), str(data.get("sha256") or ""), int(data.get("bytes") or 0))


@dataclass(frozen=True)
class InputSpec:
    """What the suite says about one input. ``key`` is where it says it (``models[0].inputs.sr``);
    ``shape_key`` where the shape was given (``models[0].input_shapes.x`` in the older spelling)."""

    name: str
    key: str = ""
    shape: Optional[Tuple[int, ...]] = None
    value: Any = None
    range: Optional[Tuple[float, float]] = None
    normal: Optional[Tuple[float, float]] = None
    data: Optional[DataFile] = None
    shape_key: str = ""

    @property
    def source(self) -> str:
        for name in SOURCES:
            if getattr(self, name) is not None:
                return name
        return "random"

    def key_of(self, field: str) -> str:
        if field == "shape" and self.shape_key:
            return self.shape_key
        return f"{self.key}.{field}" if self.key else field

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"key": self.key}
        if self.shape is not None:
            out["shape"] = list(self.shape)
            if self.shape_key:
                out["shape_key"] = self.shape_key
        if self.value is not None:
            out["value"] = self.value
        if self.range is not None:
            out["range"] = list(self.range)
        if self.normal is not None:
            out["normal"] = list(self.normal)
        if self.data is not None:
            out["data"] = self.data.to_json()
        return out

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> InputSpec:
        def pair(field: str) -> Optional[Tuple[float, float]]:
            got = data.get(field)
            return (got[0], got[1]) if got is not None else None

        shape = data.get("shape")
        return cls(name, str(data.get("key") or ""), tuple(int(d) for d in shape) if shape is not None else None,
                   data.get("value"), pair("range"), pair("normal"),
                   DataFile.from_json(data["data"]) if data.get("data") else None, str(data.get("shape_key") or ""))


def specs_from_json(data: Mapping[str, Mapping[str, Any]]) -> Dict[str, InputSpec]:
    return {name: InputSpec.from_json(name, entry) for name, entry in data.items()}


# -- dtypes -----------------------------------------------------------------------------------------------------
def is_string(dtype: str) -> bool:
    return dtype in STRING_DTYPES


def numpy_dtype(dtype: str) -> Any:
    """The numpy dtype of a runtime's dtype name, or None when numpy has none (bfloat16, float8, a sequence)."""
    import numpy as np

    if is_string(dtype):
        return np.dtype(object)
    try:
        return np.dtype(dtype)
    except TypeError:
        return None


def kind_of(dtype: str) -> str:
    """``f`` float, ``i`` integer (signed or not), ``b`` bool, ``s`` string, ``?`` what numpy cannot make."""
    if is_string(dtype):
        return "s"
    found = numpy_dtype(dtype)
    if found is None:
        return "?"
    return {"f": "f", "i": "i", "u": "i", "b": "b"}.get(found.kind, "?")


def int_limits(dtype: str) -> Tuple[int, int]:
    import numpy as np

    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


def default_int_range(dtype: str) -> Tuple[int, int]:
    """int8/uint8 (quantised data) and int16/uint16 (PCM audio): the whole dtype; int32/int64/uint32/uint64
    (ids, masks): :data:`WIDE_INT_DEFAULT`."""
    return WIDE_INT_DEFAULT if dtype in WIDE_INTS else int_limits(dtype)


def value_shape(value: Any) -> Optional[Tuple[int, ...]]:
    """The shape of a nested list (``()`` for a scalar); None when it is ragged."""
    if not isinstance(value, list):
        return ()
    if not value:
        return (0,)
    inner = [value_shape(v) for v in value]
    if any(s is None or s != inner[0] for s in inner):
        return None
    return (len(value),) + inner[0]  # type: ignore[operator]


def value_leaves(value: Any) -> List[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in value_leaves(item)]
    return [value]


def _leaf_kind(leaf: Any) -> str:
    if isinstance(leaf, bool):
        return "b"
    if isinstance(leaf, int):
        return "i"
    if isinstance(leaf, float):
        return "f"
    if isinstance(leaf, (str, bytes)):
        return "s"
    return "?"


def _dtype_label(tensor: TensorSpec) -> str:
    return f"input {tensor.name} ({tensor.dtype})"


def _shape_text(shape: Optional[Sequence[int]]) -> str:
    if shape is None:
        return "(unknown rank)"
    return "[" + ", ".join("?" if d < 0 else str(d) for d in shape) + "]"


# -- checks shared by the host (ONNX) and the worker (every runtime) ---------------------------------------------
def check_spec(spec: InputSpec, tensor: TensorSpec, source: str, sample: Optional[Tuple[str, Tuple[int, ...]]] = None
               ) -> None:
    """Does ``spec`` fit the model's input ``tensor``? ``sample``: (dtype, shape) of one data sample, when the
    spec has data. Raises an :class:`InputError` naming ``source`` and the key to change."""
    model_shape = tensor.shape
    kind = kind_of(tensor.dtype)
    if spec.shape is not None and model_shape is not None:
        _check_dims(spec.shape, model_shape, tensor, source, spec.key_of("shape"), "shape")
    if spec.value is not None:
        _check_value(spec, tensor, kind, model_shape, source)
    if spec.range is not None:
        key = spec.key_of("range")
        if kind not in "fi":
            raise InputError(source, key, f"a range is for numeric inputs; {_dtype_label(tensor)} "
                                          f"{'takes data or a value' if kind == 's' else 'is not numeric'}")
        low, high = spec.range
        if kind == "i":
            if isinstance(low, float) or isinstance(high, float):
                raise InputError(source, key, f"{_dtype_label(tensor)} is an integer input: give integer bounds "
                                              f"(inclusive), got [{low}, {high}]")
            lo, hi = int_limits(tensor.dtype)
            if low < lo or high > hi:
                raise InputError(source, key, f"[{low}, {high}] is outside the range of {_dtype_label(tensor)}: "
                                              f"[{lo}, {hi}]")
    if spec.normal is not None and kind != "f":
        raise InputError(source, spec.key_of("normal"), f"normal is for float inputs; {_dtype_label(tensor)} "
                                                        f"{'takes range = [low, high]' if kind == 'i' else 'is not'}")
    if spec.data is not None and sample is not None:
        _check_sample(spec, tensor, kind, model_shape, source, sample)


def _check_dims(shape: Sequence[int], model_shape: Sequence[int], tensor: TensorSpec, source: str, key: str,
                what: str) -> None:
    if len(shape) != len(model_shape):
        raise InputError(source, key, f"{what} {list(shape)} has rank {len(shape)}; the model's input {tensor.name} "
                                      f"has rank {len(model_shape)} ({_shape_text(model_shape)})")
    for index, (mine, theirs) in enumerate(zip(shape, model_shape)):
        if index > 0 and theirs > 0 and mine != theirs:
            raise InputError(source, key, f"{what} {list(shape)}: dimension {index} is {mine}, but the model fixes "
                                          f"it at {theirs} ({tensor.name}: {_shape_text(model_shape)})")


def _check_value(spec: InputSpec, tensor: TensorSpec, kind: str, model_shape: Optional[Sequence[int]],
                 source: str) -> None:
    key = spec.key_of("value")
    kinds = {_leaf_kind(leaf) for leaf in value_leaves(spec.value)}
    if kind == "s":
        ok = kinds <= {"s"}
    elif kind == "f":
        ok = kinds <= {"i", "f"}
    elif kind == "i":
        ok = kinds <= {"i"}
    elif kind == "b":
        ok = kinds <= {"b"} or kinds <= {"i"} and all(v in (0, 1) for v in value_leaves(spec.value))
    else:
        ok = False
    if not ok:
        names = {"s": "strings", "i": "integers", "f": "floats", "b": "booleans", "?": "other values"}
        got = " and ".join(names[k] for k in sorted(kinds))
        raise InputError(source, key, f"{got} cannot feed {_dtype_label(tensor)}")
    if kind == "i":
        lo, hi = int_limits(tensor.dtype)
        bad = [v for v in value_leaves(spec.value) if not lo <= v <= hi]
        if bad:
            raise InputError(source, key, f"{bad[0]} is outside the range of {_dtype_label(tensor)}: [{lo}, {hi}]")
    shape = value_shape(spec.value)
    if shape and model_shape is not None:  # a scalar fills whatever shape the input takes
        _check_dims(shape, model_shape, tensor, source, key, "value of shape")


def _check_sample(spec: InputSpec, tensor: TensorSpec, kind: str, model_shape: Optional[Sequence[int]],
                  source: str, sample: Tuple[str, Tuple[int, ...]]) -> None:
    import numpy as np

    key = spec.key_of("data")
    dtype, shape = sample
    found = np.dtype(dtype)
    if kind == "s":
        ok = found.kind in "US"
    elif kind == "?":
        ok = False
    elif found.kind in "US":
        ok = False
    else:
        ok = bool(np.can_cast(found, numpy_dtype(tensor.dtype), "same_kind"))
    if not ok:
        raise InputError(source, key, f"the file holds {found.name} values, which cannot feed {_dtype_label(tensor)}")
    if model_shape is not None and len(shape) != len(model_shape):
        hint = ("; to read axis 0 of the file as the batch, save it with an axis added: np.expand_dims(x, 1)"
                if len(shape) == len(model_shape) - 1 else "")
        raise InputError(source, key, f"each sample (axis 0 of the file is the samples) has shape {list(shape)}, "
                                      f"rank {len(shape)}; the model's input {tensor.name} has rank "
                                      f"{len(model_shape)} ({_shape_text(model_shape)}){hint}")
    if model_shape is not None:
        _check_dims(shape, model_shape, tensor, source, key, "each sample has shape")
    if spec.shape is not None and tuple(shape[1:]) != tuple(spec.shape[1:]):
        raise InputError(source, key, f"each sample has shape {list(shape)}, not the {list(spec.shape)} given in "
                                      f"{spec.key_of('shape')}")


def check_names(specs: Mapping[str, InputSpec], tensors: Sequence[TensorSpec], source: str) -> None:
    """Every spec names an input of the model."""
    names = list(dict.fromkeys(t.name for t in tensors))
    for name, spec in specs.items():
        if name not in names:
            raise InputError(source, spec.key or name, f"the model has no input {name!r} (its inputs: "
                                                       f"{', '.join(names) or 'none'})")


# -- data files -------------------------------------------------------------------------------------------------
def read_data_header(path: str, name: str, source: str, key: str) -> Tuple[str, Tuple[int, ...], int]:
    """(dtype, shape of one sample, number of samples) of the array an input's samples come from, read from the
    file's header only."""
    import zipfile

    import numpy as np

    def header(handle: Any) -> Tuple[str, Tuple[int, ...]]:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        if dtype.hasobject:
            raise ValueError("it holds Python objects (a pickle); save strings as a str or bytes array")
        return dtype.str, tuple(int(d) for d in shape)

    try:
        if path.endswith(".npz"):
            with zipfile.ZipFile(path) as archive:
                members = [m[:-4] for m in archive.namelist() if m.endswith(".npy")]
                if name not in members:
                    raise ValueError(f"it has no array named {name!r} (its arrays: {', '.join(members) or 'none'})")
                with archive.open(name + ".npy") as handle:
                    found = header(handle)
        else:
            with open(path, "rb") as handle:
                found = header(handle)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(source, key, f"cannot read {path}: {reason}") from None
    if len(found[1]) == 0 or found[1][0] < 1:
        raise InputError(source, key, f"{path}: axis 0 is the samples, and this array has "
                                      f"{'no axis' if not found[1] else 'no samples'} (shape {list(found[1])})")
    return found[0], found[1][1:], found[1][0]


# -- shapes and the memory guard ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class InputPlan:
    """One input, ready to build: its resolved shape, where the suite can change it, and its data's samples."""

    tensor: TensorSpec
    spec: InputSpec
    shape: Tuple[int, ...]
    #: how many different values are fed in turn (a data file's samples, or its batches of samples)
    feeds: int = 1

    @property
    def itemsize(self) -> int:
        found = numpy_dtype(self.tensor.dtype)
        if found is None or found.kind == "O":
            return 8  # a pointer per string; the strings themselves come from a file already in memory
        return int(found.itemsize)

    @property
    def size_bytes(self) -> int:
        return math.prod(self.shape) * self.itemsize if self.shape else self.itemsize


def _fill_dims(tensor: TensorSpec, batch: int, shape: Sequence[int], source: str, key: str) -> Tuple[int, ...]:
    shape = list(shape)
    if not shape:
        return ()
    if shape[0] < 0:
        shape[0] = batch
    elif batch != 1 and shape[0] != batch:
        raise InputError(source, key, f"input {tensor.name} has a fixed batch dimension {shape[0]}; batch {batch} "
                                      f"needs a model with a dynamic batch dimension")
    if any(d < 0 for d in shape[1:]):
        raise InputError(source, key, f"input {tensor.name} has dynamic dimensions {_shape_text(tensor.shape)}: "
                                      f"give its shape (shape = [...]) here")
    return tuple(shape)


def resolve_plan(tensor: TensorSpec, spec: InputSpec, batch: int, source: str,
                 sample: Optional[Tuple[str, Tuple[int, ...]]] = None) -> InputPlan:
    """The shape the input is fed at: a value's own shape, a data sample's, the suite's ``shape`` (its first dim
    replaced by the batch when batch > 1) or the model's (dynamic first dim = the batch)."""
    if spec.value is not None and value_shape(spec.value):
        shape = tuple(value_shape(spec.value) or ())
        if batch != 1 and shape and shape[0] == 1 and tensor.shape and tensor.shape[0] < 0:
            shape = (batch,) + shape[1:]
        return InputPlan(tensor, spec, shape)
    if sample is not None:
        shape = tuple(sample[1])
        if batch != 1 and shape:
            if shape[0] not in (1, batch):
                raise InputError(source, spec.key_of("data"), f"each sample has shape {list(shape)}: batch {batch} "
                                 f"needs samples whose first dimension is 1 (stacked {batch} at a time) or {batch}")
            shape = (batch,) + shape[1:]
        return InputPlan(tensor, spec, shape)
    if spec.shape is not None:
        shape = tuple(spec.shape)
        if batch != 1 and shape:
            shape = (batch,) + shape[1:]
        return InputPlan(tensor, spec, shape)
    if tensor.shape is None:
        raise InputError(source, spec.key_of("shape"), f"the model does not say the rank of input {tensor.name}: "
                                                       f"give its shape here")
    return InputPlan(tensor, spec, _fill_dims(tensor, batch, tensor.shape, source, spec.key_of("shape")))


def plan_inputs(tensors: Sequence[TensorSpec], specs: Mapping[str, InputSpec], batch: int, source: str,
                model_key: str = "") -> List[InputPlan]:
    """Check every spec against the runtime's inputs and resolve every input's shape; nothing is allocated."""
    check_names(specs, tensors, source)
    plans = []
    for tensor in tensors:
        spec = specs.get(tensor.name) or InputSpec(tensor.name, input_key(model_key, tensor.name))
        sample = None
        count = 1
        if spec.data is not None:
            dtype, shape, count = read_data_header(spec.data.path, tensor.name, source, spec.key_of("data"))
            sample = (dtype, shape)
        if tensor.shape == () and (spec.shape or value_shape(spec.value) or (sample and sample[1])):
            # onnxruntime reports an input of unknown rank as rank 0: trust the rank the suite gives (the host
            # has already checked an ONNX file's exact rank; a real scalar given one fails in the runtime)
            tensor = TensorSpec(tensor.name, tensor.dtype, None, tensor.scale, tensor.zero_point)
        check_spec(spec, tensor, source, sample)
        kind = kind_of(tensor.dtype)
        if kind == "s" and spec.value is None and spec.data is None:
            raise InputSkip(f"input {tensor.name} is a string tensor: give it data (a .npy of strings) or a value in "
                            f"{source}: {spec.key}")
        if kind == "?":
            raise InputSkip(f"input {tensor.name} has dtype {tensor.dtype}, which edgebench cannot make with numpy")
        plan = resolve_plan(tensor, spec, batch, source, sample)
        if sample is not None and batch != 1 and sample[1] and sample[1][0] == 1:
            count = -(-count // batch)  # samples stacked ``batch`` at a time
        plans.append(InputPlan(plan.tensor, plan.spec, plan.shape, count))
    return plans


def format_bytes(count: float) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{int(count)} B"


def estimate_bytes(plans: Sequence[InputPlan], streams: int) -> int:
    """What the inputs take: each fed value once per stream (runtimes that copy inputs in hold one each), and the
    data files' samples once."""
    total = 0
    for plan in plans:
        total += plan.size_bytes * max(streams, 1)
        if plan.feeds > 1:
            total += plan.size_bytes * plan.feeds
    return total


def check_memory(plans: Sequence[InputPlan], streams: int, available_bytes: Optional[int], source: str) -> int:
    """Refuse, before anything is allocated, inputs that do not fit in the device's free memory."""
    needed = estimate_bytes(plans, streams)
    if available_bytes is None or needed <= available_bytes or not plans:
        return needed
    biggest = max(plans, key=lambda p: p.size_bytes)
    key = biggest.spec.key_of("shape") if biggest.spec.source != "data" else biggest.spec.key_of("data")
    streams_text = f" x {streams} streams" if streams > 1 else ""
    raise InputError(source, key, f"input {biggest.tensor.name} of shape {list(biggest.shape)} "
                                  f"({biggest.tensor.dtype}) is {format_bytes(biggest.size_bytes)}; with the other "
                                  f"inputs{streams_text} the case needs {format_bytes(needed)}, more than the "
                                  f"{format_bytes(available_bytes)} this device has free")


# -- the older interface (pytest plugin, bench scripts): shapes from ``input_shapes``, random values --------------
def resolve_shape(spec: TensorSpec, batch: int, overrides: Mapping[str, Sequence[int]]) -> Tuple[int, ...]:
    """Dynamic dims (-1) become the batch (first dim) or come from ``overrides`` (``input_shapes``)."""
    given = overrides.get(spec.name)
    plan = resolve_plan(spec, InputSpec(spec.name, f"input_shapes.{spec.name}",
                                        tuple(int(d) for d in given) if given is not None else None),
                        batch, "input_shapes")
    return plan.shape


def build_inputs(specs: Sequence[TensorSpec], shapes: Mapping[str, Tuple[int, ...]], seed: int) -> Dict[str, Any]:
    """Random values for ``specs`` at ``shapes`` (what the pytest plugin feeds)."""
    from edgebench.worker.feeds import Feeder

    plans = [InputPlan(s, InputSpec(s.name), tuple(shapes[s.name])) for s in specs]
    return Feeder.build(plans, 1, seed, "inputs").current()

"""``models[].inputs``: what a suite says about a model's inputs, parsed and checked at the edge.

    [models.inputs.sr]
    value = 16000                  # fixed: a scalar or a nested list
    [models.inputs.audio]
    shape = [1, 512]               # fixes the model's dynamic dimensions
    range = [-1.0, 1.0]            # uniform; integer inputs: inclusive [low, high]
    [models.inputs.noise]
    normal = [0.0, 1.0]            # mean, standard deviation
    [models.inputs.image]
    data = "data/images.npy"       # .npy: axis 0 = samples; .npz: the array named after the input

``input_shapes = {name = [..]}`` is the older spelling of ``inputs.NAME.shape``. Everything that can be checked
without the model is checked here (keys, types, dims >= 1, one source, data files readable, a value's shape);
:func:`check_against_onnx` checks the rest against an ONNX file's declared inputs, so a wrong name, rank or
dtype stops the run before its first case. TFLite models are checked by the worker, with the same messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgebench.backends.base import TensorSpec
from edgebench.config.fields import Table, check_type, type_name
from edgebench.config.models import ModelFile
from edgebench.digest import sha256_of
from edgebench.errors import ConfigError
from edgebench.worker.inputs import (
    DATA_SUFFIXES,
    SOURCES,
    DataFile,
    InputSpec,
    check_names,
    check_spec,
    input_key,
    read_data_header,
    toml_key,
    value_leaves,
    value_shape,
)

KEYS = ("shape",) + SOURCES


def _shape(value: Any, source: str, key: str) -> tuple[int, ...]:
    check_type(value, list, source, key)
    for index, dim in enumerate(value):
        check_type(dim, int, source, key)
        if dim < 1:
            raise ConfigError(source, key, f"dimension {index} is {dim}: every dimension must be >= 1 (give the "
                                           f"size to use for a dynamic dimension of the model)")
    return tuple(value)


def _pair(table: Table, name: str) -> tuple[float, float]:
    value = table.get(name, list)
    if len(value) != 2:
        raise table.error(name, f"expected two numbers, got {len(value)} values {value!r}")
    for item in value:
        check_type(item, (int, float), table.source, table.key(name))
    return value[0], value[1]


def _value(table: Table) -> Any:
    value = table.raw("value")
    key = table.key("value")
    shape = value_shape(value)
    if shape is None:
        raise ConfigError(table.source, key, "a ragged list: every row must have the same length")
    if 0 in shape:
        raise ConfigError(table.source, key, "an empty list")
    leaves = value_leaves(value)
    for leaf in leaves:
        if not isinstance(leaf, (bool, int, float, str)):
            raise ConfigError(table.source, key, f"expected numbers, booleans or strings, got {type_name(leaf)} "
                                                 f"{leaf!r}")
    kinds = {type(leaf) for leaf in leaves}
    if str in kinds and len(kinds) > 1 or bool in kinds and len(kinds) > 1:
        raise ConfigError(table.source, key, "mixes strings, booleans and numbers: give one kind")
    return value


def _data(table: Table, name: str, base_dir: Path) -> DataFile:
    rel = table.get("data", str)
    key = table.key("data")
    path = (base_dir / rel).resolve()
    if path.suffix.lower() not in DATA_SUFFIXES:
        raise ConfigError(table.source, key, f"a data file is .npy (axis 0: samples) or .npz (an array named "
                                             f"{name!r}), got {rel!r}")
    if not path.is_file():
        raise ConfigError(table.source, key, f"file not found: {path}")
    read_data_header(str(path), name, table.source, key)  # readable, no pickles, the array is there
    try:
        return DataFile(str(path), sha256_of(path), path.stat().st_size)
    except OSError as exc:
        raise ConfigError(table.source, key, f"cannot read {path}: {exc.strerror}") from None


def parse_input(table: Table, name: str, base_dir: Path) -> InputSpec:
    """One ``models[].inputs.NAME`` table."""
    for key in table.data:
        if key not in KEYS:
            raise table.error(key, f"unknown key (known: {', '.join(KEYS)})")
    given = [s for s in SOURCES if table.has(s)]
    if len(given) > 1:
        raise table.error(given[1], f"give only one of {', '.join(SOURCES)} (this input has {' and '.join(given)})")
    shape = _shape(table.raw("shape"), table.source, table.key("shape")) if table.has("shape") else None
    value = _value(table) if table.has("value") else None
    if value is not None and shape is not None and value_shape(value) and tuple(value_shape(value) or ()) != shape:
        raise table.error("value", f"has shape {list(value_shape(value) or ())}, not the shape {list(shape)} given")
    pairs = {}
    for field in ("range", "normal"):
        if table.has(field):
            pairs[field] = _pair(table, field)
    if "range" in pairs and pairs["range"][0] > pairs["range"][1]:
        raise table.error("range", f"low {pairs['range'][0]} is above high {pairs['range'][1]}")
    if "normal" in pairs and pairs["normal"][1] < 0:
        raise table.error("normal", f"the standard deviation {pairs['normal'][1]} is negative")
    data = _data(table, name, base_dir) if table.has("data") else None
    table.done()
    return InputSpec(name, table.prefix, shape, value, pairs.get("range"), pairs.get("normal"), data)


def parse_inputs(model: Table, base_dir: Path) -> dict[str, InputSpec]:
    """``inputs`` and the older ``input_shapes`` of one ``[[models]]`` table."""
    specs: dict[str, InputSpec] = {}
    inputs = model.table("inputs")
    for name in inputs.data:
        inputs.raw(name)
        specs[name] = parse_input(Table(inputs.data[name], model.source, input_key(model.prefix, name)), name,
                                  base_dir)
    inputs.done()
    shapes = model.table("input_shapes")
    for name in shapes.data:
        key = f"{shapes.prefix}.{toml_key(name)}"
        shape = _shape(shapes.raw(name), model.source, key)
        old = specs.get(name)
        if old is not None and old.shape is not None:
            raise ConfigError(model.source, key, f"the shape of {name} is given twice (also in {old.key_of('shape')})")
        if old is None:
            specs[name] = InputSpec(name, key, shape, shape_key=key)
        else:
            if old.value is not None and value_shape(old.value) and tuple(value_shape(old.value) or ()) != shape:
                raise ConfigError(model.source, old.key_of("value"), f"has shape {list(value_shape(old.value) or ())}"
                                                                     f", not the shape {list(shape)} given in {key}")
            specs[name] = InputSpec(name, old.key, shape, old.value, old.range, old.normal, old.data, shape_key=key)
    shapes.done()
    return specs


def check_against_onnx(specs: dict[str, InputSpec], files: tuple[ModelFile, ...], source: str
                       ) -> dict[str, tuple[str, ...]]:
    """Names, ranks, fixed dimensions and dtypes against every ONNX file's declared inputs, read on the host
    (no runtime). Returns the input names of each file it read, by path.

    A model in several formats may name its inputs differently in each (``input`` in the ONNX file,
    ``serving_default_input:0`` in the TFLite one): a name must be an input of one of its files. One no ONNX
    file has is left to the files the host cannot read (TFLite; an ONNX file this reader cannot parse), whose
    worker checks it; with no such file, it is an error here."""
    if not specs:
        return {}
    from edgebench.config.onnx_graph import OnnxReadError, read_inputs

    read: dict[str, list[TensorSpec]] = {}
    unread = False
    for model_file in files:
        try:
            if model_file.format != "onnx":
                raise OnnxReadError(model_file.format)
            read[str(model_file.path)] = read_inputs(model_file.path)
        except OnnxReadError:
            unread = True
    if not read:
        return {}
    if not unread:
        check_names(specs, [t for tensors in read.values() for t in tensors], source)
    for tensors in read.values():
        by_name = {t.name: t for t in tensors}
        for name, spec in specs.items():
            if name not in by_name:
                continue
            sample = None
            if spec.data is not None:
                dtype, shape, _ = read_data_header(spec.data.path, name, source, spec.key_of("data"))
                sample = (dtype, shape)
            check_spec(spec, by_name[name], source, sample)
    return {path: tuple(t.name for t in tensors) for path, tensors in read.items()}

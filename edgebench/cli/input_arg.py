"""``--input``: one model input on the command line, parsed into an entry of a suite's ``inputs`` table.

    NAME:SHAPE                   x:1x3x224x224           {"shape": [1, 3, 224, 224]}
    NAME=VALUE                   sr=16000                {"value": 16000}   (JSON: a list for a tensor)
    NAME=@FILE                   image=@data.npy         {"data": "data.npy"}   (.npy, or .npz by name)
    NAME:range=LO,HI             ids:1x128:range=0,30521 {"shape": [1, 128], "range": [0, 30521]}
    NAME:normal=MEAN,STD         noise:normal=0,1        {"normal": [0, 1]}
    NAME:SHAPE=VALUE             mask:1x128=1            {"shape": [1, 128], "value": 1}

A shape may come with one of value, range, normal or data; ``value=`` and ``data=`` may also be written as
parts (``x:1x4:value=[1,2,3,4]``, ``x:data=in.npy``). A name that holds ``:`` or ``=`` (TFLite's
``serving_default_input:0``) goes in quotes: ``'serving_default_input:0':1x640``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from edgebench.errors import ConfigError

SYNTAX = "NAME:SHAPE, NAME=VALUE, NAME=@FILE, NAME[:SHAPE]:range=LO,HI or NAME[:SHAPE]:normal=MEAN,STD"
_SHAPE = re.compile(r"[0-9]+(?:x[0-9]+)*")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: the ways to fill an input; an input takes at most one
FILLS = ("value", "range", "normal", "data")


def parse_input_arg(text: str) -> tuple[str, dict[str, Any]]:
    """``--input TEXT`` -> (input name, its entry in the ``inputs`` table); a ConfigError naming the argument."""

    def error(problem: str) -> ConfigError:
        return ConfigError(f"--input {text}", "", problem)

    name, rest = _split_name(text, error)
    spec: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if key == "shape" and "shape" in spec:
            hint = (f"; a name with ':' goes in quotes: '{name}:{_shape_text(spec['shape'])}':..."
                    if ":" not in name else "")
            raise error(f"two shapes{hint}")
        if key in FILLS and any(k in spec for k in FILLS):
            have = next(k for k in FILLS if k in spec)
            raise error(f"give one of {', '.join(FILLS)}, not both {have} and {key}")
        spec[key] = value

    while rest:
        if rest[0] == "=":
            value = rest[1:]
            if value.startswith("@"):
                put("data", _path(value[1:], error))
            else:
                put("value", _value(value, error))
            break
        rest = rest[1:]  # the ':'
        part, sep, after = _next_part(rest)
        if part.startswith("value="):
            put("value", _value(rest[len("value="):], error))
            break
        if part.startswith("data="):
            put("data", _path(rest[len("data="):], error))
            break
        if part.startswith(("range=", "normal=")):
            kind, _, numbers = part.partition("=")
            put(kind, _pair(kind, numbers, error))
        else:
            match = _SHAPE.fullmatch(part)
            if not match:
                raise error(f"{part!r} is not a shape (like 1x3x224x224), range=LO,HI, normal=MEAN,STD, "
                            f"value=VALUE or data=FILE")
            dims = [int(d) for d in part.split("x")]
            if 0 in dims:
                hint = f"; a name with ':' goes in quotes: '{name}:{part}'" if part == "0" else ""
                raise error(f"shape {part}: every dimension must be >= 1{hint}")
            put("shape", dims)
        rest = sep + after
    if not spec:
        raise error(f"say what to feed {name}: {SYNTAX}")
    return name, spec


def parse_input_args(texts: list[str]) -> dict[str, dict[str, Any]]:
    """Every ``--input``: the suite's ``inputs`` table. An input named twice is an error."""
    table: dict[str, dict[str, Any]] = {}
    for text in texts:
        name, spec = parse_input_arg(text)
        if name in table:
            raise ConfigError(f"--input {text}", "", f"input {name} is given twice")
        table[name] = spec
    return table


def _split_name(text: str, error: Any) -> tuple[str, str]:
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        if end < 0:
            raise error(f"the quote {text[0]} around the name is not closed")
        name, rest = text[1:end], text[end + 1:]
        if rest and rest[0] not in ":=":
            raise error(f"expected ':' or '=' after the quoted name, got {rest[0]!r}")
    else:
        cut = min((i for i in (text.find(":"), text.find("=")) if i >= 0), default=len(text))
        name, rest = text[:cut], text[cut:]
    if not name:
        raise error(f"no input name: expected {SYNTAX}")
    return name, rest


def _next_part(rest: str) -> tuple[str, str, str]:
    """The part up to the next ':' or a shape's '=VALUE' (``1x128=1``)."""
    colon = rest.find(":")
    part = rest if colon < 0 else rest[:colon]
    shape = _SHAPE.match(part)
    if shape and part[shape.end():shape.end() + 1] == "=":
        return part[:shape.end()], "", rest[shape.end():]
    if colon < 0:
        return rest, "", ""
    return rest[:colon], ":", rest[colon + 1:]


def _shape_text(shape: list[int]) -> str:
    return "x".join(str(d) for d in shape)


def _number(text: str) -> int | float | None:
    if not _NUMBER.fullmatch(text.strip()):
        return None
    value = float(text)
    return int(value) if value.is_integer() and not any(c in text for c in ".eE") else value


def _pair(kind: str, text: str, error: Any) -> list[int | float]:
    parts = text.split(",")
    numbers = [_number(p) for p in parts]
    if len(parts) != 2 or any(n is None for n in numbers):
        example = "range=0,255" if kind == "range" else "normal=0,1"
        raise error(f"{kind}={text}: expected two numbers, like {example}")
    low, high = numbers
    assert low is not None and high is not None
    if kind == "range" and low > high:
        raise error(f"range={text}: the low end is above the high end")
    if kind == "normal" and high < 0:
        raise error(f"normal={text}: the standard deviation must be >= 0")
    return [low, high]


def _value(text: str, error: Any) -> Any:
    """JSON: a number, true/false, a "string", or a (nested) list of them."""
    try:
        value = json.loads(text)
    except ValueError:
        raise error(f"value {text!r}: expected a number, true/false, a JSON list like [[1,2],[3,4]] or a "
                    f"string in JSON quotes (NAME='\"text\"')") from None
    if not _scalars(value):
        raise error(f"value {text!r}: expected a number, true/false, a string or a non-empty JSON list of them")
    return value


def _scalars(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_scalars(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (int, bool, str))


def _path(text: str, error: Any) -> str:
    if not text:
        raise error("no file after '@' (or data=): name a .npy or .npz file")
    return text

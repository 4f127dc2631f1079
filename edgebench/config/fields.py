"""Typed reading of TOML tables with errors that name the file and the key.

Every table is read through a :class:`Table`; after reading, :meth:`Table.done` rejects keys nobody asked
for, so a typo (``min_iteration``) fails loudly instead of being ignored. Every number is bounded: TOML has
``nan``, ``inf`` and ``true``, and none of them is a count or a duration (:func:`check_number`). The maxima
below are the ones the README's "Configuration bounds" table lists: generous for any real device, small
enough that a typo (``threads = 10000``, ``max_seconds = 1e9``) fails here instead of on the device.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from edgebench.errors import ConfigError

T = TypeVar("T")
_MISSING = object()
#: the default that makes a key required
MISSING = _MISSING

#: any duration or timeout, in seconds (one day)
MAX_SECONDS = 86_400.0
#: iteration counts (warm-up, min, max): a list of 10 million latency samples is about 400 MB in a worker
MAX_ITERATIONS = 10_000_000
#: threads of one runtime session (a suite's bound; a run also holds it to 4 x the device's cores)
MAX_THREADS = 1024
#: batch size of one inference
MAX_BATCH = 4096
#: concurrent streams (sessions) of the concurrent scenario
MAX_CONCURRENCY = 256
#: names that become parts of file names (suite, model, profile): letters, digits, ``.``, ``_``, ``-``
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a table",
}


def load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file safely; a syntax error becomes a one-line ConfigError naming the file."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(str(path), "", "is a directory, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "", f"not a UTF-8 text file (byte 0x{data[exc.start]:02x} at offset "
                                         f"{exc.start}): TOML is UTF-8 text") from None
    if "\x00" in text:
        raise ConfigError(str(path), "", f"a binary file (NUL byte at offset {text.index(chr(0))}), not TOML")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"invalid TOML: {exc}") from None


def type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    for typ, name in _TYPE_NAMES.items():
        if isinstance(value, typ):
            return name
    return type(value).__name__


class Table:
    """A view of one TOML table that knows where it came from (file + dotted key)."""

    def __init__(self, data: Mapping[str, Any], source: str, prefix: str = "") -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(source, prefix or "(top level)", f"expected a table, got {type_name(data)}")
        self.data = data
        self.source = source
        self.prefix = prefix
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.source, self.key(name), problem)

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default: Any = _MISSING) -> Any:
        self._seen.add(name)
        if name not in self.data:
            if default is _MISSING:
                raise self.error(name, "missing required key")
            return default
        return self.data[name]

    def get(self, name: str, typ: type[T] | tuple[type, ...], default: Any = _MISSING) -> Any:
        value = self.raw(name, default)
        if value is default and name not in self.data:
            return value
        check_type(value, typ, self.source, self.key(name))
        return value

    def number(self, name: str, default: Any = _MISSING, minimum: float | None = None,
               maximum: float | None = None, above: float | None = None) -> Any:
        """A finite number (int or float, not a boolean) within the bounds; ``above``: an exclusive minimum."""
        value = self.get(name, (int, float), default)
        if value is None or (value is default and name not in self.data):
            return value
        return check_number(value, self.source, self.key(name), minimum, maximum, above=above)

    def integer(self, name: str, default: Any = _MISSING, minimum: int | None = None,
                maximum: int | None = None) -> Any:
        """An integer (``5``, not ``5.0`` nor ``true``) within the bounds."""
        value = self.get(name, int, default)
        if value is None or (value is default and name not in self.data):
            return value
        return check_number(value, self.source, self.key(name), minimum, maximum)

    def seconds(self, name: str, default: Any = _MISSING, minimum: float | None = 0.0,
                maximum: float = MAX_SECONDS, above: float | None = None) -> Any:
        """A duration in seconds: finite, >= ``minimum`` (or > ``above``), at most a day by default."""
        value = self.number(name, default, minimum=None if above is not None else minimum, maximum=maximum,
                            above=above)
        return float(value) if isinstance(value, int) else value

    def string(self, name: str, default: Any = _MISSING, choices: tuple[str, ...] | None = None) -> Any:
        """A string; with ``choices``, one of them."""
        value = self.get(name, str, default)
        if choices is not None and value is not None and value not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def safe_name(self, name: str, default: Any = _MISSING) -> Any:
        """A name that becomes part of a file name (run directory, case file)."""
        value = self.get(name, str, default)
        return check_name(value, self.source, self.key(name))

    def strings(self, name: str, default: Any = _MISSING, allow_empty: bool = True) -> Any:
        """A list of strings (``["a", "b"]``); ``allow_empty=False`` refuses ``[]``."""
        value = self.get(name, list, default)
        if value is None:
            return value
        for index, item in enumerate(value):
            check_type(item, str, self.source, f"{self.key(name)}[{index}]")
        if not value and not allow_empty:
            raise self.error(name, "an empty list: give at least one value")
        return value

    def table(self, name: str, required: bool = False) -> Table:
        value = self.raw(name, _MISSING if required else {})
        check_type(value, dict, self.source, self.key(name))
        return Table(value, self.source, self.key(name))

    def tables(self, name: str, required: bool = False) -> list[Table]:
        value = self.raw(name, _MISSING if required else [])
        check_type(value, list, self.source, self.key(name))
        out = []
        for index, item in enumerate(value):
            item_key = f"{self.key(name)}[{index}]"
            if not isinstance(item, Mapping):
                raise ConfigError(self.source, item_key, f"expected a table, got {type_name(item)}")
            out.append(Table(item, self.source, item_key))
        return out

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._seen)
        if unknown:
            raise self.error(unknown[0], "unknown key")


def check_type(value: object, typ: type | tuple[type, ...], source: str, key: str) -> None:
    types = typ if isinstance(typ, tuple) else (typ,)
    ok = isinstance(value, types)
    if isinstance(value, bool) and bool not in types:
        ok = False  # TOML true is not an integer here
    if not ok:
        wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
        raise ConfigError(source, key, f"expected {wanted}, got {type_name(value)} {value!r}")


def check_number(value: Any, source: str, key: str, minimum: float | None = None,
                 maximum: float | None = None, above: float | None = None) -> Any:
    """``value`` when it is a finite int or float within [minimum, maximum] (and > ``above``); else a
    ConfigError naming ``source`` and ``key``. A boolean is not a number here (TOML ``true`` is not ``1``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(source, key, f"expected a number, got {type_name(value)} {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(source, key, f"must be a finite number, got {value!r}")
    low = minimum if minimum is not None else above
    if (minimum is not None and value < minimum) or (above is not None and value <= above) or (
            maximum is not None and value > maximum):
        wanted = (f"{'>' if minimum is None else '>='} {_plain(low)}" if low is not None else "")
        if maximum is not None:
            wanted = (f"between {_plain(minimum)} and {_plain(maximum)}" if minimum is not None
                      else f"{wanted + ' and ' if wanted else ''}<= {_plain(maximum)}")
        raise ConfigError(source, key, f"must be {wanted}, got {_plain(value)}")
    return value


def _plain(number: float | None) -> str:
    """``1024``, ``0.5``, ``86400`` (not ``86400.0``) in messages."""
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return str(number)


def check_name(value: Any, source: str, key: str) -> str:
    """A suite, model or profile name: it becomes part of file names, so no ``/``, no ``..``, no spaces."""
    check_type(value, str, source, key)
    if not SAFE_NAME.match(value):
        raise ConfigError(source, key, f"{value!r} is not a safe name: use 1 to 64 letters, digits, '.', '_' "
                                       f"or '-', starting with a letter or digit")
    return value


def as_list(value: Any) -> list[Any]:
    """A scalar setting is a one-element axis of the matrix; a list is an axis of several values."""
    return list(value) if isinstance(value, list) else [value]

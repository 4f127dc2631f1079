"""Typed reading of TOML tables with errors that name the file and the key.

Every table is read through a :class:`Table`; after reading, :meth:`Table.done` rejects keys nobody asked
for, so a typo (``min_iteration``) fails loudly instead of being ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from edgebench.errors import ConfigError

T = TypeVar("T")
_MISSING = object()

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
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror}") from None
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

    def number(self, name: str, default: Any = _MISSING, minimum: float | None = None) -> Any:
        value = self.get(name, (int, float), default)
        if value is not None and minimum is not None and value < minimum:
            raise self.error(name, f"must be >= {minimum}, got {value}")
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


def as_list(value: Any) -> list[Any]:
    """A scalar setting is a one-element axis of the matrix; a list is an axis of several values."""
    return list(value) if isinstance(value, list) else [value]

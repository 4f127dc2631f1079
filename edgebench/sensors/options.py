"""The options a sensor takes (``[sensors.options.NAME]`` in a profile), declared as data: the profile loader checks
them (unknown key, wrong type, out of bounds: one line naming the file and key) before anything runs, and the
sensor then reads them from ``self.options`` without checking again. Imports nothing: it runs on the device too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Tuple

#: option types: "str", "int", "number", "bool", "strings" (a list of strings)
TYPES = ("str", "int", "number", "bool", "strings")


@dataclass(frozen=True)
class Option:
    name: str
    type: str
    help: str = ""
    required: bool = False
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    choices: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"option {self.name!r}: unknown type {self.type!r} (known: {', '.join(TYPES)})")


#: every sensor takes this one: the filesystem root it reads (psutil at "/" beside a copied [sensors] root)
ROOT = Option("root", "str", "the filesystem root this sensor reads instead of [sensors] root")


def option_table(options: Tuple[Option, ...]) -> Any:
    """name -> Option, with the common ``root``."""
    return {o.name: o for o in (ROOT, *options)}

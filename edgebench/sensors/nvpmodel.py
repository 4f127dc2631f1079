"""`nvpmodel -q` parsing: "NV Power Mode: <NAME>" then "<ID>"; NVPM WARN lines may come first (searched,
not indexed). Mode names are clock caps, not measured power."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MODE = re.compile(r"NV Power Mode:\s*(\S+)")


@dataclass(frozen=True)
class PowerMode:
    name: str
    mode_id: int | None


def parse_nvpmodel_q(text: str) -> PowerMode | None:
    lines = [ln.strip() for ln in text.splitlines()]
    for i, line in enumerate(lines):
        m = _MODE.search(line)
        if m:
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            return PowerMode(m.group(1), int(nxt) if nxt.isdigit() else None)
    return None


def parse_nvpmodel_all(text: str) -> list[PowerMode]:
    """Every mode in a recording with several `nvpmodel -q` outputs (replay files)."""
    lines = [ln.strip() for ln in text.splitlines()]
    out = []
    for i, line in enumerate(lines):
        m = _MODE.search(line)
        if m:
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            out.append(PowerMode(m.group(1), int(nxt) if nxt.isdigit() else None))
    return out

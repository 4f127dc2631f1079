"""nvidia-smi CSV (`--query-gpu=... --format=csv[,noheader][,nounits]`): a header-driven parser that keeps
working on any recorded query, and a polling sensor. "[N/A]" / "[Not Supported]" read None.
Power W -> `_mw`, clocks MHz, memory MiB -> `_bytes`, temperature C, utilisation %."""

from __future__ import annotations

import re
from typing import Any

from edgebench.sensors.base import Reading, Sensor
from edgebench.sensors.channels import (
    CLOCK,
    MEMORY,
    POWER_TOTAL,
    RANK_GPU_POWER_TOOL,
    TEMPERATURE,
    UTILISATION,
    Channel,
)

QUERY = "index,power.draw,temperature.gpu,clocks.current.sm,clocks.current.memory,utilization.gpu,memory.used"
_HEADER_FIELD = re.compile(r"^[a-z][a-z_.]*(?: \[[^\]]+\])?$")
_NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)(?: (?:W|MHz|%|MiB|C))?$")
# field -> (channel suffix, scale to the channel unit, kind, unit)
FIELDS = {
    "power.draw": ("power_mw", 1000.0, POWER_TOTAL, "mW"),
    "temperature.gpu": ("temp_c", 1.0, TEMPERATURE, "C"),
    "clocks.current.sm": ("sm_mhz", 1.0, CLOCK, "MHz"),
    "clocks.current.memory": ("mem_mhz", 1.0, CLOCK, "MHz"),
    "utilization.gpu": ("util_pct", 1.0, UTILISATION, "%"),
    "utilization.memory": ("mem_util_pct", 1.0, UTILISATION, "%"),
    "memory.used": ("mem_used_bytes", 1024.0 * 1024.0, MEMORY, "bytes"),
    "memory.free": ("mem_free_bytes", 1024.0 * 1024.0, MEMORY, "bytes"),
}


def _value(text: str) -> float | str | None:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):  # [N/A], [Not Supported]
        return None
    m = _NUMBER.match(text)
    return float(m.group(1)) if m else text


def parse_nvidia_smi_csv(text: str, header: list[str] | None = None) -> list[dict[str, float | str | None]]:
    """Rows as {field: value}; a header line (re)defines the fields, "[W]"-style units dropped from keys."""
    rows = []
    fields = header
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split(", ")]
        if all(_HEADER_FIELD.match(c) for c in cells):
            fields = [c.split(" [", 1)[0] for c in cells]
            continue
        if fields is None or len(cells) != len(fields):
            continue
        rows.append({f: _value(c) for f, c in zip(fields, cells)})
    return rows


def smi_channels(rows: list[dict[str, Any]], declared: dict[str, Channel] | None = None) -> Reading:
    """Channels `gpu<index>_<field>`, the last row per GPU winning; `declared` gets what each one means (the
    first GPU's power can stand for the total)."""
    out: Reading = {}
    for pos, row in enumerate(rows):
        idx = row.get("index")
        gpu = f"gpu{int(idx)}" if isinstance(idx, float) else f"gpu{pos}"
        for field, (suffix, scale, kind, unit) in FIELDS.items():
            if field in row:
                v = row[field]
                out[f"{gpu}_{suffix}"] = v * scale if isinstance(v, float) else None
                if declared is not None and f"{gpu}_{suffix}" not in declared:  # a name means the same each time
                    rank = RANK_GPU_POWER_TOOL if kind == POWER_TOTAL and gpu == "gpu0" else None
                    declared[f"{gpu}_{suffix}"] = Channel(f"{gpu}_{suffix}", kind, unit, rank=rank)
    return out


class NvidiaSmiSensor(Sensor):
    name = "nvidia_smi"

    def available(self) -> str | None:
        return None if self.runner.which("nvidia-smi") else "command not found: nvidia-smi"

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._declared: dict[str, Channel] = {}

    def read(self) -> Reading:
        text = self.runner.run(["nvidia-smi", f"--query-gpu={QUERY}", "--format=csv,nounits"])
        declared = dict(self._declared)
        out = smi_channels(parse_nvidia_smi_csv(text), declared)
        self._declared = declared  # replaced whole: channels() may read it from another thread
        return out

    def channels(self) -> list[Channel]:
        return list(self._declared.values())

    def meta(self) -> dict[str, Any]:
        return {"query": QUERY}

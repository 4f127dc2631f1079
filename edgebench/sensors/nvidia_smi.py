"""nvidia-smi CSV (`--query-gpu=... --format=csv[,noheader][,nounits]`): a header-driven parser that keeps
working on any recorded query, and a polling sensor. "[N/A]" / "[Not Supported]" read None.
Power W -> `_mw`, clocks MHz, memory MiB -> `_bytes`, temperature C, utilisation %."""

from __future__ import annotations

import re
from typing import Any

from edgebench.sensors.base import Reading, Sensor

QUERY = "index,power.draw,temperature.gpu,clocks.current.sm,clocks.current.memory,utilization.gpu,memory.used"
_HEADER_FIELD = re.compile(r"^[a-z][a-z_.]*(?: \[[^\]]+\])?$")
_NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)(?: (?:W|MHz|%|MiB|C))?$")
# field -> (channel suffix, scale to the channel unit)
FIELDS = {
    "power.draw": ("power_mw", 1000.0),
    "temperature.gpu": ("temp_c", 1.0),
    "clocks.current.sm": ("sm_mhz", 1.0),
    "clocks.current.memory": ("mem_mhz", 1.0),
    "utilization.gpu": ("util_pct", 1.0),
    "utilization.memory": ("mem_util_pct", 1.0),
    "memory.used": ("mem_used_bytes", 1024.0 * 1024.0),
    "memory.free": ("mem_free_bytes", 1024.0 * 1024.0),
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


def smi_channels(rows: list[dict[str, Any]]) -> Reading:
    """Channels `gpu<index>_<field>`, the last row per GPU winning."""
    out: Reading = {}
    for pos, row in enumerate(rows):
        idx = row.get("index")
        gpu = f"gpu{int(idx)}" if isinstance(idx, float) else f"gpu{pos}"
        for field, (suffix, scale) in FIELDS.items():
            if field in row:
                v = row[field]
                out[f"{gpu}_{suffix}"] = v * scale if isinstance(v, float) else None
    return out


class NvidiaSmiSensor(Sensor):
    name = "nvidia_smi"

    def available(self) -> str | None:
        return None if self.runner.which("nvidia-smi") else "command not found: nvidia-smi"

    def read(self) -> Reading:
        text = self.runner.run(["nvidia-smi", f"--query-gpu={QUERY}", "--format=csv,nounits"])
        return smi_channels(parse_nvidia_smi_csv(text))

    def meta(self) -> dict[str, Any]:
        return {"query": QUERY}

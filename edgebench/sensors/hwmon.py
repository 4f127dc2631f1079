"""hwmon: /sys/class/hwmon/hwmon*/ inputs by chip `name` and `*_label` (hwmonN numbering is not stable).

Units (Documentation/hwmon/sysfs-interface.rst): power uW -> `_mw`, energy uJ -> `_uj` (cumulative),
in mV -> `_mv`, curr mA -> `_ma`, temp m-degC -> `_c`. Channel: `<chip>_<label or input>_<unit>`.
options: chips (list of chip names to keep; default all).
"""

from __future__ import annotations

import re
from typing import Any

from edgebench.sensors.base import Reading, Sensor, channel_slug

HWMON_GLOB = "/sys/class/hwmon/hwmon*"
_INPUT = re.compile(r"/(power|energy|in|curr|temp)(\d+)_input$")
_UNIT = {
    "power": ("_mw", 1e-3),
    "energy": ("_uj", 1),
    "in": ("_mv", 1),
    "curr": ("_ma", 1),
    "temp": ("_c", 1e-3),
}


def hwmon_value(kind: str, raw: int | None) -> float | int | None:
    """Raw sysfs integer -> edgebench unit (power uW -> mW, temp m-degC -> C, others unchanged)."""
    if raw is None:
        return None
    scale = _UNIT[kind][1]
    return raw if scale == 1 else raw * scale


class HwmonSensor(Sensor):
    name = "hwmon"

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._inputs: dict[str, tuple[str, str]] | None = None  # channel -> (kind, file)

    def _discover(self) -> dict[str, tuple[str, str]]:
        if self._inputs is not None:
            return self._inputs
        keep = self.options.get("chips")
        inputs: dict[str, tuple[str, str]] = {}
        for hdir in self.root.glob(HWMON_GLOB):
            chip = self.root.read_str(f"{hdir}/name") or hdir.rsplit("/", 1)[-1]
            if keep and chip not in keep:
                continue
            for f in self.root.glob(f"{hdir}/*_input"):
                m = _INPUT.search(f)
                if not m:
                    continue
                kind, idx = m.groups()
                label = self.root.read_str(f"{hdir}/{kind}{idx}_label") or f"{kind}{idx}"
                ch = f"{channel_slug(chip)}_{channel_slug(label)}{_UNIT[kind][0]}"
                while ch in inputs:
                    ch = ch.replace(_UNIT[kind][0], f"_{idx}{_UNIT[kind][0]}", 1)
                inputs[ch] = (kind, f)
        self._inputs = inputs
        return inputs

    def available(self) -> str | None:
        return None if self._discover() else f"missing file: {HWMON_GLOB}/*_input (no hwmon inputs)"

    def read(self) -> Reading:
        return {ch: hwmon_value(kind, self.root.read_int(f)) for ch, (kind, f) in self._discover().items()}

    def meta(self) -> dict[str, Any]:
        return {"inputs": {ch: f for ch, (_, f) in self._discover().items()}}

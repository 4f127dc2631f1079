"""hwmon: /sys/class/hwmon/hwmon*/ inputs by chip `name` and `*_label` (hwmonN numbering is not stable).

Units (Documentation/hwmon/sysfs-interface.rst): power uW -> `_mw`, energy uJ -> `_uj` (cumulative),
in mV -> `_mv`, curr mA -> `_ma`, temp m-degC -> `_c`. Channel: `<chip>_<label or input>_<unit>`.

- `powerN_average` (uW) is read too, as `<chip>_<label or powerN>_avg_mw`: ACPI power meters (most servers'
  whole-system meter) publish only the average, other meters both.
- INA3221 (drivers/hwmon/ina3221.c) breaks the generic units: `in4..in6` are the shunt voltages of channels
  1..3 and `in7` their sum, in uV (`_uv` here, never `_mv`). `currN`/`inN+3` have no label: they take the label
  of `inN` (the rail), and inputs labelled `NC` (not connected) are left out. On a Jetson the `jetson_power`
  sensor reads the same chips and adds each rail's power and the board total: prefer it there.
- Two chips with the same name (the two INA3221 of an AGX Orin) get the device they sit on in their channel
  names (`ina3221_1_0041_...`: the i2c bus 1, address 0x41), read from the hwmon dir's `device` link.

options: chips (list of chip names to keep; default all).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import Any

from edgebench.sensors.base import Reading, Sensor, channel_slug
from edgebench.sensors.channels import (
    ENERGY_COUNTER,
    POWER_TOTAL,
    RAIL,
    RANK_CHIP_ENERGY,
    RANK_CHIP_POWER,
    RANK_SOCKET_ENERGY,
    TEMPERATURE,
    Channel,
)
from edgebench.sensors.options import Option
from edgebench.sensors.rails import NOT_CONNECTED

HWMON_GLOB = "/sys/class/hwmon/hwmon*"
_INPUT = re.compile(r"/(power|energy|in|curr|temp)(\d+)_(input|average)$")
_UNIT = {
    "power": ("_mw", 1e-3),
    "energy": ("_uj", 1),
    "in": ("_mv", 1),
    "curr": ("_ma", 1),
    "temp": ("_c", 1e-3),
    "shunt": ("_uv", 1),  # INA3221 in4..in7: uV
}


def hwmon_value(kind: str, raw: int | None) -> float | int | None:
    """Raw sysfs integer -> edgebench unit (power uW -> mW, temp m-degC -> C, others unchanged)."""
    if raw is None:
        return None
    scale = _UNIT[kind][1]
    return raw if scale == 1 else raw * scale


class HwmonSensor(Sensor):
    name = "hwmon"
    OPTIONS = (Option("chips", "strings", "chip names to read (default: every chip)"),)

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._inputs: dict[str, tuple[str, str]] | None = None  # channel -> (kind, file)

    def _chips(self) -> list[tuple[str, str]]:
        """(hwmon dir, channel prefix) of every chip kept; the prefix names the device when chips share a name."""
        keep = self.options.get("chips")
        found = []
        for hdir in self.root.glob(HWMON_GLOB):
            chip = self.root.read_str(f"{hdir}/name") or hdir.rsplit("/", 1)[-1]
            if not keep or chip in keep:
                found.append((hdir, chip))
        shared = {chip for chip, n in Counter(chip for _, chip in found).items() if n > 1}
        return [(hdir, channel_slug(f"{chip}_{self._device(hdir)}" if chip in shared else chip))
                for hdir, chip in found]

    def _device(self, hdir: str) -> str:
        """The device a hwmon dir belongs to ("1-0041", "ACPI000D:00"), else the hwmon dir's own name."""
        link = self.root.path(f"{hdir}/device")
        if link.exists():
            return os.path.basename(os.path.realpath(link))
        return hdir.rsplit("/", 1)[-1]

    def _discover(self) -> dict[str, tuple[str, str]]:
        if self._inputs is not None:
            return self._inputs
        inputs: dict[str, tuple[str, str]] = {}
        for hdir, prefix in self._chips():
            ina3221 = self.root.read_str(f"{hdir}/name") == "ina3221"
            for f in self.root.glob(f"{hdir}/*_input") + self.root.glob(f"{hdir}/power*_average"):
                m = _INPUT.search(f)
                if not m:
                    continue
                kind, idx, what = m.groups()
                label = self.root.read_str(f"{hdir}/{kind}{idx}_label")
                suffix = ""
                if ina3221:
                    kind, label, suffix = _ina3221_channel(kind, int(idx), label, self.root.read_str,
                                                           hdir)
                    if label == NOT_CONNECTED:
                        continue
                if what == "average":
                    suffix += "_avg"
                ch = f"{prefix}_{channel_slug(label or m.group(1) + idx)}{suffix}{_UNIT[kind][0]}"
                while ch in inputs:
                    ch = ch.replace(_UNIT[kind][0], f"_{idx}{_UNIT[kind][0]}", 1)
                inputs[ch] = (kind, f)
        self._inputs = inputs
        return inputs

    def available(self) -> str | None:
        return None if self._discover() else f"missing file: {HWMON_GLOB}/*_input (no hwmon inputs)"

    def read(self) -> Reading:
        return {ch: hwmon_value(kind, self.root.read_int(f)) for ch, (kind, f) in self._discover().items()}

    def channels(self) -> list[Channel]:
        """Power and energy inputs can stand for the total when nothing better is sampled (an amd_energy socket
        counter first); voltages and currents are rails; temperatures are temperatures."""
        out = []
        for ch, (kind, _) in self._discover().items():
            if kind == "power":
                out.append(Channel(ch, POWER_TOTAL, "mW", rank=RANK_CHIP_POWER))
            elif kind == "energy":
                rank = RANK_SOCKET_ENERGY if "socket" in ch else RANK_CHIP_ENERGY  # amd_energy's Esocket<N>
                out.append(Channel(ch, ENERGY_COUNTER, "uJ", rank=rank))
            elif kind == "temp":
                out.append(Channel(ch, TEMPERATURE, "C"))
            else:
                out.append(Channel(ch, RAIL, {"in": "mV", "curr": "mA", "shunt": "uV"}[kind]))
        return out

    def meta(self) -> dict[str, Any]:
        return {"inputs": {ch: f for ch, (_, f) in self._discover().items()}}


def _ina3221_channel(kind: str, idx: int, label: str | None, read_str: Any, hdir: str) -> tuple[str, str | None, str]:
    """(kind, label, suffix) of an INA3221 input: shunt voltages (in4..in7) are uV, and the unlabelled inputs
    of channel k (curr k, in k+3) take the rail label of in k."""
    if kind == "in" and idx >= 4:
        if idx == 7:
            return "shunt", label or "sum of shunt voltages", ""
        rail = read_str(f"{hdir}/in{idx - 3}_label")
        return "shunt", label or rail or f"in{idx}", "_shunt" if rail and not label else ""
    if kind == "curr" and label is None and idx <= 3:
        return kind, read_str(f"{hdir}/in{idx}_label"), ""
    return kind, label, ""

"""Jetson INA3221 power rails from sysfs, both driver layouts found by probing (not by JetPack version):

- JetPack 4 IIO `ina3221x`: .../iio:device<N>/rail_name_<k>, in_power<k>_input (mW), in_voltage<k>_input (mV),
  in_current<k>_input (mA);
- JetPack 5/6 hwmon `ina3221`: .../hwmon/hwmon<N>/in<k>_label, in<k>_input (mV), curr<k>_input (mA);
  power = mV x mA / 1000 (no power file). Channel 7 ("sum of shunt voltages") is skipped;
- Thor carrier INA238 `VIN`: power1_input in uW.
`NC` rails are dropped. The board total is the profile's rail (options.total_rail), else the module input
rail (POM_5V_IN / VDD_IN / VIN), else the sum of rails; meta() says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from edgebench.sensors.base import Reading, Sensor, SysRoot, channel_slug
from edgebench.sensors.channels import POWER_TOTAL, RAIL, RANK_BOARD_POWER, Channel
from edgebench.sensors.options import Option
from edgebench.sensors.rails import NOT_CONNECTED, board_total

IIO_GLOBS = ("/sys/bus/i2c/drivers/ina3221x/*/iio:device*", "/sys/bus/i2c/drivers/ina3221x/*/iio_device")
HWMON_GLOB = "/sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*"
INA238_GLOB = "/sys/bus/i2c/drivers/ina238/*/hwmon/hwmon*"


@dataclass(frozen=True)
class RailFiles:
    name: str
    layout: str  # "iio" | "hwmon" | "ina238"
    power: str | None = None  # file with mW (iio) or uW (ina238)
    voltage: str | None = None  # mV
    current: str | None = None  # mA


def find_rails(root: SysRoot) -> list[RailFiles]:
    """Probe both INA3221 layouts (and a Thor INA238); NC and summation channels are dropped."""
    rails: list[RailFiles] = []
    for pattern in IIO_GLOBS:
        for dev in root.glob(pattern):
            for name_file in root.glob(f"{dev}/rail_name_*"):
                k = name_file.rsplit("_", 1)[-1]
                name = root.read_str(name_file)
                if name and name != NOT_CONNECTED:
                    rails.append(
                        RailFiles(
                            name,
                            "iio",
                            f"{dev}/in_power{k}_input",
                            f"{dev}/in_voltage{k}_input",
                            f"{dev}/in_current{k}_input",
                        )
                    )
    for dev in root.glob(HWMON_GLOB):
        for label_file in root.glob(f"{dev}/in[1-3]_label"):
            k = re.findall(r"in(\d)_label$", label_file)[0]
            name = root.read_str(label_file)
            if name and name != NOT_CONNECTED and root.read_str(f"{dev}/in{k}_enable") != "0":
                rails.append(RailFiles(name, "hwmon", None, f"{dev}/in{k}_input", f"{dev}/curr{k}_input"))
    for dev in root.glob(INA238_GLOB):
        name = root.read_str(f"{dev}/power1_label") or "VIN"
        rails.append(
            RailFiles(name, "ina238", f"{dev}/power1_input", f"{dev}/in1_input", f"{dev}/curr1_input")
        )
    return rails


def rail_power_mw(layout: str, power_raw: int | None, mv: int | None, ma: int | None) -> float | None:
    """mW of one rail: iio power file is mW, ina238 is uW, hwmon INA3221 has none -> mV x mA / 1000."""
    if layout == "iio":
        return float(power_raw) if power_raw is not None else None
    if layout == "ina238" and power_raw is not None:
        return power_raw / 1000.0
    if mv is None or ma is None:
        return None
    return mv * ma / 1000.0


class JetsonPowerSensor(Sensor):
    name = "jetson_power"
    OPTIONS = (Option("total_rail", "str", 'the rail that is the board total, or "sum" (default: the module '
                                           "input rail, else the sum of rails)"),)

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._rails: list[RailFiles] | None = None
        self._total_source: str | None = None
        self._warning: str | None = None

    def rails(self) -> list[RailFiles]:
        if self._rails is None:
            self._rails = find_rails(self.root)
        return self._rails

    def available(self) -> str | None:
        rails = self.rails()
        if not rails:
            return "missing file: no INA3221 rails under /sys/bus/i2c/drivers/ina3221x or ina3221"
        first = rails[0]
        probe = first.power if first.layout == "iio" else first.current
        return self.root.unreadable_reason(probe) if probe else None

    def read(self) -> Reading:
        out: Reading = {}
        rails_mw: dict[str, float | None] = {}
        for r in self.rails():
            mv = self.root.read_int(r.voltage) if r.voltage else None
            ma = self.root.read_int(r.current) if r.current else None
            raw = self.root.read_int(r.power) if r.power else None
            mw = rail_power_mw(r.layout, raw, mv, ma)
            slug = channel_slug(r.name)
            rails_mw[r.name] = mw
            out[f"{slug}_mw"] = mw
            out[f"{slug}_mv"] = mv
            out[f"{slug}_ma"] = ma
        total = board_total(rails_mw, self.options.get("total_rail"))
        self._total_source, self._warning = total.source, total.warning
        out["total_mw"] = total.mw
        return out

    def channels(self) -> list[Channel]:
        out = []
        for r in self.rails():
            slug = channel_slug(r.name)
            out += [Channel(f"{slug}_mw", RAIL, "mW"), Channel(f"{slug}_mv", RAIL, "mV"),
                    Channel(f"{slug}_ma", RAIL, "mA")]
        return [*out, Channel("total_mw", POWER_TOTAL, "mW", rank=RANK_BOARD_POWER)]

    def meta(self) -> dict[str, Any]:
        if self._total_source is None:
            self.read()
        return {
            "layout": sorted({r.layout for r in self.rails()}),
            "rails": [r.name for r in self.rails()],
            "total_source": self._total_source,
            "total_warning": self._warning,
        }

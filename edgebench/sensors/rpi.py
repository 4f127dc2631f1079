"""Raspberry Pi through `vcgencmd`: measure_temp, measure_clock arm (actual clock, not the cpufreq request),
get_throttled (bits 0-3 now, 16-19 sticky since boot; official table), and on a Pi 5 pmic_read_adc
(per-rail A and V; power = V x A per rail; EXT5V_V and BATT_V have no current)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from edgebench.sensors.base import Reading, Sensor, channel_slug
from edgebench.sensors.channels import (
    CLOCK,
    INFO,
    LEVEL,
    POWER_TOTAL,
    RAIL,
    RANK_PMIC_POWER,
    STICKY,
    TEMPERATURE,
    THROTTLE_FLAG,
    Channel,
)
from edgebench.sensors.options import Option
from edgebench.sensors.readings import STICKY_BITS, THROTTLE_BITS

_TEMP = re.compile(r"^temp=(-?\d+(?:\.\d+)?)'?C", re.M)
_CLOCK = re.compile(r"^frequency\((\d+)\)=(\d+)", re.M)
_THROTTLED = re.compile(r"^throttled=(0x[0-9a-fA-F]+)", re.M)
_VOLTS = re.compile(r"^volt=(\d+(?:\.\d+)?)V", re.M)
_PMIC = re.compile(r"^\s*(\S+)_([AV])\s+(?:current|volt)\(\d+\)=(-?\d+(?:\.\d+)?)[AV]\s*$", re.M)

@dataclass(frozen=True)
class Throttled:
    raw: int

    def flag(self, bit: int) -> bool:
        return bool(self.raw >> bit & 1)

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(name for bit, name in THROTTLE_BITS.items() if self.flag(bit))

    @property
    def bits(self) -> tuple[int, ...]:
        return tuple(bit for bit in THROTTLE_BITS if self.flag(bit))


@dataclass(frozen=True)
class PmicRail:
    volt_v: float | None
    current_a: float | None

    @property
    def power_w(self) -> float | None:
        if self.volt_v is None or self.current_a is None:
            return None
        return self.volt_v * self.current_a


def parse_measure_temp(text: str) -> float | None:
    """ "temp=57.9'C" (also "temp=60.7C") -> 57.9."""
    m = _TEMP.search(text)
    return float(m.group(1)) if m else None


def parse_measure_clock(text: str) -> int | None:
    """ "frequency(48)=2000478464" -> 2000478464 Hz (the id in parentheses varies by firmware)."""
    m = _CLOCK.search(text)
    return int(m.group(2)) if m else None


def parse_measure_volts(text: str) -> float | None:
    m = _VOLTS.search(text)
    return float(m.group(1)) if m else None


def parse_get_throttled(text: str) -> Throttled | None:
    m = _THROTTLED.search(text)
    return Throttled(int(m.group(1), 16)) if m else None


def parse_pmic_read_adc(text: str) -> dict[str, PmicRail]:
    """Pi 5 `vcgencmd pmic_read_adc` -> rail -> (V, A), matched by name prefix."""
    volts: dict[str, float] = {}
    amps: dict[str, float] = {}
    for rail, kind, value in _PMIC.findall(text):
        (volts if kind == "V" else amps)[rail] = float(value)
    names = list(dict.fromkeys([*amps, *volts]))
    return {n: PmicRail(volts.get(n), amps.get(n)) for n in names}


class RpiSensor(Sensor):
    """options: pmic (True/False; default: probe once)."""

    name = "rpi"
    OPTIONS = (Option("pmic", "bool", "read the Pi 5 PMIC rails (default: probe once)"),)

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._pmic: bool | None = self.options.get("pmic")
        self._rails: tuple[str, ...] = ()  # PMIC rails seen

    def channels(self) -> list[Channel]:
        """get_throttled's `*_now` bits are on while it throttles, its `*_occurred` bits are sticky since boot."""
        out = [Channel("soc_c", TEMPERATURE, "C"), Channel("arm_mhz", CLOCK, "MHz"),
               Channel("throttled_raw", INFO, "bitmask")]
        out += [Channel(flag, THROTTLE_FLAG, "bool", signal=STICKY if bit >= STICKY_BITS else LEVEL)
                for bit, flag in THROTTLE_BITS.items()]
        for slug in self._rails:
            out += [Channel(f"{slug}_mv", RAIL, "mV"), Channel(f"{slug}_mw", RAIL, "mW")]
        if self._rails:
            out.append(Channel("pmic_total_mw", POWER_TOTAL, "mW", rank=RANK_PMIC_POWER))
        return out

    def available(self) -> str | None:
        return None if self.runner.which("vcgencmd") else "command not found: vcgencmd"

    def _ask(self, *args: str) -> str:
        try:
            return self.runner.run(["vcgencmd", *args])
        except (OSError, RuntimeError):
            return ""

    def read(self) -> Reading:
        out: Reading = {"soc_c": parse_measure_temp(self._ask("measure_temp"))}
        hz = parse_measure_clock(self._ask("measure_clock", "arm"))
        out["arm_mhz"] = hz / 1e6 if hz is not None else None
        throttled = parse_get_throttled(self._ask("get_throttled"))
        out["throttled_raw"] = throttled.raw if throttled else None
        for bit, flag in THROTTLE_BITS.items():
            out[flag] = throttled.flag(bit) if throttled else None
        if self._pmic is not False:
            rails = parse_pmic_read_adc(self._ask("pmic_read_adc"))
            if self._pmic is None:
                self._pmic = bool(rails)
            total = 0.0
            for name, rail in rails.items():
                slug = channel_slug(name)
                if rail.volt_v is not None:
                    out[f"{slug}_mv"] = rail.volt_v * 1000.0
                if rail.power_w is not None:
                    out[f"{slug}_mw"] = rail.power_w * 1000.0
                    total += rail.power_w * 1000.0
            if rails:
                out["pmic_total_mw"] = total
                self._rails = tuple(dict.fromkeys([*self._rails, *(channel_slug(n) for n in rails)]))
        return out

    def meta(self) -> dict[str, Any]:
        return {"pmic": self._pmic, "pmic_total": "sum of PMIC rails (excludes conversion losses, USB/PCIe)"}

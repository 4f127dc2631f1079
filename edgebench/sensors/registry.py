"""Sensor plugins by name: entry points group `edgebench.sensors`, with a built-in table as fallback so the
package also works uninstalled (e.g. shipped to a device as a zipapp). Modules load lazily."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from edgebench.sensors.base import CommandRunner, Sensor, SysRoot

GROUP = "edgebench.sensors"
BUILTIN: dict[str, str] = {
    "psutil": "edgebench.sensors.psutil_sensor:PsutilSensor",
    "thermal": "edgebench.sensors.thermal:ThermalSensor",
    "cpufreq": "edgebench.sensors.cpufreq:CpufreqSensor",
    "intel_throttle": "edgebench.sensors.intel_throttle:IntelThrottleSensor",
    "rapl": "edgebench.sensors.rapl:RaplSensor",
    "hwmon": "edgebench.sensors.hwmon:HwmonSensor",
    "jetson_power": "edgebench.sensors.jetson_power:JetsonPowerSensor",
    "jetson_gpu": "edgebench.sensors.jetson_gpu:JetsonGpuSensor",
    "tegrastats": "edgebench.sensors.tegrastats:TegrastatsSensor",
    "rpi": "edgebench.sensors.rpi:RpiSensor",
    "nvml": "edgebench.sensors.nvml:NvmlSensor",
    "nvidia_smi": "edgebench.sensors.nvidia_smi:NvidiaSmiSensor",
}


class UnknownSensorError(LookupError):
    pass


def builtin_sensor_names() -> list[str]:
    return list(BUILTIN)


def _import(target: str) -> type[Sensor]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def sensor_class(name: str) -> type[Sensor]:
    for ep in entry_points(group=GROUP, name=name):
        return ep.load()
    if name in BUILTIN:
        return _import(BUILTIN[name])
    raise UnknownSensorError(f"unknown sensor {name!r}; known: {', '.join(sorted(BUILTIN))}")


def load_sensor(
    name: str, root: SysRoot, runner: CommandRunner, options: Mapping[str, Any] | None = None
) -> Sensor:
    """Instantiate sensor `name` reading through `root` and `runner`."""
    sensor = sensor_class(name)(root, runner, dict(options or {}))
    sensor.name = name
    return sensor

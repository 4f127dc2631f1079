"""Sensor plugins by name: entry points group `edgebench.sensors` through `edgebench.plugins`, whose built-in
table keeps them working uninstalled (shipped to a device as a zipapp). Modules load lazily."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgebench import plugins
from edgebench.sensors.base import CommandRunner, Sensor, SysRoot

GROUP = "edgebench.sensors"


class UnknownSensorError(LookupError):
    pass


def builtin_sensor_names() -> list[str]:
    return list(plugins.BUILTIN[GROUP])


def sensor_class(name: str) -> type[Sensor]:
    """The class registered as ``name`` (an installed entry point first, else the built-in table)."""
    if name not in plugins.names(GROUP):
        raise UnknownSensorError(f"unknown sensor {name!r}; known: {', '.join(plugins.names(GROUP))}")
    return plugins.load(GROUP, name)


def load_sensor(
    name: str, root: SysRoot, runner: CommandRunner, options: Mapping[str, Any] | None = None
) -> Sensor:
    """Instantiate sensor `name` reading through `root` and `runner`."""
    sensor = sensor_class(name)(root, runner, dict(options or {}))
    sensor.name = name
    return sensor

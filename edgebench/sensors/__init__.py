"""Sensors: pluggable readers of power, energy, temperature, clocks and throttle state.

Public API: SysRoot, CommandRunner, SubprocessRunner, ReplayRunner, Sensor, load_sensor,
builtin_sensor_names, Sampler, start_case_sampling.

The names load on first use (PEP 562), so that importing one sensor module, as the reports do for its flag
tables, does not also import the sampler, the plugin registry and every runner.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "CommandRunner": "base", "ReplayRunner": "base", "RootOnlyError": "base", "Sensor": "base",
    "SubprocessRunner": "base", "SysRoot": "base",
    "builtin_sensor_names": "registry", "load_sensor": "registry",
    "Sampler": "sampler",
    "CaseSampling": "sampling", "start_case_sampling": "sampling",
}
__all__ = [
    "CaseSampling",
    "CommandRunner",
    "ReplayRunner",
    "RootOnlyError",
    "Sampler",
    "Sensor",
    "SubprocessRunner",
    "SysRoot",
    "builtin_sensor_names",
    "load_sensor",
    "start_case_sampling",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


if TYPE_CHECKING:
    from edgebench.sensors.base import (
        CommandRunner,
        ReplayRunner,
        RootOnlyError,
        Sensor,
        SubprocessRunner,
        SysRoot,
    )
    from edgebench.sensors.registry import builtin_sensor_names, load_sensor
    from edgebench.sensors.sampler import Sampler
    from edgebench.sensors.sampling import CaseSampling, start_case_sampling

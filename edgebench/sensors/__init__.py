"""Sensors: pluggable readers of power, energy, temperature, clocks and throttle state.

Public API: SysRoot, CommandRunner, SubprocessRunner, ReplayRunner, Sensor, load_sensor,
builtin_sensor_names, Sampler, start_case_sampling.
"""

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

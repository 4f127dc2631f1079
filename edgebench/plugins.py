"""Plugins (backends, sensors, transports, reporters) found through entry points and loaded lazily by name.

The built-ins are registered the same way in ``pyproject.toml``. The fallback table below is used only when
the distribution metadata is absent (edgebench shipped to a device as a zipapp), so the worker still finds
its backends there.
"""

from __future__ import annotations

import functools
import importlib
import sys
from importlib import metadata
from typing import Any

GROUPS = {
    "backends": "edgebench.backends",
    "sensors": "edgebench.sensors",
    "transports": "edgebench.transports",
    "reporters": "edgebench.reporters",
}

BUILTIN: dict[str, dict[str, str]] = {
    "edgebench.backends": {
        "onnxruntime": "edgebench.backends.onnxruntime_backend:OnnxRuntimeBackend",
        "tflite": "edgebench.backends.tflite_backend:TFLiteBackend",
        "null": "edgebench.backends.null_backend:NullBackend",
    },
    "edgebench.sensors": {
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
        "serial_meter": "edgebench.sensors.serial_meter:SerialMeterSensor",
    },
    "edgebench.reporters": {
        "md": "edgebench.reporting.markdown:render_report",
        "html": "edgebench.reporting.html:render_html",
        "csv": "edgebench.reporting.csv_report:render_csv",
        "json": "edgebench.reporting.json_report:render_json",
    },
    "edgebench.transports": {
        "local": "edgebench.transports.local:LocalTransport",
        "ssh": "edgebench.transports.ssh:SSHTransport",
        "dask": "edgebench.transports.dask_farm:DaskTransport",
    },
}


class PluginError(LookupError):
    pass


def _entry_points(group: str) -> dict[str, str]:
    return dict(_scan(group, tuple(sys.path)))


@functools.lru_cache(maxsize=32)
def _scan(group: str, search_path: tuple[str, ...]) -> dict[str, str]:
    """One read of every installed distribution's metadata (about 15 ms) per group and ``sys.path``: what
    is installed is found along ``sys.path``, so a changed path is a fresh read."""
    found = dict(BUILTIN.get(group, {}))
    try:
        eps = metadata.entry_points(group=group)  # type: ignore[call-arg]
    except TypeError:  # Python 3.8 and 3.9 (the device agent runs on 3.8): a dict of groups
        eps = metadata.entry_points().get(group, [])  # type: ignore
    for ep in eps:
        found[ep.name] = ep.value
    return found


def names(group: str) -> list[str]:
    return sorted(_entry_points(group))


def load(group: str, name: str) -> Any:
    """Import and return the object registered as ``name`` in ``group``."""
    table = _entry_points(group)
    if name not in table:
        known = ", ".join(sorted(table)) or "none"
        raise PluginError(f"unknown {group.rsplit('.', 1)[-1][:-1]} {name!r} (known: {known})")
    module_name, _, attr = table[name].partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module

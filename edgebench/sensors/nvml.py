"""NVIDIA GPUs through NVML (nvidia-ml-py): power (mW), total energy since driver load (mJ, Volta+),
SM/memory clocks, temperature, utilisation, and clock-event (throttle) reasons decoded.
Each query that the GPU does not support (NotSupported, e.g. on Jetson) reads None.
options: index (GPU index, default 0)."""

from __future__ import annotations

import importlib
from typing import Any

from edgebench.sensors.base import Reading, Sensor
from edgebench.sensors.channels import (
    BITMASK,
    CLOCK,
    CLOCK_MAX,
    ENERGY_COUNTER,
    INFO,
    POWER_TOTAL,
    RANK_GPU_ENERGY,
    RANK_GPU_POWER,
    TEMPERATURE,
    THROTTLE_FLAG,
    UTILISATION,
    Channel,
)
from edgebench.sensors.options import Option
from edgebench.sensors.readings import CLOCK_EVENT_BITS, CLOCK_EVENT_REASONS, THERMAL_REASONS

CHANNELS = (
    Channel("power_mw", POWER_TOTAL, "mW", rank=RANK_GPU_POWER),
    Channel("energy_mj", ENERGY_COUNTER, "mJ", rank=RANK_GPU_ENERGY),  # since the driver loaded
    Channel("sm_mhz", CLOCK, "MHz"),
    Channel("mem_mhz", CLOCK, "MHz"),
    Channel("temp_c", TEMPERATURE, "C"),
    Channel("util_pct", UTILISATION, "%"),
    Channel("clock_event_reasons", THROTTLE_FLAG, "bitmask", signal=BITMASK, bits=CLOCK_EVENT_BITS),
    Channel("thermal_slowdown", INFO, "bool"),  # the thermal bits of clock_event_reasons, for people
)


class NvmlSensor(Sensor):
    name = "nvml"
    OPTIONS = (Option("index", "int", "the GPU's index (default 0)", minimum=0, maximum=255),)

    def __init__(self, root=None, runner=None, options=None, nvml_module: Any = None) -> None:
        super().__init__(root, runner, options)
        self._nvml = nvml_module
        self._handle: Any = None
        self._reason: str | None = None
        self._initialised = False

    def available(self) -> str | None:
        if self._initialised:
            return None
        if self._nvml is None:
            try:
                self._nvml = importlib.import_module("pynvml")
            except ImportError:
                from edgebench.optional import hint

                return f"nvidia-ml-py not installed: {hint('pynvml')}"
        nv = self._nvml
        try:
            nv.nvmlInit()
        except Exception as exc:  # noqa: BLE001 - NVMLError_LibraryNotFound / DriverNotLoaded / ...
            return f"NVML unavailable: {exc} (no NVIDIA driver?)"
        index = int(self.options.get("index", 0))
        try:
            count = nv.nvmlDeviceGetCount()
            if index >= count:
                nv.nvmlShutdown()
                return f"no NVIDIA GPU with index {index} (found {count})"
            self._handle = nv.nvmlDeviceGetHandleByIndex(index)
        except Exception as exc:  # noqa: BLE001
            return f"NVML device {index}: {exc}"
        self._initialised = True
        return None

    def _q(self, fn: str, *args: Any) -> Any:
        try:
            return getattr(self._nvml, fn)(self._handle, *args)
        except Exception:  # noqa: BLE001 - NotSupported and friends read None
            return None

    def read(self) -> Reading:
        nv = self._nvml
        util = self._q("nvmlDeviceGetUtilizationRates")
        reasons = self._q("nvmlDeviceGetCurrentClocksEventReasons")
        if reasons is None:
            reasons = self._q("nvmlDeviceGetCurrentClocksThrottleReasons")
        return {
            "power_mw": self._q("nvmlDeviceGetPowerUsage"),
            "energy_mj": self._q("nvmlDeviceGetTotalEnergyConsumption"),
            "sm_mhz": self._q("nvmlDeviceGetClockInfo", nv.NVML_CLOCK_SM),
            "mem_mhz": self._q("nvmlDeviceGetClockInfo", nv.NVML_CLOCK_MEM),
            "temp_c": self._q("nvmlDeviceGetTemperature", nv.NVML_TEMPERATURE_GPU),
            "util_pct": getattr(util, "gpu", None),
            "clock_event_reasons": reasons,
            "thermal_slowdown": None if reasons is None else bool(reasons & THERMAL_REASONS),
        }

    def channels(self) -> list[Channel]:
        out = list(CHANNELS)
        if self._initialised:
            sm_max = self._q("nvmlDeviceGetMaxClockInfo", self._nvml.NVML_CLOCK_SM)
            if sm_max:
                out.append(Channel("sm_max_mhz", CLOCK_MAX, "MHz", of="sm_mhz", value=sm_max))
        return out

    def meta(self) -> dict[str, Any]:
        if not self._initialised:
            return {}
        nv = self._nvml
        name = self._q("nvmlDeviceGetName")
        return {
            "name": name.decode() if isinstance(name, bytes) else name,
            "sm_max_mhz": self._q("nvmlDeviceGetMaxClockInfo", nv.NVML_CLOCK_SM),
            "mem_max_mhz": self._q("nvmlDeviceGetMaxClockInfo", nv.NVML_CLOCK_MEM),
            "power_limit_mw": self._q("nvmlDeviceGetEnforcedPowerLimit"),
            "reason_bits": {hex(bit): name for bit, name in CLOCK_EVENT_REASONS.items()},
        }

    def close(self) -> None:
        if self._initialised:
            try:
                self._nvml.nvmlShutdown()
            except Exception:  # noqa: BLE001
                pass
            self._initialised = False

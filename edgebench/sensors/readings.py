"""What a sensor's readings mean outside the sensor: the numeric test, NVML's clock-event reason bits and the
Raspberry Pi's get_throttled bits. The analysis and the reports read these too; this module imports nothing,
so they can without loading a sensor, its runners or the plugin registry."""

from __future__ import annotations

from typing import Any

from edgebench.sensors.channels import SLOWDOWN


def is_number(value: Any) -> bool:
    """A numeric reading: an int or a float, not a bool (a flag reads True/False, which are ints too)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Bits verified in nvidia-ml-py 13.615.71 (see fixtures README); 0x200/0x400 from the deprecated names.
CLOCK_EVENT_REASONS = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
    0x200: "board_limit",
    0x400: "reliability",
}
THERMAL_REASONS = 0x20 | 0x40
SLOWDOWN_REASONS = 0x8 | 0x20 | 0x40 | 0x80
#: the reasons as a bitmask channel declares them (edgebench.sensors.channels): (bit, name, meaning)
CLOCK_EVENT_BITS = tuple(
    (bit, name, SLOWDOWN if bit & SLOWDOWN_REASONS else "normal at full load" if bit == 0x4 else "")
    for bit, name in CLOCK_EVENT_REASONS.items()
)


def decode_clock_event_reasons(mask: int) -> tuple[str, ...]:
    return tuple(name for bit, name in CLOCK_EVENT_REASONS.items() if mask & bit)


# Official bit table (raspberrypi/documentation, get_throttled): bits 0-3 now, 16-19 sticky since boot.
STICKY_BITS = 16
THROTTLE_BITS = {
    0: "under_voltage_now",
    1: "arm_freq_capped_now",
    2: "throttled_now",
    3: "soft_temp_limit_now",
    16: "under_voltage_occurred",
    17: "arm_freq_capped_occurred",
    18: "throttled_occurred",
    19: "soft_temp_limit_occurred",
}

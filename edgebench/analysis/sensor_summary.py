"""Power, energy, temperature and throttling figures of one case, from its stored sensor series."""

from __future__ import annotations

from typing import Any

KEYS = ("power_avg_w", "power_idle_w", "energy_per_inference_mj", "temp_max_c", "throttled")


def summarize_sensors(case: dict[str, Any], total_power_channel: str | None = None) -> dict[str, Any]:
    return {key: None for key in KEYS} | {"details": {}}

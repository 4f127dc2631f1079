"""How a number, a ratio or a time is written in every report: the terminal table, Markdown and HTML alike."""

from __future__ import annotations

import datetime as _dt
from typing import Any


def format_value(value: Any) -> str:
    """Numbers to about three significant digits, the same way in every report (byte-stable)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        magnitude = abs(value)
        if magnitude >= 100:
            return f"{value:.0f}"
        if magnitude >= 10:
            return f"{value:.1f}"
        if magnitude >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value)


def format_ratio(ratio: float | None) -> str:
    return "" if ratio is None else f"×{ratio:.2f}"


def format_time(created_at: float | None) -> str:
    if created_at is None:
        return "-"
    return _dt.datetime.fromtimestamp(created_at, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

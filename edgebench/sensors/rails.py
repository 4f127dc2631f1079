"""Which power rail is the board total: the module input rail where the board has one, else the sum of rails.

Shared by the sysfs INA3221 sensor and the tegrastats parser. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Module input rails, in the order they are looked for: Nano/TX1, TX2/Xavier NX/Orin Nano/NX, Thor carrier.
INPUT_RAILS = ("POM_5V_IN", "VDD_IN", "VIN")
NOT_CONNECTED = "NC"


@dataclass(frozen=True)
class BoardTotal:
    mw: float | None
    source: str  # "rail VDD_IN" or "sum of rails A+B+C"
    warning: str | None = None


def board_total(rails_mw: Mapping[str, float | None], total_rail: str | None = None) -> BoardTotal:
    """Total board power from named rails (mW). `total_rail` (from the device profile) names the rail,
    or "sum"; None picks the first input rail present, else sums every rail (AGX Xavier, AGX Orin).
    NC rails must already be dropped. A named total smaller than a sub-rail gets a warning."""
    if total_rail is not None and total_rail != "sum":
        if total_rail not in rails_mw:
            return BoardTotal(None, f"rail {total_rail} (not present)")
        return BoardTotal(rails_mw[total_rail], f"rail {total_rail}", _sanity(rails_mw, total_rail))
    if total_rail is None:
        for name in INPUT_RAILS:
            if name in rails_mw:
                return BoardTotal(rails_mw[name], f"rail {name}", _sanity(rails_mw, name))
    if not rails_mw:
        return BoardTotal(None, "no rails")
    values = list(rails_mw.values())
    total = None if any(v is None for v in values) else sum(v for v in values if v is not None)
    return BoardTotal(total, "sum of rails " + "+".join(rails_mw))


def _sanity(rails_mw: Mapping[str, float | None], total_name: str) -> str | None:
    total = rails_mw[total_name]
    if total is None:
        return None
    for name, value in rails_mw.items():
        if name != total_name and value is not None and value > total:
            return f"{total_name} {total:g} mW < {name} {value:g} mW: total rail suspect"
    return None

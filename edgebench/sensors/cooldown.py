"""Cool-down before a case: wait until the temperature is under a threshold or stable, with a timeout.

No temperature, no wait: when nothing gives a temperature (no sensor with a ``*_c`` channel, a zone that reads
nothing), the cool-down gives up after ``no_temperature_grace_s`` (one poll by default) with outcome
``no_temperature`` and a note, instead of waiting out ``timeout_s`` before every case. It does not fall back
to a fixed wait: a wait that cannot see the temperature cannot say the device is cool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def wait_for_cooldown(
    read_temp_c: Callable[[], float | None],
    max_temp_c: float | None,
    stable_delta_c: float | None,
    timeout_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    poll_s: float = 2.0,
    stable_window_s: float = 10.0,
    no_temperature_grace_s: float | None = None,
) -> dict[str, Any]:
    """Poll `read_temp_c` every `poll_s` until temp <= max_temp_c ("below_max"), or the temperature moved
    by at most stable_delta_c over the last `stable_window_s` ("stable"), or timeout_s passed ("timeout").
    No rule -> "no_rule"; no reading at all within `no_temperature_grace_s` (default: poll_s) ->
    "no_temperature", with a note. Returns what happened, for the record."""
    grace_s = poll_s if no_temperature_grace_s is None else no_temperature_grace_s
    start = clock()
    first = read_temp_c()
    record: dict[str, Any] = {
        "max_temp_c": max_temp_c,
        "stable_delta_c": stable_delta_c,
        "timeout_s": timeout_s,
        "start_temp_c": first,
    }
    if max_temp_c is None and stable_delta_c is None:
        return {**record, "outcome": "no_rule", "waited_s": 0.0, "end_temp_c": first, "polls": 1}
    history: list[tuple[float, float]] = []
    temp, polls = first, 1
    while True:
        now = clock()
        if temp is not None:
            history.append((now, temp))
            if max_temp_c is not None and temp <= max_temp_c:
                outcome = "below_max"
                break
            if stable_delta_c is not None and now - history[0][0] >= stable_window_s:
                window = [v for t, v in history if t >= now - stable_window_s]
                if max(window) - min(window) <= stable_delta_c:
                    outcome = "stable"
                    break
        if not history and now - start >= min(grace_s, timeout_s):
            outcome = "no_temperature"
            break
        if now - start >= timeout_s:
            outcome = "timeout"
            break
        sleep(min(poll_s, max(0.0, timeout_s - (now - start))))
        temp, polls = read_temp_c(), polls + 1
    out = {**record, "outcome": outcome, "waited_s": clock() - start, "end_temp_c": temp, "polls": polls}
    if outcome == "no_temperature":
        out["note"] = "no temperature reading to wait on: the case ran without cooling down"
    return out

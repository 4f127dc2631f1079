"""Worker-side entry for one case: build the sensors a spec names, sample them beside the timed loop,
take the idle baseline, and mark the loop's phases on the same clock.

spec = {"names": [...], "root": "/", "period_ms": 100, "idle_seconds": 0.0,
        "options": {sensor: {...}}, "replay": {"tegrastats": "/path/file"}}   (only "names" required)
A sensor's options may hold its own "root" (e.g. psutil at "/" while the others read a copied tree).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Optional

from edgebench.sensors.base import CommandRunner, ReplayRunner, SubprocessRunner, SysRoot
from edgebench.sensors.channels import TEMPERATURE
from edgebench.sensors.cooldown import wait_for_cooldown
from edgebench.sensors.readings import is_number
from edgebench.sensors.registry import UnknownSensorError, load_sensor
from edgebench.sensors.sampler import Sampler

DEFAULT_PERIOD_MS = 100
COOLDOWN_POLL_S = 2.0


class CaseSampling:
    def __init__(
        self,
        sampler: Sampler,
        idle_seconds: float,
        clock_ns: Callable[[], int],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sampler = sampler
        self.idle_seconds = idle_seconds
        self.clock_ns = clock_ns
        self._sleep = sleep
        self.marks: list[list[Any]] = []
        self.cooldown_record: dict[str, Any] | None = None

    def mark(self, event: str, at_ns: Optional[int] = None) -> None:
        """Mark ``event`` now, or at ``at_ns`` on the same clock (a window known only afterwards: LoadGen's)."""
        self.marks.append([event, self.clock_ns() if at_ns is None else at_ns])

    def idle_window(self) -> None:
        """Sample for idle_seconds with nothing running: the idle-power baseline."""
        self.mark("idle_start")
        if self.idle_seconds > 0:
            self._sleep(self.idle_seconds)
        self.mark("idle_end")

    def cooldown(self, rule: dict[str, Any]) -> dict[str, Any] | None:
        """Wait, before the case, until the device is cool or stable (the profile's [cooldown] rule).

        The temperature is ``rule["channel"]`` (``"thermal.cpu_c"``) when given, else the hottest channel
        declared a temperature by the sensors sampling this case, read from the sampler's latest sample (the sampler is
        already running). Returns what happened, for the record.
        """
        if rule.get("max_temp_c") is None and rule.get("stable_delta_c") is None:
            return None
        channel = rule.get("channel")
        wait_s = 2.0 * self.sampler.period_s + 1.0
        # asking the sensors for their channels reads files and runs queries: once, and again on a poll only
        # while none is declared yet (a stream that has not printed)
        declared = self.sampler.declared(TEMPERATURE)

        def read_temp_c() -> float | None:
            nonlocal declared
            row = self.sampler.latest(wait_s)
            if channel:
                values: list[Any] = [row.get(channel)]
            else:
                declared = declared or self.sampler.declared(TEMPERATURE)
                values = [row.get(key) for key in declared]
            temps = [float(v) for v in values if is_number(v)]
            return max(temps) if temps else None

        def skipped(outcome: str, **figures: Any) -> dict[str, Any]:
            self.mark("cooldown_end")
            self.cooldown_record = {
                "max_temp_c": rule.get("max_temp_c"), "stable_delta_c": rule.get("stable_delta_c"),
                "timeout_s": rule.get("timeout_s"), "channel": channel or None, "waited_s": 0.0, "outcome": outcome,
                **figures}
            return self.cooldown_record

        self.mark("cooldown_start")
        first = self.sampler.latest(wait_s)
        if channel:  # a misspelt channel, or one of a sensor that is not running, would wait out the timeout
            sensor = channel.split(".", 1)[0]
            live = any(s.name == sensor for s in self.sampler.live_sensors())
            produced = [k for k in first if k.startswith(sensor + ".")]  # none yet: a stream warming up
            if not live or (produced and channel not in first):
                return skipped("unknown_channel" if live else "sensor_unavailable", polls=0,
                               known_channels=sorted(k for k in declared if k in first))
        else:
            running = self.sampler.live_sensors()
            silent = [s.name for s in running if not any(k.startswith(s.name + ".") for k in first)]
            if not any(k in first for k in declared) and not silent:
                names = ", ".join(s.name for s in running) or "none"
                return skipped(
                    "no_temperature", polls=1, start_temp_c=None, end_temp_c=None,
                    note=f"no temperature to wait on: none of the sampled sensors ({names}) has a temperature "
                         f"channel; add `thermal` to the profile's [sensors] or name [cooldown] channel. The case "
                         f"ran without cooling down")
        # a stream that has not printed yet may still bring a temperature: two polls' grace, not the timeout
        outcome = wait_for_cooldown(read_temp_c, rule.get("max_temp_c"), rule.get("stable_delta_c"),
                                    float(rule.get("timeout_s") or 0.0), self._sleep, time.monotonic,
                                    poll_s=COOLDOWN_POLL_S, no_temperature_grace_s=2 * COOLDOWN_POLL_S + wait_s)
        self.mark("cooldown_end")
        self.cooldown_record = outcome
        return outcome

    def stop(self) -> dict[str, Any]:
        result = self.sampler.stop()
        result["marks"] = list(self.marks)
        if self.cooldown_record is not None:
            result["cooldown"] = self.cooldown_record
        return result


def build_runner(replay: dict[str, str] | None, period_s: float = 0.0) -> CommandRunner:
    if not replay:
        return SubprocessRunner()
    return ReplayRunner(replay, line_period_s=period_s, fallback=SubprocessRunner())


def start_case_sampling(spec: dict[str, Any], clock_ns: Callable[[], int]) -> CaseSampling:
    # a profile may name channels ("jetson_power.total_mw") among its expectations: sample their sensor
    names = list(dict.fromkeys(str(n).split(".", 1)[0] for n in spec["names"]))
    period_ms = float(spec.get("period_ms", DEFAULT_PERIOD_MS))
    root = SysRoot(spec.get("root", "/"))
    roots = {str(root.root): root}
    runner = build_runner(spec.get("replay"), period_ms / 1000.0)
    all_options = spec.get("options", {})
    sensors, unavailable = [], {}
    for name in names:
        options = dict(all_options.get(name, {}))
        if name == "tegrastats":
            options.setdefault("interval_ms", int(period_ms))
        own_root = options.pop("root", None)  # a sensor may read another tree (psutil: the live /proc)
        if own_root is not None:
            own_root = roots.setdefault(str(own_root), SysRoot(own_root))
        try:
            sensors.append(load_sensor(name, own_root or root, runner, options))
        except (UnknownSensorError, ImportError, AttributeError) as exc:
            unavailable[name] = str(exc)
    sampler = Sampler(sensors, period_ms / 1000.0, clock_ns=clock_ns, unavailable=unavailable)
    sampler.start()
    return CaseSampling(sampler, float(spec.get("idle_seconds", 0.0)), clock_ns)

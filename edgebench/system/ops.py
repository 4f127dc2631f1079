"""The operations of ``edgebench system show|tune|reset``, in the order they are applied.

Each operation reads through an injected :class:`SysRoot` and runs tools through an injected command runner, so
tests drive them on a fake sysfs tree with recorded tool output. Standard library only: the same module runs on
the device inside the agent zipapp.

    available() -> None, or why the operation cannot run here
    read()      -> the current state (JSON-able), restored as-is by ``write`` on reset
    show()      -> {"name", "available", "current", "wanted", "ok"}
    write(v)    -> put the device in state ``v``
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from edgebench.errors import ConfigError
from edgebench.sensors.base import CommandRunner, SubprocessRunner, SysRoot

CPU_GLOB = "/sys/devices/system/cpu/cpu[0-9]*/cpufreq"
FAN_PATHS = ("/sys/devices/pwm-fan/target_pwm",                      # Jetson, JetPack 4
             "/sys/devices/platform/pwm-fan/hwmon/hwmon*/pwm1",       # Jetson, JetPack 5+
             "/sys/class/hwmon/hwmon*/pwm1")                          # generic hwmon fan
THERMAL_GLOB = "/sys/class/thermal/thermal_zone*/temp"


@dataclass(frozen=True)
class PrepareConfig:
    """The profile's ``[prepare]`` table, validated."""

    governor: str | None = None
    nvpmodel: int | None = None
    jetson_clocks: bool | None = None
    fan: int | None = None          # PWM 0..255 ("max" = 255)
    cooldown: bool = True
    max_temp_c: float | None = None
    stable_delta_c: float | None = None
    cooldown_timeout_s: float = 0.0

    @classmethod
    def parse(cls, table: Mapping[str, Any], source: str, cooldown: Any = None) -> PrepareConfig:
        def bad(key: str, problem: str) -> ConfigError:
            return ConfigError(source, f"prepare.{key}", problem)

        known = {"governor", "nvpmodel", "jetson_clocks", "fan", "cooldown"}
        for key in table:
            if key not in known:
                raise bad(key, f"unknown key (known: {', '.join(sorted(known))})")
        governor = table.get("governor")
        if governor is not None and (not isinstance(governor, str) or not governor.isidentifier()):
            raise bad("governor", f"expected a governor name such as \"performance\", got {governor!r}")
        nvpmodel = table.get("nvpmodel")
        if nvpmodel is not None and (isinstance(nvpmodel, bool) or not isinstance(nvpmodel, int) or nvpmodel < 0):
            raise bad("nvpmodel", f"expected a power mode id (integer >= 0, see `nvpmodel -p --verbose`), "
                                  f"got {nvpmodel!r}")
        clocks = table.get("jetson_clocks")
        if clocks is not None and not isinstance(clocks, bool):
            raise bad("jetson_clocks", f"expected true or false, got {clocks!r}")
        fan = table.get("fan")
        if fan == "max":
            fan = 255
        elif fan is not None and (isinstance(fan, bool) or not isinstance(fan, int) or not 0 <= fan <= 255):
            raise bad("fan", f"expected \"max\" or a PWM value 0..255, got {fan!r}")
        do_cooldown = table.get("cooldown", True)
        if not isinstance(do_cooldown, bool):
            raise bad("cooldown", f"expected true or false, got {do_cooldown!r}")
        return cls(governor, nvpmodel, clocks, fan, do_cooldown,
                   getattr(cooldown, "max_temp_c", None), getattr(cooldown, "stable_delta_c", None),
                   float(getattr(cooldown, "timeout_s", 0.0) or 0.0))

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass
class Context:
    root: SysRoot = field(default_factory=SysRoot)
    runner: CommandRunner = field(default_factory=SubprocessRunner)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    #: where jetson_clocks --store keeps the clocks it replaces
    state_dir: str = "/tmp"


class Operation:
    name = ""
    #: False for a wait (cooldown): it runs even when already ok, saves nothing for reset, reports ``last``
    restorable = True

    def __init__(self, wanted: Any, ctx: Context) -> None:
        self.wanted = wanted
        self.ctx = ctx

    def available(self) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def ok(self, current: Any) -> bool:
        return current == self.wanted

    def write(self, value: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def show(self) -> dict[str, Any]:
        reason = self.available()
        current = self.read() if reason is None else None
        return {"name": self.name, "available": reason is None, "reason": reason, "current": current,
                "wanted": self.wanted, "ok": reason is None and self.ok(current)}


class Governor(Operation):
    """CPU frequency governor of every core (``performance`` for stable latencies)."""

    name = "governor"

    def _cpus(self) -> list[str]:
        return self.ctx.root.glob(CPU_GLOB)

    def available(self) -> str | None:
        cpus = self._cpus()
        if not cpus:
            return "no cpufreq in /sys/devices/system/cpu (a VM or a kernel without cpufreq)"
        offered = (self.ctx.root.read_str(f"{cpus[0]}/scaling_available_governors") or "").split()
        if offered and isinstance(self.wanted, str) and self.wanted not in offered:
            return f"governor {self.wanted} not offered (available: {' '.join(offered)})"
        return None

    def read(self) -> dict[str, str | None]:
        return {c.split("/")[-2]: self.ctx.root.read_str(f"{c}/scaling_governor") for c in self._cpus()}

    def ok(self, current: Any) -> bool:
        return bool(current) and all(v == self.wanted for v in current.values())

    def write(self, value: Any) -> None:
        for cpu in self._cpus():
            name = cpu.split("/")[-2]
            target = value.get(name) if isinstance(value, dict) else value
            if target:
                _write(self.ctx.root, f"{cpu}/scaling_governor", str(target))


class NvpModel(Operation):
    """Jetson power mode (``nvpmodel -m ID``); the ids are listed by ``nvpmodel -p --verbose``."""

    name = "nvpmodel"

    def available(self) -> str | None:
        return None if self.ctx.runner.which("nvpmodel") else "nvpmodel not found (not a Jetson?)"

    def read(self) -> int | None:
        from edgebench.sensors.nvpmodel import parse_nvpmodel_q

        mode = parse_nvpmodel_q(self.ctx.runner.run(["nvpmodel", "-q"]))
        return mode.mode_id if mode else None

    def write(self, value: Any) -> None:
        if value is not None:
            self.ctx.runner.run(["nvpmodel", "-m", str(int(value))])


class JetsonClocks(Operation):
    """``jetson_clocks``: CPU/GPU/EMC clocks pinned at their maximum (on: every core's min freq == max freq)."""

    name = "jetson_clocks"

    def _store(self) -> str:
        return f"{self.ctx.state_dir.rstrip('/')}/edgebench-jetson-clocks.conf"

    def available(self) -> str | None:
        return None if self.ctx.runner.which("jetson_clocks") else "jetson_clocks not found (not a Jetson?)"

    def read(self) -> bool:
        cpus = self.ctx.root.glob(CPU_GLOB)
        pinned = [self.ctx.root.read_int(f"{c}/scaling_min_freq") == self.ctx.root.read_int(f"{c}/scaling_max_freq")
                  for c in cpus]
        return bool(pinned) and all(pinned)

    def write(self, value: Any) -> None:
        if value:
            self.ctx.runner.run(["jetson_clocks", "--store", self._store()])
            self.ctx.runner.run(["jetson_clocks"])
        else:
            self.ctx.runner.run(["jetson_clocks", "--restore", self._store()])


class Fan(Operation):
    """Fan PWM (0..255); on a Jetson ``max`` keeps the board from throttling during long runs."""

    name = "fan"

    def _path(self) -> str | None:
        for pattern in FAN_PATHS:
            hits = self.ctx.root.glob(pattern)
            if hits:
                return hits[0]
        return None

    def available(self) -> str | None:
        return None if self._path() else "no PWM fan found (pwm-fan, hwmon pwm1)"

    def read(self) -> int | None:
        path = self._path()
        return self.ctx.root.read_int(path) if path else None

    def write(self, value: Any) -> None:
        path = self._path()
        if path and value is not None:
            _write(self.ctx.root, path, str(int(value)))


class Cooldown(Operation):
    """Wait until the hottest thermal zone is under ``max_temp_c`` or stable (``stable_delta_c``), with a timeout."""

    name = "cooldown"
    restorable = False

    def available(self) -> str | None:
        if self.wanted.get("max_temp_c") is None and self.wanted.get("stable_delta_c") is None:
            return "no rule ([cooldown] max_temp_c or stable_delta_c)"
        return None if self.ctx.root.glob(THERMAL_GLOB) else "no thermal zones in /sys/class/thermal"

    def read(self) -> float | None:
        values = [self.ctx.root.read_int(p) for p in self.ctx.root.glob(THERMAL_GLOB)]
        temps = [v / 1000.0 for v in values if v is not None and v > -40000]
        return max(temps) if temps else None

    def ok(self, current: Any) -> bool:
        limit = self.wanted.get("max_temp_c")
        return current is not None and (limit is None or current <= limit)

    def write(self, value: Any) -> None:
        if value is None:  # nothing to restore
            return
        from edgebench.sensors.cooldown import wait_for_cooldown

        wanted = self.wanted
        self.last = wait_for_cooldown(self.read, wanted.get("max_temp_c"), wanted.get("stable_delta_c"),
                                      float(wanted.get("timeout_s") or 0.0), self.ctx.sleep, self.ctx.clock)


def _write(root: SysRoot, path: str, value: str) -> None:
    real = root.path(path)
    try:
        real.write_text(value + "\n")
    except PermissionError:
        raise PermissionError(f"{path}: permission denied (run as root, or `sudo edgebench system tune`)") from None


def operations(config: PrepareConfig, ctx: Context) -> list[Operation]:
    """The operations the profile asks for, in the order they are applied."""
    ops: list[Operation] = []
    if config.nvpmodel is not None:
        ops.append(NvpModel(config.nvpmodel, ctx))  # first: a power mode change resets clocks
    if config.jetson_clocks is not None:
        ops.append(JetsonClocks(config.jetson_clocks, ctx))
    if config.governor is not None:
        ops.append(Governor(config.governor, ctx))
    if config.fan is not None:
        ops.append(Fan(config.fan, ctx))
    if config.cooldown and (config.max_temp_c is not None or config.stable_delta_c is not None):
        ops.append(Cooldown({"max_temp_c": config.max_temp_c, "stable_delta_c": config.stable_delta_c,
                             "timeout_s": config.cooldown_timeout_s}, ctx))
    return ops


def show(ops: list[Operation]) -> dict[str, Any]:
    """Each operation's state. ``ok``: every operation this device offers is as asked; those it does not
    offer (``unavailable``: no nvpmodel on a laptop) cannot differ and do not make it not ok."""
    states = [op.show() for op in ops]
    differs = [s["name"] for s in states if s["available"] and not s["ok"]]
    unavailable = [s["name"] for s in states if not s["available"]]
    return {"operations": states, "ok": not differs, "differs": differs, "unavailable": unavailable}


def tune(ops: list[Operation]) -> dict[str, Any]:
    """Apply every available operation; return what each changed and the state to restore on reset."""
    saved: dict[str, Any] = {}
    changes: list[dict[str, Any]] = []
    for op in ops:
        reason = op.available()
        if reason is not None:
            changes.append({"name": op.name, "skipped": reason})
            continue
        before = op.read()
        if op.ok(before) and op.restorable:
            changes.append({"name": op.name, "unchanged": before})
            continue
        try:
            op.write(op.wanted)
        except (OSError, RuntimeError) as exc:
            changes.append({"name": op.name, "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__})
            continue
        change = {"name": op.name, "before": before, "after": op.read()}
        if op.restorable:
            saved[op.name] = before
        else:
            change["cooldown"] = getattr(op, "last", None)
        changes.append(change)
    return {"changes": changes, "saved": saved, "ok": not any("error" in c for c in changes)}


def reset(ops: list[Operation], saved: Mapping[str, Any]) -> dict[str, Any]:
    """Put back what ``tune`` changed, in reverse order."""
    changes: list[dict[str, Any]] = []
    for op in reversed(ops):
        if op.name not in saved:
            continue
        try:
            op.write(saved[op.name])
            changes.append({"name": op.name, "restored": saved[op.name]})
        except (OSError, RuntimeError) as exc:
            changes.append({"name": op.name, "error": str(exc).splitlines()[0]})
    return {"changes": changes, "ok": not any("error" in c for c in changes)}

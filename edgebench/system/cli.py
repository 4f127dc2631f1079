"""Device side of ``edgebench system``: runs the operations here and prints the outcome as one JSON line.

    python -m edgebench.system.cli show|tune|reset --prepare JSON [--root /] [--state FILE]

The host side (``edgebench.harness.device_state``, through the transport) calls this in-process for a local
profile and through the agent zipapp over SSH for a remote one. ``tune`` saves the state it replaced in
``--state``; ``reset`` restores it.
The state is kept per device and root (``state_file_for``): a reset puts back what the tune of that same
device and tree replaced, never another's values.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from edgebench.files import cache_home
from edgebench.sensors.base import SysRoot
from edgebench.system import ops
from edgebench.wire import RESULT_PREFIX


def state_file_for(device: str, root: str = "/") -> str:
    """Where ``tune`` keeps what it replaced on ``device`` under ``root``: one directory per (device, root) under
    ``$XDG_CACHE_HOME/edgebench/system-state/`` (jetson_clocks keeps its clocks there too)."""
    real_root = os.path.abspath(root)
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in device) or "device"
    key = f"{slug}-{hashlib.sha256(real_root.encode()).hexdigest()[:12]}"
    return os.path.join(str(cache_home()), "system-state", key, "state.json")


def execute(action: str, config: ops.PrepareConfig, ctx: ops.Context, state_file: str) -> dict[str, Any]:
    operations = ops.operations(config, ctx)
    if action == "show":
        return ops.show(operations)
    state = Path(state_file)
    if action == "tune":
        outcome = ops.tune(operations)
        previous: dict[str, Any] = {}
        if state.is_file():  # tuning twice must not forget the original state
            previous = json.loads(state.read_text()).get("saved", {})
        saved = {**outcome["saved"], **previous}
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"saved": saved, "root": str(ctx.root.root)}))
        note = (f"what it replaced is kept in {state}; `edgebench system reset` with the same profile and root "
                f"puts it back") if saved else None
        return {**outcome, "state_file": str(state), **({"note": note} if note else {})}
    if action == "reset":
        if not state.is_file():
            return {"changes": [], "ok": True,
                    "note": f"nothing to restore: not tuned under {ctx.root.root} ({state} absent)"}
        saved = json.loads(state.read_text()).get("saved", {})
        outcome = ops.reset(operations, saved)
        if outcome["ok"]:
            state.unlink()
        restored = [c["name"] for c in outcome["changes"] if "restored" in c]
        note = (f"restored {', '.join(restored)} under {ctx.root.root}" if restored
                else f"nothing to restore under {ctx.root.root}: the tune changed nothing")
        return {**outcome, "note": note}
    raise ValueError(f"unknown action {action!r}")


def execute_here(action: str, config: ops.PrepareConfig, root: str, state_file: str) -> dict[str, Any]:
    """``execute`` on this machine's ``root``; jetson_clocks keeps the clocks it replaces beside ``state_file``."""
    ctx = ops.Context(root=SysRoot(root), state_dir=os.path.dirname(state_file))
    return execute(action, config, ctx, state_file)


def sensors_available(root: str = "/", options: dict[str, Any] | None = None) -> dict[str, str | None]:
    """Every known sensor: None when it can read on this device, else why not (for ``edgebench doctor``).
    ``options`` are the profile's per-sensor options: a sensor's own ``root`` is honoured, as a run does."""
    from edgebench.sensors.base import SubprocessRunner
    from edgebench.sensors.registry import builtin_sensor_names, load_sensor

    out: dict[str, str | None] = {}
    for name in builtin_sensor_names():
        own = dict((options or {}).get(name) or {})
        sensor_root = SysRoot(own.pop("root", None) or root)
        try:
            out[name] = load_sensor(name, sensor_root, SubprocessRunner(), own).available()
        except Exception as exc:  # noqa: BLE001 - one broken sensor must not hide the others
            out[name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return out


def run_action(action: str, config: ops.PrepareConfig, root: str, state: str) -> dict[str, Any]:
    """``execute_here``, with a failure as ``{"ok": False, "error": its first line}``: what the agent prints
    for the SSH transport and what the local transport returns."""
    try:
        return execute_here(action, config, root, state)
    except (OSError, RuntimeError, ValueError) as exc:
        return {"ok": False, "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}


def main(argv: list[str] | None = None) -> int:
    if argv and argv[0] == "sensors":  # sensors [ROOT [OPTIONS_JSON]]
        options = json.loads(argv[2]) if len(argv) > 2 else None
        found = sensors_available(argv[1] if len(argv) > 1 else "/", options)
        sys.stdout.write(RESULT_PREFIX + json.dumps(found) + "\n")
        return 0
    parser = argparse.ArgumentParser(prog="edgebench-agent system")
    parser.add_argument("action", choices=("show", "tune", "reset"))
    parser.add_argument("--prepare", default="{}", help="the validated [prepare] settings as JSON")
    parser.add_argument("--root", default="/")
    parser.add_argument("--state", default=None, help="default: one file per --root")
    args = parser.parse_args(argv)
    config = ops.PrepareConfig(**json.loads(args.prepare))
    outcome = run_action(args.action, config, args.root, args.state or state_file_for("this-device", args.root))
    sys.stdout.write(RESULT_PREFIX + json.dumps(outcome) + "\n")
    return 0 if outcome.get("ok") else 1


if __name__ == "__main__":
    raise SystemExit(main())

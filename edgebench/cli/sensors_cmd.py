"""``edgebench sensors``: which sensors this device has (or why not), and what they read now.

``--json`` prints one JSON object per sample on stdout,
``{"t_s": ..., "channels": {"<sensor>.<channel>": v}}``; the sensor list and missing expectations then go
to stderr. ``--replay TOOL=FILE`` feeds a recorded tool output
(tegrastats, vcgencmd, nvidia-smi, nvpmodel) through the same parsers; lines starting with '#' are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

REPLAY_TOOLS = ("tegrastats", "vcgencmd", "nvidia-smi", "nvpmodel")
DEFAULT_INTERVAL_MS = 1000
STREAM_WAIT_S = 3.0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sensors",
        help="list the sensors found and print their readings",
        description="List the sensors found on this device (or why each is unavailable) and print readings.",
    )
    p.add_argument("--profile", help="device profile (name or path): its sensors, options and expectations")
    p.add_argument("--root", help="filesystem root to read /sys, /proc from (a copied tree); default /")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one sample (the default)")
    when.add_argument("--duration", type=float, metavar="S", help="sample for S seconds")
    p.add_argument(
        "--interval", type=int, metavar="MS", help=f"sampling period (default {DEFAULT_INTERVAL_MS})"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per sample")
    p.add_argument(
        "--replay",
        action="append",
        default=[],
        metavar="TOOL=FILE",
        help=f"feed a recorded output for TOOL ({', '.join(REPLAY_TOOLS)}); repeatable",
    )
    p.add_argument(
        "--sensor",
        action="append",
        default=[],
        metavar="NAME",
        help="only these sensors (default: the profile's, else every built-in)",
    )
    p.set_defaults(func=run)


def _parse_replay(items: list[str]) -> dict[str, str]:
    from edgebench.errors import EdgebenchError

    out = {}
    for item in items:
        tool, sep, path = item.partition("=")
        if not sep or not path:
            raise EdgebenchError(f"--replay {item}: expected TOOL=FILE")
        if tool not in REPLAY_TOOLS:
            raise EdgebenchError(f"--replay {item}: unknown tool {tool!r} (known: {', '.join(REPLAY_TOOLS)})")
        out[tool] = path
    return out


def _missing_expected(
    expected: tuple[str, ...], status: dict[str, Any], channels: dict[str, Any]
) -> list[str]:
    missing = []
    for item in expected:
        if "." in item:
            if channels.get(item) is None:
                missing.append(item)
        elif not status.get(item, {}).get("available"):
            missing.append(item)
    return missing


def _has_spoken(sensor: Any) -> bool:
    """A streaming sensor has a first reading, or has stopped (its read() then says why, at the first sample)."""
    try:
        return bool(sensor.read())
    except Exception:  # noqa: BLE001 - reported by the sampling loop below
        return True


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return "-" if value is None else str(value)


def run(args: argparse.Namespace) -> int:
    from edgebench.errors import EdgebenchError
    from edgebench.sensors.base import SysRoot
    from edgebench.sensors.registry import UnknownSensorError, builtin_sensor_names, load_sensor
    from edgebench.sensors.sampling import build_runner

    profile = None
    if args.profile:
        from edgebench.config.profile import load_profile

        profile = load_profile(args.profile)
    scfg = profile.sensors if profile else None
    if profile is not None and profile.transport.kind != "local" and not (args.root or args.replay):
        print(f"note: {profile.name} is reached over {profile.transport.kind}; these readings are THIS machine's, "
              f"read with {profile.name}'s sensor list. On the device: edgebench doctor --profile {profile.name}",
              file=sys.stderr)
    interval_ms = args.interval or (scfg.period_ms if scfg else DEFAULT_INTERVAL_MS)
    if interval_ms <= 0:
        raise EdgebenchError(f"--interval {interval_ms}: must be > 0 ms")
    root = SysRoot(args.root or (scfg.root if scfg else "/"))
    if args.root and not root.root.is_dir():
        raise EdgebenchError(f"--root {args.root}: not a directory")
    replay = _parse_replay(args.replay)
    try:
        runner = build_runner(replay, interval_ms / 1000.0)
    except FileNotFoundError as exc:
        raise EdgebenchError(str(exc)) from exc
    expected = tuple(scfg.expected) if scfg else ()
    if args.sensor:
        names = list(args.sensor)
    elif expected:
        names = list(dict.fromkeys(e.split(".", 1)[0] for e in expected))
    else:
        names = builtin_sensor_names()
    options_all = dict(scfg.options) if scfg else {}
    info = sys.stderr if args.json else sys.stdout

    sensors, status = [], {}
    for name in names:
        options = dict(options_all.get(name, {}))
        if name == "tegrastats":
            options.setdefault("interval_ms", interval_ms)
        own_root = options.pop("root", None)  # a sensor's own tree (psutil on the live /proc), as a run reads it
        sensor = None
        try:
            sensor = load_sensor(name, SysRoot(own_root) if own_root is not None else root, runner, options)
            reason = sensor.available()
            if reason is None:
                sensor.start()
        except (UnknownSensorError, ImportError) as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - one broken sensor must not hide the others
            reason = f"{type(exc).__name__}: {exc}"
        status[name] = {"available": reason is None, "reason": reason}
        if reason is None and sensor is not None:
            sensors.append(sensor)
        print(f"{name:15s} {'available' if reason is None else 'unavailable: ' + reason}", file=info)

    streaming = [s for s in sensors if s.streaming]
    deadline = time.monotonic() + STREAM_WAIT_S + interval_ms / 1000.0
    while streaming and time.monotonic() < deadline and not all(_has_spoken(s) for s in streaming):
        time.sleep(0.02)

    samples = 1 if not args.duration else max(1, int(args.duration * 1000 // interval_ms))
    t0 = time.monotonic()
    last: dict[str, Any] = {}
    try:
        for k in range(samples):
            if k:
                time.sleep(max(0.0, t0 + k * interval_ms / 1000.0 - time.monotonic()))
            channels: dict[str, Any] = {}
            for s in sensors:
                try:
                    reading = s.read()
                except Exception as exc:  # noqa: BLE001
                    print(f"{s.name}: read failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                    continue
                channels.update({f"{s.name}.{ch}": v for ch, v in reading.items()})
            last = channels
            t_s = round(time.monotonic() - t0, 6)
            if args.json:
                print(json.dumps({"t_s": t_s, "channels": channels}), flush=True)
            else:
                print(f"t={t_s:.3f}s", file=info)
                for ch, v in channels.items():
                    print(f"  {ch:40s} {_fmt(v)}", file=info)
    finally:
        for s in sensors:
            s.close()
    if expected and profile is not None:
        missing = _missing_expected(expected, status, last)
        print(
            f"profile {profile.name}: "
            + (f"missing expected: {', '.join(missing)}" if missing else "all expected sensors present"),
            file=info,
        )
    return 0

"""``edgebench doctor --profile P``: can this device run the suite, and what would a run skip and why."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from edgebench.cli.transport_args import add_transport_args

EPILOG = """\
examples:
  edgebench doctor                                  this machine, the default suite
  edgebench doctor --profile jetson-nano --suite suites/vision.toml

exit status: 0 checked, 1 a sensor the profile expects cannot read, 2 a bad profile or argument, 3 the device
could not be reached (as from `edgebench run`)
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check a device: Python, runtimes, sensors, what a run would skip",
        description="Reach the device the profile names (deploying the agent over SSH if needed), and print its "
                    "Python, the runtimes it has, the sensors it offers, the device state the profile asks for, "
                    "and which cases of the suite a run would skip, with the reason.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="local", metavar="NAME|PATH")
    parser.add_argument("--suite", default="default", metavar="NAME|PATH",
                        help="suite whose cases are checked (default: default; skipped when absent)")
    add_transport_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgebench.cli.transport_args import apply_args
    from edgebench.config.locate import locate
    from edgebench.config.profile import load_profile
    from edgebench.config.suite import load_suite
    from edgebench.errors import ConfigError
    from edgebench.harness import runner
    from edgebench.transports import make_transport

    profile = apply_args(load_profile(args.profile), args)
    out = sys.stdout
    problems = 0
    with make_transport(profile) as transport:
        probe = transport.probe()
        env = probe.get("environment", {})
        out.write(f"device     {profile.name} ({profile.transport.kind}"
                  f"{' ' + probe['transport']['target'] if 'transport' in probe else ''})\n")
        for key in ("os", "kernel", "machine", "cpu_model", "cpu_count", "board", "l4t_release", "python",
                    "python_executable"):
            if env.get(key) is not None:
                out.write(f"  {key:18s} {env[key]}\n")
        out.write(f"  {'edgebench':18s} {probe.get('edgebench_version')}\n")
        out.write("backends\n")
        for name, info in sorted(probe.get("backends", {}).items()):
            if info.get("available"):
                extra = {k: v for k, v in info.items() if k not in ("available", "reason")}
                out.write(f"  {name:18s} yes  {_fmt(extra)}\n")
            else:
                out.write(f"  {name:18s} no   {info.get('reason')}\n")
        sensors = _sensors(transport)
        if sensors is not None:
            out.write("sensors\n")
            for name, reason in sorted(sensors.items()):
                expected = name in profile.sensors.expected
                if reason is not None and expected:
                    problems += 1
                flag = "yes" if reason is None else "no "
                out.write(f"  {name:18s} {flag}  {'(expected by the profile) ' if expected else ''}{reason or ''}\n")
        if profile.prepare:
            from edgebench.cli.system_cmd import print_outcome
            from edgebench.harness.device_state import system_call

            out.write("device state ([prepare])\n")
            try:
                print_outcome("show", system_call(profile, transport, "show"), out)
            except Exception as exc:  # noqa: BLE001 - doctor reports, it does not stop
                out.write(f"  cannot read: {exc}\n")
        try:
            suite = load_suite(locate(args.suite, "suites"))
        except ConfigError as exc:
            out.write(f"suite      not checked: {exc}\n")
            return 1 if problems else 0
        cases = runner.plan(suite, profile, probe, runner.RunOptions())
        skipped = [c for c in cases if c.skip_reason]
        out.write(f"suite {suite.name}: {len(cases) - len(skipped)} of {len(cases)} cases would run\n")
        for case in skipped:
            out.write(f"  skip {case.case_id}: {case.skip_reason}\n")
    return 1 if problems else 0


def _sensors(transport: Any) -> dict[str, Any] | None:
    """The device's sensors, or None where the transport cannot list them (a farm device): no section then."""
    from edgebench.transports.base import NotSupportedError

    try:
        return transport.sensors()
    except NotSupportedError:
        return None


def _fmt(info: dict[str, Any]) -> str:
    return "  ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in info.items())

"""``edgebench system show|tune|reset --profile P``: the device state a profile asks for ([prepare]); the
operations run through the profile's transport (``edgebench.harness.device_state``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from edgebench.cli.transport_args import add_transport_args

EPILOG = """\
examples:
  edgebench system show --profile jetson-nano     exit 1 when the device is not as the profile asks
  sudo edgebench system tune --profile local      governor, nvpmodel, jetson_clocks, fan, then cool down
  edgebench system reset --profile jetson-nano    put back what tune changed (on that device and --root)

exit status:
  0  show: every operation the device offers is as asked (those it lacks are listed as n/a);
     tune/reset: every operation applied or restored (n/a ones skipped)
  1  show: an operation differs from what the profile asks; tune/reset: an operation failed (listed)
  2  a bad profile or argument
  3  the device could not be reached or read

[prepare] keys: governor = "performance", nvpmodel = 0, jetson_clocks = true, fan = "max" | 0..255,
cooldown = true (uses the profile's [cooldown] max_temp_c / stable_delta_c / timeout_s)
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "system", help="show, tune or reset the device state (governor, nvpmodel, clocks, fan)",
        description="Run the profile's [prepare] operations, in order, on the device the profile reaches "
                    "(here, or over SSH through the agent). Each says whether it is available and what it "
                    "would change.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("show", "tune", "reset"))
    parser.add_argument("--profile", default="local", metavar="NAME|PATH")
    parser.add_argument("--root", default=None, metavar="DIR",
                        help="read /sys under DIR instead of / (a copied tree; local profiles only)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add_transport_args(parser)
    parser.set_defaults(func=run)


def exit_code(outcome: dict[str, Any]) -> int:
    """0 as asked / applied, 1 differs / an operation failed, 3 the device could not be read (see EPILOG)."""
    if outcome.get("error"):
        return 3
    return 0 if outcome.get("ok") else 1


def print_outcome(action: str, outcome: dict[str, Any], stream: Any = None) -> None:
    stream = stream or sys.stdout
    if outcome.get("error"):
        stream.write(f"system {action}: error: {outcome['error']}\n")
    for state in outcome.get("operations", []):
        if not state["available"]:
            verdict, detail = "n/a", state["reason"]
        else:
            verdict = "ok" if state["ok"] else "differs"
            detail = f"current {_fmt(state['current'])}, wanted {_fmt(state['wanted'])}"
        stream.write(f"{state['name']:14s} {verdict:8s} {detail}\n")
    for change in outcome.get("changes", []):
        name = change["name"]
        if "skipped" in change:
            stream.write(f"{name:14s} skipped  {change['skipped']}\n")
        elif "error" in change:
            stream.write(f"{name:14s} error    {change['error']}\n")
        elif "unchanged" in change:
            stream.write(f"{name:14s} already  {_fmt(change['unchanged'])}\n")
        elif "restored" in change:
            stream.write(f"{name:14s} restored {_fmt(change['restored'])}\n")
        else:
            stream.write(f"{name:14s} changed  {_fmt(change.get('before'))} -> {_fmt(change.get('after'))}\n")
    if outcome.get("note"):
        stream.write(f"system {action}: {outcome['note']}\n")
    stream.flush()


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        distinct = sorted({str(v) for v in value.values()})
        return distinct[0] if len(distinct) == 1 else ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def run(args: argparse.Namespace) -> int:
    import json

    from edgebench.cli.transport_args import apply_args
    from edgebench.config.profile import load_profile
    from edgebench.harness.device_state import system_call
    from edgebench.transports import make_transport

    profile = apply_args(load_profile(args.profile), args)  # a bad [prepare] fails here, before anything connects
    if not profile.prepare and not profile.cooldown.max_temp_c and profile.cooldown.stable_delta_c is None:
        print(f"{profile.name}: the profile has no [prepare] table: nothing to {args.action}")
        return 0
    with make_transport(profile) as transport:  # an unreachable device: TransportError, exit 3 (cli.main)
        outcome = system_call(profile, transport, args.action, args.root)
    if args.json:
        print(json.dumps(outcome, indent=1))
    else:
        print_outcome(args.action, outcome)
    return exit_code(outcome)

"""``edgebench profiles`` and ``edgebench suites``: what is available, one line each."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    profiles = subparsers.add_parser("profiles", help="list the device profiles",
                                     description="List the device profiles in device_profiles/.")
    profiles.set_defaults(func=list_profiles)
    suites = subparsers.add_parser("suites", help="list the suites", description="List the suites in suites/.")
    suites.set_defaults(func=list_suites)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def list_profiles(args: argparse.Namespace) -> int:
    from edgebench.config.fields import load_toml
    from edgebench.config.locate import list_names, locate

    for name in list_names("device_profiles"):
        data = load_toml(locate(name, "device_profiles"))
        transport = data.get("transport", {}).get("kind", "local")
        print(f"{name:20s} {transport:6s} {_first_line(data.get('description', ''))}")
    return 0


def list_suites(args: argparse.Namespace) -> int:
    from edgebench.config.fields import load_toml
    from edgebench.config.locate import list_names, locate

    for name in list_names("suites"):
        data = load_toml(locate(name, "suites"))
        count = len(data.get("models", []))
        models = f"{count} model{'' if count == 1 else 's'}"
        print(f"{name:20s} {models:10s} {_first_line(data.get('description', ''))}")
    return 0

"""``edgebench profiles`` and ``edgebench suites``: what is available, one line each."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    profiles = subparsers.add_parser("profiles", help="list the device profiles",
                                     description="List the device profiles in device_profiles/.")
    profiles.set_defaults(func=list_profiles)
    suites = subparsers.add_parser("suites", help="list the suites", description="List the suites in suites/.")
    suites.set_defaults(func=list_suites)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def list_profiles(args: argparse.Namespace) -> int:
    from edgebench.config.fields import load_toml
    from edgebench.config.locate import list_names, locate
    from edgebench.errors import ConfigError

    for name in list_names("device_profiles"):
        try:
            data = load_toml(locate(name, "device_profiles"))
        except ConfigError as exc:  # one broken file does not hide the others
            print(f"{name:20s} {'?':6s} cannot be read: {exc.problem}")
            continue
        transport = data.get("transport")
        kind = transport.get("kind", "local") if isinstance(transport, dict) else "local"
        print(f"{name:20s} {str(kind):6s} {_first_line(_text(data.get('description')))}")
    return 0


def list_suites(args: argparse.Namespace) -> int:
    from edgebench.config.fields import load_toml
    from edgebench.config.locate import list_names, locate
    from edgebench.errors import ConfigError

    for name in list_names("suites"):
        try:
            data = load_toml(locate(name, "suites"))
        except ConfigError as exc:
            print(f"{name:20s} {'?':10s} cannot be read: {exc.problem}")
            continue
        models_list = data.get("models")
        count = len(models_list) if isinstance(models_list, list) else 0
        models = f"{count} model{'' if count == 1 else 's'}"
        print(f"{name:20s} {models:10s} {_first_line(_text(data.get('description')))}")
    return 0

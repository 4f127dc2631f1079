"""``--host``, ``--user``, ``--port``: reach a profile's device at another address than its file says.

Labs share profiles (what a Jetson Nano is, which sensors it has) but not addresses, so the commands that reach a
device (run, doctor, system, sensors) take the address on the command line. It replaces the profile's
``[transport]`` host, user or port; messages about it name the option (``--host``), not the file's key, and
run.json records it, so ``run --resume`` goes back to the same address.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Mapping

from edgebench.errors import ConfigError

if TYPE_CHECKING:  # the parsers are built at start-up: import nothing there that --help does not need
    from edgebench.config.profile import DeviceProfile

#: option key in [transport] -> command-line option
OPTIONS = {"host": "--host", "user": "--user", "port": "--port"}
#: the transports whose device has an address
ADDRESSED = ("ssh",)


def add_transport_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "device address", "override the profile's [transport] keys (ssh profiles): the profile says what the "
                          "device is, these say where yours is")
    group.add_argument("--host", metavar="ADDR", help="host name or IP address of the device ([transport] host)")
    group.add_argument("--user", metavar="NAME", help="user to log in as ([transport] user)")
    group.add_argument("--port", type=int, metavar="N", help="SSH port ([transport] port, default 22)")


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The address options given on the command line, by their [transport] key."""
    return {key: getattr(args, key) for key in OPTIONS if getattr(args, key, None) is not None}


def with_address(profile: DeviceProfile, values: Mapping[str, Any],
                 origins: Mapping[str, str] | None = None) -> DeviceProfile:
    """``profile`` with ``values`` (``{"host": "10.0.0.7"}``) replacing its [transport] keys; ``origins`` names
    where each came from (default: its command-line option). The transport validates the values and names that
    origin when one is wrong."""
    if not values:
        return profile
    flags = ", ".join(OPTIONS[k] for k in values)
    if profile.transport.kind not in ADDRESSED:
        raise ConfigError(flags, "", f"{profile.name} is reached through the {profile.transport.kind} transport, "
                                     f"which has no address to override (only {', '.join(ADDRESSED)} profiles do)")
    origins = dict(origins or {key: OPTIONS[key] for key in values})
    transport = replace(profile.transport, options={**profile.transport.options, **values},
                        overrides={**profile.transport.overrides, **origins})
    return replace(profile, transport=transport)


def apply_args(profile: DeviceProfile, args: argparse.Namespace) -> DeviceProfile:
    return with_address(profile, given(args))


def recorded_address(transport: Mapping[str, Any]) -> dict[str, Any]:
    """The address options a stored run was given on the command line (its profile's transport in run.json)."""
    overrides = transport.get("overrides")
    return {key: transport[key] for key in (overrides if isinstance(overrides, Mapping) else ())
            if key in OPTIONS and key in transport}

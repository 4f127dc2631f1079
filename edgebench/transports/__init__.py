"""How cases reach a device: ``local`` (a worker subprocess here), ``ssh``, ``dask``.

A transport is a plugin (entry point group ``edgebench.transports``) named by a profile's ``transport.kind``;
:func:`make_transport` loads it by that name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edgebench import plugins
from edgebench.errors import ConfigError

if TYPE_CHECKING:
    from edgebench.config.profile import DeviceProfile
    from edgebench.transports.base import Transport


def make_transport(profile: DeviceProfile) -> Transport:
    """The transport the profile's ``transport.kind`` names; an unknown kind is a ConfigError naming the key."""
    try:
        transport_class = plugins.load("edgebench.transports", profile.transport.kind)
    except plugins.PluginError as exc:
        raise ConfigError(str(profile.path), "transport.kind", str(exc)) from None
    return transport_class(profile)  # type: ignore[no-any-return]

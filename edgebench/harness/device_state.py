"""The device state around a run: the profile's ``[prepare]`` operations shown, applied and restored on the device
(through its transport), and the state a run ran in recorded in run.json (``system_state``).

``edgebench system`` calls ``system_call``; ``edgebench run`` calls ``record_state`` and, with ``--tune``,
``tuned``. The operations themselves are ``edgebench.system.ops``, run on the device.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Callable, Iterator

from edgebench.transports.base import error_line

if TYPE_CHECKING:
    from edgebench.config.profile import DeviceProfile
    from edgebench.results.store import RunStore
    from edgebench.system.ops import PrepareConfig
    from edgebench.transports.base import Transport

#: hears each outcome of ``tuned``: ("tune" | "reset", the outcome)
OutcomeListener = Callable[[str, "dict[str, Any]"], None]


def prepare_config(profile: DeviceProfile) -> PrepareConfig:
    """The profile's ``[prepare]`` table (with its ``[cooldown]``), validated: a ConfigError names the key."""
    from edgebench.system.ops import PrepareConfig

    return PrepareConfig.parse(profile.prepare, str(profile.path), profile.cooldown)


def system_call(profile: DeviceProfile, transport: Transport, action: str, root: str | None = None) -> dict[str, Any]:
    """Run ``action`` (show, tune, reset) where the profile's device is; ``root``: a copied /sys tree (local)."""
    return transport.system(action, prepare_config(profile), root)


def record_state(store: RunStore, profile: DeviceProfile, transport: Transport) -> None:
    """A run records the device state it ran in (``system_state`` in run.json); a failure is recorded too."""
    try:
        state = system_call(profile, transport, "show")
    except Exception as exc:  # noqa: BLE001 - the state is context, never a reason to lose the run
        state = {"ok": False, "error": error_line(exc)}
    store.set_system_state(state)


@contextlib.contextmanager
def tuned(profile: DeviceProfile, transport: Transport, enabled: bool = True,
          report: OutcomeListener = lambda action, outcome: None) -> Iterator[None]:
    """``run --tune``: apply the [prepare] operations, and restore the previous state whatever happens; ``report``
    hears the tune's outcome and the reset's."""
    if not enabled:
        yield
        return
    report("tune", system_call(profile, transport, "tune"))
    try:
        yield
    finally:
        report("reset", system_call(profile, transport, "reset"))

"""The transport interface and the parsing of a worker's output, shared by every transport."""

from __future__ import annotations

import json
import signal
from typing import TYPE_CHECKING, Any, Callable, Iterable

from edgebench.config.profile import DeviceProfile
from edgebench.errors import EdgebenchError
from edgebench.wire import RESULT_PREFIX, Case

if TYPE_CHECKING:
    from edgebench.system.ops import PrepareConfig

STDERR_TAIL_LINES = 20


class TransportError(EdgebenchError):
    """The device could not be reached or the connection dropped: the case is ``lost``, not ``failed``.
    Every command exits 3 on it (``edgebench run``: finished cases are kept, ``--resume`` continues)."""

    exit_status = 3


class NotSupportedError(EdgebenchError):
    """A transport was asked what it cannot do (``edgebench system`` on a farm device). A usage error, exit 2,
    not a ``TransportError``: nothing was lost, and ``run`` has no run to resume because of it."""


class Transport:
    """Runs cases on one device. Subclasses implement ``probe`` and ``run_case``; ``system`` and ``sensors``
    (what ``edgebench system``, ``run --tune`` and ``doctor`` ask the device) raise ``NotSupportedError`` where a
    transport cannot reach the device's own state."""

    def __init__(self, profile: DeviceProfile) -> None:
        self.profile = profile

    def probe(self) -> dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def prepare(self, cases: list[Case]) -> None:
        """Put what the cases need on the device (models, the agent). Local: nothing to do."""

    def run_case(self, case: Case) -> dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def run_cases(self, cases: list[Case], on_start: Callable[[Case], None],
                  on_result: Callable[[Case, dict[str, Any]], None]) -> None:
        """Run cases one after another, reporting each as it starts and ends.

        Transports that run several at once (a farm) override this; ``on_result`` may be called in any order.
        """
        for case in cases:
            on_start(case)
            on_result(case, self.run_case(case))

    def system(self, action: str, prepare: PrepareConfig, root: str | None = None) -> dict[str, Any]:
        """``show``, ``tune`` or ``reset`` the profile's ``[prepare]`` operations on the device: the outcome that
        ``edgebench.system.cli`` prints (``{"ok": ..., "operations"|"changes": [...], "note"?, "error"?}``).
        ``root`` reads /sys under a copied tree instead of / where the transport supports it (local)."""
        raise NotSupportedError(f"{self.profile.name}: the {self.profile.transport.kind} transport cannot show, "
                                f"tune or reset the device state; run `edgebench system` on the device itself")

    def sensors(self) -> dict[str, str | None]:
        """Every known sensor on the device: None when it can read there, else why not; the profile's sensor root
        and per-sensor options (a sensor's own ``root``) apply, as in a run."""
        raise NotSupportedError(f"{self.profile.name}: the {self.profile.transport.kind} transport cannot list "
                                f"the device's sensors; run `edgebench sensors` on the device itself")

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def find_result(stdout_lines: Iterable[str]) -> dict[str, Any] | None:
    found = None
    for line in stdout_lines:
        if line.startswith(RESULT_PREFIX):
            found = json.loads(line[len(RESULT_PREFIX):])
    return found


def stderr_tail(stderr: str, lines: int = STDERR_TAIL_LINES) -> str:
    return "\n".join(stderr.strip().splitlines()[-lines:])


def error_line(exc: BaseException | None) -> str:
    """``ValueError: the message's first line``; the class name alone for an empty message."""
    if exc is None:
        return "unknown error"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def describe_exit(returncode: int) -> str:
    """``-11`` -> ``killed by signal SIGSEGV (11)``; 137 from a shell -> SIGKILL (likely the OOM killer)."""
    number = -returncode if returncode < 0 else (returncode - 128 if returncode > 128 else None)
    if number:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hint = " (out of memory? the kernel's OOM killer sends SIGKILL)" if name == "SIGKILL" else ""
        return f"killed by signal {name} ({number}){hint}"
    return f"exited with status {returncode}"


def crashed_result(case: Case, returncode: int, stderr: str, started_at: float, finished_at: float) -> dict[str, Any]:
    """The result recorded for a worker that died without reporting: signal and stderr tail."""
    tail = stderr_tail(stderr)
    last = tail.splitlines()[-1] if tail else ""
    error = f"worker {describe_exit(returncode)}" + (f"; stderr: {last}" if last else "")
    return {"case_id": case.case_id, "status": "failed", "error": error, "returncode": returncode,
            "stderr_tail": tail, "batch": case.batch, "started_at": started_at, "finished_at": finished_at}

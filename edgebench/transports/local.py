"""The local transport: each case in a fresh worker subprocess on this machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.config.loadgen_settings import expected_duration_s
from edgebench.transports.base import Transport, TransportError, crashed_result, find_result, stderr_tail
from edgebench.wire import Case

if TYPE_CHECKING:
    from edgebench.system.ops import PrepareConfig

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def case_timeout_s(case: Case) -> float:
    """Generous: loading, warm-up, the longest loop the rules allow, sensors' idle window, and slack; the
    concurrent scenario loads and warms up one session per stream, one after another."""
    loop = case.duration_s if case.duration_s is not None else case.rules.max_seconds
    if case.loadgen:  # LoadGen's runs instead of the timed loop
        loop = expected_duration_s(dict(case.loadgen))
    cooldown = case.sensors.get("cooldown") or {}
    idle = float(case.sensors.get("idle_seconds") or 0) + float(cooldown.get("timeout_s") or 0)
    streams = max(case.concurrency, 1)
    return 120.0 * streams + 3 * (loop + streams * case.rules.warmup_seconds) + idle


class LocalTransport(Transport):
    python = sys.executable

    def _worker(self, args: list[str], stdin: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.python, "-m", "edgebench.worker.main", *args], input=stdin,
                              capture_output=True, text=True, timeout=timeout_s, env=worker_env())

    def probe(self) -> dict[str, Any]:
        try:
            done = self._worker(["--probe"], "", 120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TransportError(f"{self.profile.name}: cannot start the worker: {exc}") from None
        found = find_result(done.stdout.splitlines())
        if found is None:
            tail = stderr_tail(done.stderr, 3).replace("\n", " | ")
            raise TransportError(f"{self.profile.name}: the worker's probe failed: {tail}")
        return found

    def system(self, action: str, prepare: PrepareConfig, root: str | None = None) -> dict[str, Any]:
        """In this process, on this machine's ``root`` (default /); what ``tune`` replaced is kept per profile
        and root, so ``reset`` puts back that tune's values only."""
        from edgebench.system import cli

        where = root or "/"
        return cli.run_action(action, prepare, where, cli.state_file_for(self.profile.name, where))

    def sensors(self) -> dict[str, str | None]:
        from edgebench.system.cli import sensors_available

        sensors = self.profile.sensors
        return sensors_available(sensors.root, {name: dict(options) for name, options in sensors.options.items()})

    def run_case(self, case: Case) -> dict[str, Any]:
        started = time.time()
        timeout = case_timeout_s(case)
        try:
            done = self._worker([], json.dumps(case.to_json()), timeout)
        except subprocess.TimeoutExpired as exc:
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            result = crashed_result(case, -9, stderr, started, time.time())
            result["error"] = f"worker timed out after {timeout:.0f} s and was killed"
            return result
        found = find_result(done.stdout.splitlines())
        if found is None:
            return crashed_result(case, done.returncode, done.stderr, started, time.time())
        if done.stderr.strip():
            found["stderr_tail"] = stderr_tail(done.stderr)
        return found

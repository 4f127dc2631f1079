"""Where the device is: ``--host``, ``--user``, ``--port`` over a shared profile, and a wrong address.

Against the real sshd on 127.0.0.1 of tests/integration/conftest.py. A wrong address (a name that does not
resolve, a port nobody listens on) is one line naming the host, the port and where each comes from, exit 3 like
every device that cannot be reached, and is not retried: the profiles below allow 3 retries, each of which would
log ``retry N/3`` on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import Sshd, edgebench, free_port, null_suite, profile

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

UNRESOLVABLE = "nonexistent.invalid"  # .invalid never resolves (RFC 2606)


def lab_profile(tmp_path: Path, sshd: Sshd, **transport: object) -> Path:
    """A profile as a lab shares it: everything about the device, someone else's address."""
    values: dict[str, object] = {"host": UNRESOLVABLE, "user": "someone-else", "port": 2222, "retries": 3,
                                 "retry_backoff_s": 0.05}
    values.update(transport)
    return profile(tmp_path, "shared-nano", sshd.transport_table(**values))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("edgebench:")]


def test_host_user_port_override_the_profile_and_resume_reuses_them(sshd: Sshd, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite", threads="[1]", batches="[2]")
    shared = lab_profile(tmp_path, sshd)
    run_dir = tmp_path / "run"
    address = ("--host", "127.0.0.1", "--user", sshd.user, "--port", str(sshd.port))
    done = edgebench("run", "--profile", str(shared), "--suite", str(suite), "--out", str(run_dir), *address)
    assert done.returncode == 0, done.stderr
    document = json.loads((run_dir / "run.json").read_text())
    # the profile's own address does not resolve: these ran on the device the options named
    assert {r["status"] for r in document["cases"]} == {"ok"} and len(document["cases"]) == 2
    transport = document["profile"]["transport"]
    assert (transport["host"], transport["user"], transport["port"]) == ("127.0.0.1", sshd.user, sshd.port)
    assert transport["overrides"] == {"host": "--host", "user": "--user", "port": "--port"}
    # --resume reaches the device at the address the run was given, not the profile's (it connects even with
    # nothing left to run: the models are checked on the device)
    again = edgebench("run", "--resume", str(run_dir))
    assert again.returncode == 0, again.stderr
    assert UNRESOLVABLE not in again.stderr

    doctor = edgebench("doctor", "--profile", str(shared), "--suite", str(suite), *address)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"shared-nano (ssh {sshd.user}@127.0.0.1:{sshd.port})" in doctor.stdout


def test_an_unresolvable_host_is_one_line_naming_the_profile_key(sshd: Sshd, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite")
    shared = lab_profile(tmp_path, sshd, port=sshd.port)
    done = edgebench("run", "--profile", str(shared), "--suite", str(suite), "--out", str(tmp_path / "run"))
    assert done.returncode == 3
    [line] = error_lines(done.stderr)
    # between the two: the resolver's own words (glibc: "Name or service not known")
    assert line.startswith(f"edgebench: error: shared-nano: probing the device: cannot reach {UNRESOLVABLE} port "
                           f"{sshd.port}: the host name does not resolve ("), line
    assert line.endswith(f"); check [transport] host and port in {shared} (or give the address with --host ADDR)")
    assert "retry" not in done.stderr and "lost" not in done.stderr  # one attempt: no retry was logged
    assert "Traceback" not in done.stderr and "gaierror" not in done.stderr
    assert not (tmp_path / "run" / "run.json").exists()  # nothing started, nothing to resume
    # the same for an address given on the command line, which is then what the line names
    given = edgebench("doctor", "--profile", str(shared), "--host", UNRESOLVABLE)
    assert given.returncode == 3
    [line] = error_lines(given.stderr)
    assert f"cannot reach {UNRESOLVABLE} port {sshd.port}: the host name does not resolve" in line
    assert line.endswith(f"check --host and [transport] port in {shared}")
    assert "retry" not in given.stderr


def test_a_refused_port_is_one_line_and_not_retried(sshd: Sshd, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite")
    closed = free_port()  # bound and released: nothing listens there
    shared = lab_profile(tmp_path, sshd, host="127.0.0.1", port=closed)
    done = edgebench("run", "--profile", str(shared), "--suite", str(suite), "--out", str(tmp_path / "run"))
    assert done.returncode == 3
    assert error_lines(done.stderr) == [
        f"edgebench: error: shared-nano: probing the device: cannot reach 127.0.0.1 port {closed}: connection "
        f"refused (no SSH server listens on that port, or a firewall rejects it); check [transport] host and port "
        f"in {shared} (or give the address with --host ADDR)"], done.stderr
    assert "retry" not in done.stderr
    via_flag = edgebench("system", "show", "--profile", str(shared), "--port", str(closed),
                         cwd=tmp_path)
    # system show needs a [prepare] table before it connects: the lab profile has none
    assert via_flag.returncode == 0 and "no [prepare] table" in via_flag.stdout
    prepared = profile(tmp_path, "prepared", sshd.transport_table(host="127.0.0.1", port=sshd.port, retries=3),
                       extra='[prepare]\ngovernor = "performance"\n')
    refused = edgebench("system", "show", "--profile", str(prepared), "--port", str(closed))
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert error_lines(refused.stderr) == [
        f"edgebench: error: prepared: system show: cannot reach 127.0.0.1 port {closed}: connection refused (no SSH "
        f"server listens on that port, or a firewall rejects it); check --port and [transport] host in {prepared} "
        f"(or give the address with --host ADDR)"]
    assert "retry" not in refused.stderr


def test_a_bad_host_option_names_the_option(sshd: Sshd, tmp_path: Path) -> None:
    shared = lab_profile(tmp_path, sshd)
    done = edgebench("doctor", "--profile", str(shared), "--host=-oProxyCommand=x")
    assert done.returncode == 2
    assert error_lines(done.stderr) == ["edgebench: error: --host: not a host name: '-oProxyCommand=x'"]
    local = edgebench("run", "--profile", "local", "--host", "10.0.0.7")
    assert local.returncode == 2
    assert error_lines(local.stderr) == [
        "edgebench: error: --host: local is reached through the local transport, which has no address to "
        "override (only ssh profiles do)"]

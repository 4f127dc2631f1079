"""The SSH transport against a real OpenSSH server on 127.0.0.1 (see conftest.Sshd)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import Sshd, edgebench, keygen, null_suite, profile

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def run_json(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def statuses(run_dir: Path) -> dict[str, str]:
    return {r["case_id"]: r["status"] for r in run_json(run_dir)["cases"]}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("edgebench: error:")]


def test_ssh_run_gives_the_cases_of_the_local_run(sshd: Sshd, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite", threads="[1]")
    local = profile(tmp_path, "here", '[transport]\nkind = "local"')
    remote = profile(tmp_path, "loopback", sshd.transport_table())
    done_local = edgebench("run", "--profile", str(local), "--suite", str(suite), "--out", str(tmp_path / "local"))
    done_ssh = edgebench("run", "--profile", str(remote), "--suite", str(suite), "--out", str(tmp_path / "ssh"))
    assert done_local.returncode == 0, done_local.stderr
    assert done_ssh.returncode == 0, done_ssh.stderr
    assert statuses(tmp_path / "ssh") == statuses(tmp_path / "local")
    assert set(statuses(tmp_path / "ssh").values()) == {"ok"} and len(statuses(tmp_path / "ssh")) == 2
    document = run_json(tmp_path / "ssh")
    assert document["profile"]["transport"]["kind"] == "ssh"
    # the worker ran from the agent zipapp in the device's cache, the model from the content-addressed cache
    agents = list((sshd.dir / "remote" / "agent").glob("edgebench-agent-*.pyz"))
    assert len(agents) == 1
    sha = document["cases"][0]["model_sha256"]
    model = sshd.dir / "remote" / "models" / sha / "m.onnx"
    assert model.is_file()
    stamp = (agents[0].stat().st_mtime_ns, model.stat().st_mtime_ns)
    again = edgebench("run", "--profile", str(remote), "--suite", str(suite), "--out", str(tmp_path / "ssh2"),
                      "--filter", "*single*")
    assert again.returncode == 0, again.stderr
    assert (agents[0].stat().st_mtime_ns, model.stat().st_mtime_ns) == stamp  # present: not sent again


def test_unknown_host_key_is_refused_with_the_way_to_accept_it(sshd: Sshd, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite")
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    remote = profile(tmp_path, "loopback", sshd.transport_table(known_hosts=str(empty)))
    done = edgebench("run", "--profile", str(remote), "--suite", str(suite), "--out", str(tmp_path / "run"))
    assert done.returncode == 3
    [line] = error_lines(done.stderr)
    assert "loopback" in line and "unknown" in line and "refused" in line
    assert "ssh-ed25519 SHA256:" in line  # the fingerprint the device presented, to check before accepting
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> {empty}" in line
    assert "--resume" not in done.stderr  # nothing was started, nothing to resume


def test_changed_host_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite")
    other = keygen(tmp_path / "other_host_key")
    known = tmp_path / "known_hosts"
    pub = " ".join(Path(f"{other}.pub").read_text().split()[:2])
    known.write_text(f"[127.0.0.1]:{sshd.port} {pub}\n")
    remote = profile(tmp_path, "loopback", sshd.transport_table(known_hosts=str(known)))
    done = edgebench("run", "--profile", str(remote), "--suite", str(suite), "--out", str(tmp_path / "run"))
    assert done.returncode == 3
    [line] = error_lines(done.stderr)
    assert "HOST KEY CHANGED" in line and f"ssh-keygen -R '[127.0.0.1]:{sshd.port}'" in line
    pinned = profile(tmp_path, "pinned", sshd.transport_table(known_hosts=str(known), host_key=pub))
    done = edgebench("run", "--profile", str(pinned), "--suite", str(suite), "--out", str(tmp_path / "run2"))
    assert done.returncode == 3 and "does not match the key pinned" in done.stderr


def test_pinned_host_key_is_accepted_without_known_hosts(sshd: Sshd, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite")
    pinned = profile(tmp_path, "pinned", sshd.transport_table(known_hosts=str(tmp_path / "absent"),
                                                              host_key=sshd.host_key_line))
    done = edgebench("run", "--profile", str(pinned), "--suite", str(suite), "--out", str(tmp_path / "run"),
                     "--filter", "*threads=1.single*")
    assert done.returncode == 0, done.stderr


def test_bad_credentials_give_a_one_line_error(sshd: Sshd, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite")
    stranger = keygen(tmp_path / "stranger")
    remote = profile(tmp_path, "loopback", sshd.transport_table(key_file=str(stranger)))
    started = time.monotonic()
    done = edgebench("run", "--profile", str(remote), "--suite", str(suite), "--out", str(tmp_path / "run"))
    assert done.returncode == 3
    assert time.monotonic() - started < 30  # not retried
    [line] = error_lines(done.stderr)
    assert "authentication failed" in line and f"{sshd.user}@127.0.0.1:{sshd.port}" in line
    assert "Traceback" not in done.stderr


def test_sshd_killed_mid_run_keeps_finished_cases_and_resume_completes(tmp_path: Path) -> None:
    server = Sshd(tmp_path / "server")
    server.start()
    try:
        suite = null_suite(tmp_path / "suite", threads="[1, 2]", min_seconds=0.5, max_seconds=0.5)
        remote = profile(tmp_path, "flaky", server.transport_table())
        run_dir = tmp_path / "run"
        proc = subprocess.Popen([sys.executable, "-m", "edgebench", "run", "--profile", str(remote), "--suite",
                                 str(suite), "--out", str(run_dir)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (run_dir / "run.json").exists() and list(statuses(run_dir).values()).count("ok") >= 2:
                break
            time.sleep(0.05)
        server.kill()
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 3, stderr
        [line] = error_lines(stderr)
        after = statuses(run_dir)
        lost = [case for case, status in after.items() if status == "lost"]
        assert len(lost) == 1 and f"case {lost[0]}" in line and "flaky" in line and "lost" in line
        assert list(after.values()).count("ok") >= 2
        for case, status in after.items():
            if status == "ok":
                assert (run_dir / "cases" / f"{case}.json.gz").is_file()
        assert run_json(run_dir)["state"] == "interrupted"
        assert f"edgebench run --resume {run_dir}" in stderr

        server.start()
        done = edgebench("run", "--resume", str(run_dir))
        assert done.returncode == 0, done.stderr
        assert set(statuses(run_dir).values()) == {"ok"} and len(statuses(run_dir)) == 4
        assert run_json(run_dir)["state"] == "complete"
    finally:
        server.kill()


def test_worker_killed_on_the_device_is_a_failed_case(sshd: Sshd, tmp_path: Path) -> None:
    """The transport, not the CLI: a worker that dies by a signal is a failed case naming the signal."""
    from edgebench.config.profile import load_profile
    from edgebench.transports.ssh import SSHTransport

    remote = profile(tmp_path, "loopback", sshd.transport_table(python="/bin/sh"))
    transport = SSHTransport(load_profile(remote))
    try:
        # /bin/sh is no Python: the deploy check refuses it with the key to change
        with pytest.raises(Exception, match="set \\[transport\\] python"):
            transport.probe()
    finally:
        transport.close()
    fake = tmp_path / "fakepython"
    fake.write_text(f"#!/bin/sh\nif [ \"$2\" = worker ]; then kill -9 $$; fi\nexec {sys.executable} \"$@\"\n")
    fake.chmod(0o755)
    remote = profile(tmp_path, "loopback2", sshd.transport_table(python=str(fake)))
    transport = SSHTransport(load_profile(remote))
    try:
        from edgebench.digest import sha256_of
        from edgebench.wire import Case

        model = tmp_path / "m.onnx"
        model.write_bytes(b"x")
        case = Case("c1", "m", "fp32", "onnx", str(model), sha256_of(model), "null", {}, "single_stream")
        result = transport.run_case(case)
    finally:
        transport.close()
    assert result["status"] == "failed"
    assert "SIGKILL" in result["error"] and "loopback2" in result["error"]


def test_doctor_and_system_show_run_on_the_device(sshd: Sshd, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite", threads="[1]")
    remote = profile(tmp_path, "loopback", sshd.transport_table(),
                     extra='[prepare]\ngovernor = "performance"\nfan = "max"\n')
    doctor = edgebench("doctor", "--profile", str(remote), "--suite", str(suite))
    assert doctor.returncode == 0, doctor.stderr
    assert f"loopback (ssh {sshd.user}@127.0.0.1:{sshd.port})" in doctor.stdout
    assert "null               yes" in doctor.stdout and "psutil             yes" in doctor.stdout
    assert "suite nullsuite: 2 of 2 cases would run" in doctor.stdout
    shown = edgebench("system", "show", "--profile", str(remote), "--json")
    states = {s["name"]: s for s in json.loads(shown.stdout)["operations"]}
    assert set(states) == {"governor", "fan"}
    # exit 1 when an operation the device offers differs; n/a ones (a CI VM has no cpufreq and no fan) do not
    assert shown.returncode == (1 if any(s["available"] and not s["ok"] for s in states.values()) else 0)


def test_doctor_over_ssh_reads_sensors_under_the_profiles_roots(sshd: Sshd, tmp_path: Path) -> None:
    """The device lists its sensors under the profile's [sensors] root, and a sensor's own root where its options
    give one, as a run there reads them (the loopback device sees this machine's files, so the recorded trees
    stand in for a Jetson Nano's /sys and a Raspberry Pi's thermal zones)."""
    from tests.fixtures.sensors.sysfs_trees import build_nano_jp4, build_pi4

    nano = build_nano_jp4(tmp_path / "nano")
    pi, _ = build_pi4(tmp_path / "pi")
    remote = profile(tmp_path, "loopback", sshd.transport_table())
    remote.write_text(remote.read_text().replace(
        "[sensors]\nexpected = []\n",
        f'[sensors]\nexpected = ["jetson_power", "thermal"]\nroot = "{nano}"\n'
        f'[sensors.options.thermal]\nroot = "{pi}"\n'))
    doctor = edgebench("doctor", "--profile", str(remote), "--suite", str(tmp_path / "none.toml"))
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    lines = {ln.split()[0]: ln.split()[1] for ln in doctor.stdout.split("sensors\n", 1)[1].splitlines()
             if ln.startswith("  ")}
    assert lines["jetson_power"] == "yes" and lines["thermal"] == "yes"  # the Nano's rails, the Pi's zones
    assert lines["rpi"] == "no"  # vcgencmd is not found under the Nano's tree


def test_a_corrupt_model_in_the_device_cache_is_sent_again(sshd: Sshd, tmp_path: Path) -> None:
    """The device's copy is checked by the worker against the planned sha256, and replaced once when it differs."""
    suite = null_suite(tmp_path / "suite", threads="[1]")
    remote = profile(tmp_path, "loopback", sshd.transport_table(remote_dir=str(tmp_path / "remote")))
    first = edgebench("run", "--profile", str(remote), "--suite", str(suite), "--out", str(tmp_path / "run1"),
                      "--filter", "*single*")
    assert first.returncode == 0, first.stderr
    [cached] = (tmp_path / "remote" / "models").glob("*/m.onnx")
    cached.write_bytes(b"flipped bits on the board's SD card\n")
    again = edgebench("run", "--profile", str(remote), "--suite", str(suite), "--out", str(tmp_path / "run2"),
                      "--filter", "*single*")
    assert again.returncode == 0, again.stderr
    assert set(statuses(tmp_path / "run2").values()) == {"ok"}
    assert cached.read_bytes() == (tmp_path / "suite" / "m.onnx").read_bytes()
    assert "is corrupt; sending it again" in again.stderr

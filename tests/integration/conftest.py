"""Real servers for the transport tests: an OpenSSH sshd on 127.0.0.1, a Dask scheduler and workers.

Every server is started from a temporary configuration on a free loopback port and torn down by its pid
(and the pids of its children: sshd forks one process per connection).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import need_tool

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout_s: float = 10.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"server exited with {proc.returncode}: {err.strip()[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def descendants(pid: int) -> list[int]:
    """Child pids (recursively) read from /proc: sshd's per-connection processes."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        for pid in [proc.pid, *descendants(proc.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    proc.wait(timeout=10)


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgebench-test", "-f", str(path)],
                   check=True)
    return path


class Sshd:
    """One sshd on 127.0.0.1:port, accepting ``client_key`` for the current user."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.user = getpass.getuser()
        self.host_key = keygen(directory / "host_ed25519")
        self.client_key = keygen(directory / "client_ed25519")
        shutil.copy(directory / "client_ed25519.pub", directory / "authorized_keys")
        self.known_hosts = directory / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {self.host_key_line}\n")
        self.config = directory / "sshd_config"
        self.config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.host_key}",
            f"PidFile {directory / 'sshd.pid'}", f"AuthorizedKeysFile {directory / 'authorized_keys'}",
            "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no", "UseDNS no",
            "Subsystem sftp internal-sftp", "MaxStartups 50", "MaxSessions 50", "LogLevel ERROR",
            # Hermetic sessions: sshd runs every command as `$SHELL -c ...`, and bash started by sshd reads
            # ~/.bashrc unless it is a nested shell (SHLVL >= 1). A CI machine's root ~/.bashrc runs
            # `pyenv init`, whose rehash waits 60 s on a lock that a killed session leaves behind.
            "SetEnv SHLVL=1", "PermitUserRC no", ""]))
        self.proc: subprocess.Popen | None = None

    @property
    def host_key_line(self) -> str:
        return " ".join((self.dir / "host_ed25519.pub").read_text().split()[:2])

    def start(self) -> None:
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # the privilege separation directory
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.config)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(self.port, proc=self.proc)

    def kill(self) -> None:
        """sshd and every connection it serves, by pid: what a pulled cable or a reboot looks like."""
        if self.proc is not None:
            kill_tree(self.proc)
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None

    def transport_table(self, **extra: object) -> str:
        values: dict[str, object] = {
            "kind": "ssh", "host": "127.0.0.1", "port": self.port, "user": self.user,
            "key_file": str(self.client_key), "agent": False, "known_hosts": str(self.known_hosts),
            "python": sys.executable, "remote_dir": str(self.dir / "remote"), "connect_timeout_s": 5,
            "retries": 1, "retry_backoff_s": 0.2, "keepalive_s": 2,
        }
        values.update(extra)
        return "[transport]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items())


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory):
    if not os.path.exists(SSHD):
        need_tool(f"{SSHD} not found: install openssh-server (apt-get install openssh-server)")
    server = Sshd(tmp_path_factory.mktemp("sshd"))
    server.start()
    yield server
    server.kill()


NULL_SUITE = """\
name = "{name}"
[rules]
warmup_iterations = 2
warmup_seconds = 0.0
min_iterations = 10
min_seconds = {min_seconds}
max_seconds = {max_seconds}
[[models]]
name = "m"
path = "m.onnx"
[[backends]]
name = "null"
busy_wait_us = {busy}
threads = {threads}
[[scenarios]]
name = "single_stream"
[[scenarios]]
name = "batch"
batch = {batches}
"""


def null_suite(directory: Path, name: str = "nullsuite", busy: int = 50, threads: str = "[1, 2]",
               batches: str = "[2]", min_seconds: float = 0.05, max_seconds: float = 0.2) -> Path:
    """A suite for the null backend (no runtime). It never loads the model, but the file is checked, shipped and
    hashed with each case like any other: a copy of the smallest shipped model."""
    from tests.conftest import MODELS

    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MODELS / "kws_dscnn_int8.onnx", directory / "m.onnx")
    path = directory / f"{name}.toml"
    path.write_text(NULL_SUITE.format(name=name, busy=busy, threads=threads, batches=batches,
                                      min_seconds=min_seconds, max_seconds=max_seconds))
    return path


def profile(directory: Path, name: str, transport: str, extra: str = "") -> Path:
    path = directory / f"{name}.toml"
    path.write_text(f'name = "{name}"\n{transport}\n[backends.null]\n[sensors]\nexpected = []\n{extra}')
    return path


def edgebench(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgebench", *args], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


class DaskCluster:
    """A real ``dask scheduler`` and ``edgebench agent`` workers, each a separate process on loopback."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler: subprocess.Popen | None = None
        self.agents: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
        self.scheduler = subprocess.Popen(
            [*dask, "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.dir / "scheduler.log", "wb"),
            cwd=self.dir)
        wait_port(self.port, timeout_s=30, proc=self.scheduler)

    def start_agent(self, profile_path: Path, name: str) -> subprocess.Popen:
        log = open(self.dir / f"agent-{name}.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "edgebench", "agent", "--scheduler", self.address, "--profile", str(profile_path),
             "--host", "127.0.0.1", "--name", name, "--cache-dir", str(self.dir / f"cache-{name}")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, cwd=self.dir)
        self.agents[name] = proc
        self.wait_for_resource(f"edgebench-{profile_path.stem}")
        return proc

    def wait_for_resource(self, resource: str, timeout_s: float = 30) -> None:
        from distributed import Client

        deadline = time.monotonic() + timeout_s
        with Client(self.address, set_as_default=False, timeout="10s") as client:
            while time.monotonic() < deadline:
                workers = client.scheduler_info(n_workers=-1)["workers"].values()
                if any(resource in (w.get("resources") or {}) for w in workers):
                    return
                time.sleep(0.1)
        raise RuntimeError(f"no agent offered {resource} within {timeout_s} s")

    def kill_agent(self, name: str) -> None:
        kill_tree(self.agents.pop(name))

    def stop(self) -> None:
        for name in list(self.agents):
            self.kill_agent(name)
        if self.scheduler is not None:
            kill_tree(self.scheduler)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory):
    cluster = DaskCluster(tmp_path_factory.mktemp("dask"))
    cluster.start()
    yield cluster
    cluster.stop()

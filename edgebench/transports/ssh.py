"""The SSH transport: run each case in a fresh worker process on a device reached over SSH (asyncssh).

Profile::

    [transport]
    kind = "ssh"
    host = "jetson.lab"            # required
    port = 22
    user = "ubuntu"                # default: your local user name
    key_file = "~/.ssh/id_ed25519" # default: your default keys and ssh-agent
    agent = true                   # use ssh-agent ($SSH_AUTH_SOCK)
    password_env = "JETSON_PW"     # the password is read from this environment variable, never from the file
    known_hosts = "~/.ssh/known_hosts"   # host key policy: known_hosts (default) ...
    host_key = "ssh-ed25519 AAAA..."     # ... or a pinned key (then known_hosts is not read)
    connect_timeout_s = 10
    retries = 3                    # a dropped connection is retried this many times ...
    retry_backoff_s = 2.0          # ... after 2, 4, 8 s
    keepalive_s = 15               # a silent connection is declared dead after 3 missed keepalives
    python = "python3"             # the interpreter on the device (3.8 or newer)
    remote_dir = ".cache/edgebench"     # relative to the remote home: agent/ and models/<sha256>/

Deploy: the agent zipapp (``agent_bundle``) goes to ``remote_dir/agent/``, each model to
``remote_dir/models/<sha256>/<file>`` and each inputs' data file to ``remote_dir/data/<sha256>/<file>``, all
skipped when already there; every upload lands under a temporary name
and is renamed into place, so an interrupted copy is never used. Every remote command is an argument list joined
with ``shlex.join``.

Errors: an unknown or changed host key, an authentication failure and a missing Python are not retried, nor is a
wrong address: a host name that does not resolve, or a port that refuses the first connection, is one line naming
the host, the port and where each comes from (``[transport] host`` in the profile, or ``--host``). A timed-out
or dropped connection, or one refused after the device answered once (a reboot), is retried with backoff, and
after the last retry the running case is reported ``lost`` (``edgebench run --resume DIR`` continues). A worker
killed on the device is a ``failed`` case.
"""

from __future__ import annotations

import asyncio
import errno
import getpass
import json
import logging
import os
import shlex
import signal
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, TypeVar

from edgebench.config.fields import MAX_SECONDS, check_number
from edgebench.config.profile import DeviceProfile
from edgebench.errors import ConfigError, ModelMismatchError
from edgebench.optional import require
from edgebench.transports import agent_bundle
from edgebench.transports.base import Transport, TransportError, crashed_result, error_line, find_result, stderr_tail
from edgebench.transports.local import case_timeout_s
from edgebench.wire import Case

if TYPE_CHECKING:
    from edgebench.system.ops import PrepareConfig

log = logging.getLogger("edgebench.ssh")
T = TypeVar("T")

_KEYS = ("host", "port", "user", "key_file", "agent", "password_env", "passphrase_env", "known_hosts", "host_key",
         "connect_timeout_s", "retries", "retry_backoff_s", "keepalive_s", "python", "remote_dir")


@dataclass(frozen=True)
class SSHOptions:
    host: str
    port: int = 22
    user: str = ""
    key_file: str | None = None
    agent: bool = True
    password_env: str | None = None
    passphrase_env: str | None = None
    known_hosts: str = "~/.ssh/known_hosts"
    host_key: str | None = None
    connect_timeout_s: float = 10.0
    retries: int = 3
    retry_backoff_s: float = 2.0
    keepalive_s: float = 15.0
    python: str = "python3"
    remote_dir: str = ".cache/edgebench"
    #: the profile file, and the keys the command line set instead (``host`` -> ``--host``), for messages
    source: str = field(default="", compare=False)
    overrides: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def parse(cls, options: Mapping[str, Any], source: str,
              overrides: Mapping[str, str] | None = None) -> SSHOptions:
        """``overrides``: the keys the command line set (``host`` -> ``--host``); an error in one names it."""
        overrides = dict(overrides or {})

        def bad(key: str, problem: str) -> ConfigError:
            if key in overrides:
                return ConfigError(overrides[key], "", problem)
            return ConfigError(source, f"transport.{key}", problem)

        for key in options:
            if key == "password" or key == "passphrase":
                raise bad(key, f"a password is never written in a profile: export it in an environment variable "
                               f"and name that variable with {key}_env = \"...\"")
            if key not in _KEYS:
                raise bad(key, f"unknown key for the ssh transport (known: {', '.join(_KEYS)})")

        def get(key: str, typ: type | tuple[type, ...], default: Any) -> Any:
            value = options.get(key, default)
            if value is None:
                return None
            if isinstance(value, bool) and bool not in (typ if isinstance(typ, tuple) else (typ,)):
                raise bad(key, f"expected {_name(typ)}, got {value!r}")
            if not isinstance(value, typ):
                raise bad(key, f"expected {_name(typ)}, got {value!r}")
            return value

        if "host" not in options:
            raise bad("host", "missing required key (the device's host name or address)")
        host = get("host", str, None)
        if not host or host.startswith("-") or any(c.isspace() for c in host):
            raise bad("host", f"not a host name: {host!r}")
        port = get("port", int, 22)
        if not 0 < port < 65536:
            raise bad("port", f"must be 1..65535, got {port}")
        numbers = {}
        for key, default, minimum in (("connect_timeout_s", 10.0, 0.1), ("retry_backoff_s", 2.0, 0.0),
                                      ("keepalive_s", 15.0, 0.0)):
            value = get(key, (int, float), default)
            numbers[key] = float(check_number(value, source, f"transport.{key}", minimum, MAX_SECONDS))
        retries = check_number(get("retries", int, 3), source, "transport.retries", 0, 100)
        host_key = get("host_key", str, None)
        if host_key is not None:
            asyncssh = require("asyncssh", "the SSH transport")
            try:
                asyncssh.import_public_key(host_key)
            except (ValueError, asyncssh.KeyImportError) as exc:
                raise bad("host_key", f"not an OpenSSH public key line (\"ssh-ed25519 AAAA...\"): {exc}") from None
        for key in ("password_env", "passphrase_env"):
            name = get(key, str, None)
            if name is not None and not name.replace("_", "a").isalnum():
                raise bad(key, f"expected the name of an environment variable, got {name!r}")
        remote_dir = get("remote_dir", str, ".cache/edgebench")
        if remote_dir.startswith("~/"):
            remote_dir = remote_dir[2:]  # SFTP and the remote shell both start in the home directory
        if not remote_dir or ".." in Path(remote_dir).parts:
            raise bad("remote_dir", f"expected a directory (relative to the remote home, or absolute), "
                                    f"got {remote_dir!r}")
        return cls(
            host=host, port=port, user=get("user", str, "") or getpass.getuser(),
            key_file=get("key_file", str, None), agent=get("agent", bool, True),
            password_env=options.get("password_env"), passphrase_env=options.get("passphrase_env"),
            known_hosts=get("known_hosts", str, "~/.ssh/known_hosts"), host_key=host_key,
            retries=retries, python=get("python", str, "python3"), remote_dir=remote_dir.rstrip("/"),
            source=source, overrides=overrides, **numbers)

    @property
    def target(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    @property
    def where_address(self) -> str:
        """``check [transport] host and port in jetson.toml (or give the address with --host ADDR)``, naming the
        command-line options instead of the keys where they were given."""
        flags = [self.overrides[k] for k in ("host", "port") if k in self.overrides]
        keys = [k for k in ("host", "port") if k not in self.overrides]
        places = flags + ([f"[transport] {' and '.join(keys)} in {self.source}"] if keys else [])
        hint = "" if "host" in self.overrides else " (or give the address with --host ADDR)"
        return f"check {' and '.join(places)}{hint}"

    @property
    def known_hosts_path(self) -> Path:
        return Path(os.path.expanduser(self.known_hosts))


def _name(typ: type | tuple[type, ...]) -> str:
    types = typ if isinstance(typ, tuple) else (typ,)
    return " or ".join({int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(t, t.__name__)
                       for t in types)


class _Fatal(Exception):
    """Not worth retrying (host key, authentication, no Python): becomes a TransportError at once."""


class SSHTransport(Transport):
    def __init__(self, profile: DeviceProfile) -> None:
        super().__init__(profile)
        require("asyncssh", "the SSH transport")  # one line naming the extra, before anything starts
        self.options = SSHOptions.parse(profile.transport.options, str(profile.path), profile.transport.overrides)
        self.device = profile.name
        self._conn: Any = None
        self._agent_path: str | None = None
        self._models: dict[str, str] = {}
        self._data: dict[str, str] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"ssh-{self.device}", daemon=True)
        self._thread.start()
        #: how many times the connection was re-established (recorded with each result)
        self.reconnects = 0
        #: a device that never answered has a wrong address, not a dropped connection: not retried
        self._connected_once = False

    # -- the sync face ----------------------------------------------------------------------------------
    def _call(self, coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()  # type: ignore[arg-type]

    def probe(self) -> dict[str, Any]:
        found = self._call(self._with_retries("probing the device", self._probe))
        found.setdefault("transport", {}).update({"kind": "ssh", "target": self.options.target,
                                                  "agent": self._agent_path})
        return found

    def prepare(self, cases: list[Case]) -> None:
        async def push(conn: Any) -> None:
            await self._ensure_agent(conn)
            for case in cases:
                await self._ensure_model(conn, case)
                await self._ensure_data(conn, case)

        self._call(self._with_retries("copying models and data files to the device", push))

    def run_case(self, case: Case) -> dict[str, Any]:
        return self._call(self._with_retries(f"case {case.case_id}", lambda conn: self._run_case(conn, case)))

    def system(self, action: str, prepare: PrepareConfig, root: str | None = None) -> dict[str, Any]:
        """``edgebench system show|tune|reset`` on the device, through the agent, on the device's / (``root``, a
        copied tree on this machine, does not apply there)."""
        async def call(conn: Any) -> dict[str, Any]:
            agent = await self._ensure_agent(conn)
            argv = [self.options.python, agent, "system", action, "--prepare", json.dumps(prepare.to_json()),
                    "--state", f"{self.options.remote_dir}/system-state.json"]
            done = await conn.run(shlex.join(argv), check=False, timeout=600)
            found = find_result(str(done.stdout or "").splitlines())
            if found is None:
                raise _Fatal(f"system {action} failed: {stderr_tail(str(done.stderr or ''), 1)}")
            return found

        return self._call(self._with_retries(f"system {action}", call))

    def sensors(self) -> dict[str, str | None]:
        """Which sensors can read on the device (None) and why the others cannot, under the profile's sensor root
        and with its per-sensor options (a sensor's own ``root``), as a run on the device reads them."""
        sensors = self.profile.sensors
        options = {name: dict(values) for name, values in sensors.options.items()}

        async def call(conn: Any) -> dict[str, Any]:
            agent = await self._ensure_agent(conn)
            argv = [self.options.python, agent, "system", "sensors", sensors.root, json.dumps(options)]
            done = await conn.run(shlex.join(argv), check=False, timeout=120)
            return find_result(str(done.stdout or "").splitlines()) or {}

        return self._call(self._with_retries("listing sensors", call))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._call(self._drop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    # -- connection ---------------------------------------------------------------------------------------
    async def _with_retries(self, what: str, operation: Callable[[Any], Awaitable[T]]) -> T:
        import asyncssh

        attempt = 0
        while True:
            try:
                conn = await self._connection()
                return await operation(conn)
            except _Fatal as exc:
                raise TransportError(f"{self.device}: {what}: {exc}") from None
            except (OSError, asyncio.TimeoutError, asyncssh.Error, EOFError) as exc:
                await self._drop()
                reason = _reason(exc)
                if attempt >= self.options.retries:
                    tries = f" (gave up after {attempt} retr{'y' if attempt == 1 else 'ies'})" if attempt else ""
                    if not self._connected_once:  # never reached: an address to check, not a drop
                        raise TransportError(f"{self.device}: {what}: "
                                             f"{self._address_line(reason + tries)}") from None
                    raise TransportError(f"{self.device}: {what}: connection to {self.options.target} lost: "
                                         f"{reason}{tries}") from None
                delay = self.options.retry_backoff_s * (2 ** attempt)
                attempt += 1
                log.warning("edgebench: %s: %s: %s; retry %d/%d in %.1f s", self.device, what, reason, attempt,
                            self.options.retries, delay)
                await asyncio.sleep(delay)
                self.reconnects += 1

    async def _connection(self) -> Any:
        if self._conn is None:
            self._conn = await self._connect()
            self._connected_once = True
        return self._conn

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            try:
                await asyncio.wait_for(conn.wait_closed(), 2)
            except (asyncio.TimeoutError, OSError, Exception):  # already dead: nothing to wait for
                pass

    def _known_hosts(self) -> Any:
        import asyncssh

        opts = self.options
        if opts.host_key:
            return ([asyncssh.import_public_key(opts.host_key)], [], [])
        path = opts.known_hosts_path
        if not path.is_file():
            return ([], [], [])  # nothing trusted: refused below with the way to accept the key
        return asyncssh.read_known_hosts(str(path))

    async def _connect(self) -> Any:
        import asyncssh

        opts = self.options
        kwargs: dict[str, Any] = {
            "host": opts.host, "port": opts.port, "username": opts.user, "known_hosts": self._known_hosts(),
            "connect_timeout": opts.connect_timeout_s, "login_timeout": max(opts.connect_timeout_s, 10.0),
            "keepalive_interval": opts.keepalive_s or None, "keepalive_count_max": 3,
        }
        if opts.key_file:
            kwargs["client_keys"] = [os.path.expanduser(opts.key_file)]
        if not opts.agent:
            kwargs["agent_path"] = None
        password = os.environ.get(opts.password_env) if opts.password_env else None
        if opts.password_env and password is None:
            raise _Fatal(f"environment variable {opts.password_env} (transport.password_env) is not set")
        if password is not None:
            kwargs["password"] = password
        else:
            kwargs["password_auth"] = False
            kwargs["kbdint_auth"] = False
        if opts.passphrase_env:
            kwargs["passphrase"] = os.environ.get(opts.passphrase_env)
        try:
            return await asyncssh.connect(**kwargs)
        except OSError as exc:
            problem = address_problem(exc)
            if problem is None or self._connected_once:
                raise  # a timeout, or a device that answered before and may be rebooting: retried
            raise _Fatal(self._address_line(problem)) from None
        except asyncssh.HostKeyNotVerifiable:
            raise _Fatal(await self._host_key_problem()) from None
        except asyncssh.PermissionDenied:
            tried = ", ".join(
                ([f"key {opts.key_file}"] if opts.key_file else ["default keys"])
                + (["ssh-agent"] if opts.agent and os.environ.get("SSH_AUTH_SOCK") else [])
                + ([f"password from ${opts.password_env}"] if password is not None else []))
            raise _Fatal(f"authentication failed for {opts.target} (tried {tried}); check [transport] user, "
                         f"key_file and that the public key is in the device's ~/.ssh/authorized_keys") from None
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
            raise _Fatal(f"cannot use key file {opts.key_file}: {exc}") from None
        except FileNotFoundError as exc:
            raise _Fatal(f"key file not found: {exc.filename}") from None

    def _address_line(self, problem: str) -> str:
        """``cannot reach H port P: <problem>; check [transport] host and port in FILE`` (or ``--host``, ``--port``
        where the command line gave them): what to fix, and where."""
        return f"cannot reach {self.options.host} port {self.options.port}: {problem}; {self.options.where_address}"

    async def _host_key_problem(self) -> str:
        """Unknown or changed host key: say which, what the device presented, and how to accept it."""
        import asyncssh

        opts = self.options
        try:
            key = await asyncio.wait_for(asyncssh.get_server_host_key(opts.host, opts.port),
                                         timeout=opts.connect_timeout_s)
            if key is None:
                raise ValueError("no host key presented")
            presented = f"{key.get_algorithm()} {key.get_fingerprint()}"
            line = key.export_public_key().decode().strip()
        except Exception:  # noqa: BLE001 - only for the message
            presented, line = "a key", "<the device's public key>"
        entry = opts.host if opts.port == 22 else f"[{opts.host}]:{opts.port}"
        scan = f"ssh-keyscan -p {opts.port} {shlex.quote(opts.host)} >> {opts.known_hosts}"
        if opts.host_key:
            return (f"host key of {opts.host}:{opts.port} does not match the key pinned in the profile "
                    f"(transport.host_key): it presented {presented}; refused. If the device was reinstalled, "
                    f"pin its new key: host_key = \"{line}\"")
        known = False
        if opts.known_hosts_path.is_file():
            try:
                known = bool(asyncssh.read_known_hosts(str(opts.known_hosts_path)).match(
                    opts.host, opts.host, opts.port)[0])
            except Exception:  # noqa: BLE001
                known = False
        if known:
            return (f"HOST KEY CHANGED for {opts.host}:{opts.port}: it presented {presented}, not the key recorded "
                    f"in {opts.known_hosts}; refused (a reinstalled device, or someone in between). If the device "
                    f"was reinstalled: ssh-keygen -R '{entry}' -f {opts.known_hosts} && {scan}")
        return (f"host key of {opts.host}:{opts.port} is unknown ({presented}, not in {opts.known_hosts}); "
                f"refused. If that is the device's key, accept it with: {scan}  "
                f"(or pin it in the profile: [transport] host_key = \"{line}\")")

    # -- deploy -------------------------------------------------------------------------------------------
    async def _ensure_agent(self, conn: Any) -> str:
        if self._agent_path is not None:
            return self._agent_path
        opts = self.options
        check = [opts.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        done = await conn.run(shlex.join(check), check=False, timeout=60)
        version = str(done.stdout or "").strip()
        if done.exit_status != 0 or not version:
            raise _Fatal(f"cannot run {opts.python} on {opts.host}: {stderr_tail(str(done.stderr or ''), 1)} "
                         f"(set [transport] python to the device's Python 3 interpreter)")
        major, minor = (int(x) for x in version.split(".")[:2])
        if (major, minor) < agent_bundle.MIN_PYTHON:
            need = ".".join(map(str, agent_bundle.MIN_PYTHON))
            raise _Fatal(f"{opts.python} on {opts.host} is Python {version}; the agent needs {need} or newer "
                         f"(install one and set [transport] python)")
        local = agent_bundle.build()
        remote = f"{opts.remote_dir}/agent/{local.name}"
        await self._put(conn, local, remote)
        self._agent_path = remote
        return remote

    async def _ensure_file(self, conn: Any, kind: str, sha256: str, local: Path) -> str:
        """The remote copy of ``local`` under ``remote_dir/<kind>/<sha256>/``, sent once per session."""
        sent = self._models if kind == "models" else self._data
        if sha256 not in sent:
            remote = f"{self.options.remote_dir}/{kind}/{sha256}/{local.name}"
            await self._put(conn, local, remote)
            sent[sha256] = remote
        return sent[sha256]

    async def _ensure_model(self, conn: Any, case: Case) -> str:
        return await self._ensure_file(conn, "models", case.model_sha256, Path(case.model_path))

    async def _ensure_data(self, conn: Any, case: Case) -> Case:
        """The case with its inputs' data files at their copies under ``remote_dir/data/<sha256>/``."""
        paths = {data["sha256"]: await self._ensure_file(conn, "data", data["sha256"], Path(data["path"]))
                 for data in case.data_files}
        return case.with_data_paths(paths) if paths else case

    async def _put(self, conn: Any, local: Path, remote: str) -> None:
        """Copy ``local`` to ``remote`` unless it is there; a partial copy never has the final name."""
        async with conn.start_sftp_client() as sftp:
            if await sftp.exists(remote):
                return
            await sftp.makedirs(remote.rsplit("/", 1)[0], exist_ok=True)
            tmp = f"{remote}.part-{os.getpid()}-{int(time.time() * 1000)}"
            await sftp.put(str(local), tmp)
            try:
                await sftp.posix_rename(tmp, remote)
            except Exception:  # noqa: BLE001 - a server without the posix-rename extension
                await sftp.rename(tmp, remote)

    # -- run ----------------------------------------------------------------------------------------------
    async def _probe(self, conn: Any) -> dict[str, Any]:
        agent = await self._ensure_agent(conn)
        done = await conn.run(shlex.join([self.options.python, agent, "probe"]), check=False, timeout=120)
        _raise_if_cut(done)
        found = find_result(str(done.stdout or "").splitlines())
        if found is None:
            tail = stderr_tail(str(done.stderr or ""), 3).replace("\n", " | ")
            raise _Fatal(f"the agent's probe failed: {tail}")
        return found

    async def _run_case(self, conn: Any, case: Case) -> dict[str, Any]:
        import asyncssh

        from edgebench.digest import sha256_of

        result = await self._run_once(conn, case)
        mismatch = str(result.get("error") or "").startswith(ModelMismatchError.__name__)
        if not (mismatch and case.model_sha256 in self._models):
            return result
        if sha256_of(Path(case.model_path)) != case.model_sha256:
            return result  # the file here changed since the run began: sending it again would not help
        # the device's cached copy is not the planned bytes (a bad disk, an edit): replace it once
        remote = self._models.pop(case.model_sha256)
        log.warning("edgebench: %s: %s on the device is corrupt; sending it again", self.device, remote)
        try:
            async with conn.start_sftp_client() as sftp:
                await sftp.remove(remote)
        except asyncssh.SFTPError as exc:
            result["error"] = f"{result['error']} (and removing it on {self.device} failed: {exc})"
            return result
        return await self._run_once(conn, case)

    async def _run_once(self, conn: Any, case: Case) -> dict[str, Any]:
        import asyncssh

        agent = await self._ensure_agent(conn)
        remote_model = await self._ensure_model(conn, case)
        remote_case = replace(await self._ensure_data(conn, case), model_path=remote_model)
        timeout = case_timeout_s(case)
        argv = [self.options.python, agent, "worker", "--timeout", str(int(timeout))]
        started = time.time()
        try:
            done = await conn.run(shlex.join(argv), input=json.dumps(remote_case.to_json()), check=False,
                                  timeout=timeout + 30)
        except asyncssh.TimeoutError as exc:
            result = crashed_result(case, -9, str(exc.stderr or ""), started, time.time())
            result["error"] = f"worker on {self.options.host} did not answer within {timeout + 30:.0f} s"
            return result
        _raise_if_cut(done)
        stdout, stderr = str(done.stdout or ""), str(done.stderr or "")
        found = find_result(stdout.splitlines())
        if found is None:
            code = _returncode(done)
            result = crashed_result(case, code, stderr, started, time.time())
            if code == -signal.SIGALRM or time.time() - started >= timeout:
                result["error"] = f"worker timed out after {timeout:.0f} s and was killed"
            result["error"] = f"{result['error']} (on {self.device})"
            return result
        if stderr.strip():
            found["stderr_tail"] = stderr_tail(stderr)
        found.setdefault("transport", {"kind": "ssh", "target": self.options.target,
                                       "reconnects": self.reconnects})
        return found


def _returncode(done: Any) -> int:
    if done.exit_signal:
        name = str(done.exit_signal[0])
        try:
            return -signal.Signals[name if name.startswith("SIG") else f"SIG{name}"].value
        except (KeyError, ValueError):
            return -1
    return int(done.exit_status if done.exit_status is not None else -1)


def _raise_if_cut(done: Any) -> None:
    """A process that ended with neither an exit status nor a signal lost its connection."""
    import asyncssh

    if done.exit_status is None and not done.exit_signal:
        raise asyncssh.ConnectionLost("the connection closed before the remote command finished")


def address_problem(exc: OSError) -> str | None:
    """What a failed first connection says about the address: the name does not resolve, or nothing listens
    on that port; None for the rest (timeouts, unreachable networks), which a retry may cure."""
    if isinstance(exc, socket.gaierror):
        return f"the host name does not resolve ({exc.strerror or exc})"
    text = str(exc)
    refused = isinstance(exc, ConnectionRefusedError) or (
        # asyncio's "Multiple exceptions: ..." when every address of a name (IPv4 and IPv6) refused
        exc.errno is None and text.startswith("Multiple exceptions") and text.count(f"[Errno {errno.ECONNREFUSED}]")
        == text.count("[Errno"))
    if refused:
        return "connection refused (no SSH server listens on that port, or a firewall rejects it)"
    return None


def _reason(exc: BaseException) -> str:
    return "timed out" if isinstance(exc, asyncio.TimeoutError) else error_line(exc)

"""A farm of devices on Dask: one Dask worker per device, a resource per device profile, one case at a time.

On each device (or on a lab host in front of it)::

    edgebench agent --scheduler tcp://SCHED:8786 --profile jetson-nano

starts a Dask worker offering one unit of the resource ``edgebench-jetson-nano``. Every case of that profile
asks for that unit, so the scheduler never runs two cases at once on one device. On the worker a case runs as
the agent's profile says (a fresh local worker process by default; the profile's own transport otherwise).

Profile, to run a single device through the cluster (``edgebench run --profile P``)::

    [transport]
    kind = "dask"
    scheduler = "tcp://sched.lab:8786"
    retries = 2                 # a case whose task raised is submitted again this many times
    no_worker_timeout_s = 60    # a profile with no worker fails after this long instead of waiting forever
    connect_timeout_s = 10
    resource = "edgebench-jetson-nano"   # default: edgebench-<profile name>

``edgebench run --cluster tcp://SCHED:8786 --profile A --profile B`` runs every profile's cases in one run
directory (``edgebench.harness.runner.start_farm``). Models travel by sha256: a case carries only the model's
sha256; a worker whose cache (``~/.cache/edgebench/models/<sha256>/``) lacks it answers ``{"model_missing": ...}``
(a normal return, not a raised error: an expected miss must not log a traceback in the agent) and the case is
sent again with the bytes, which the worker checks and caches. The inputs' data files (``models[].inputs.NAME.data``)
travel the same way, in the same cache. (Not Dask's scattered data: that is lost
with the worker holding it.)
Results come back as plain JSON dicts. A worker that dies while running a case: Dask gives the case to the next
worker offering the device's resource (a restarted agent); if none comes within ``no_worker_timeout_s`` the
case is recorded ``lost`` (``--resume`` runs it later).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from edgebench.config.fields import MAX_SECONDS, check_number
from edgebench.config.models import default_cache_dir
from edgebench.config.profile import DeviceProfile
from edgebench.digest import sha256_of
from edgebench.errors import ConfigError
from edgebench.files import atomic_write
from edgebench.optional import require
from edgebench.transports.base import NotSupportedError, Transport, TransportError, error_line
from edgebench.wire import Case

if TYPE_CHECKING:
    from edgebench.system.ops import PrepareConfig

#: the profiles ``edgebench agent`` serves in this process: resource name -> profile
AGENT_PROFILES: dict[str, DeviceProfile] = {}
#: where the agent keeps models (set by ``edgebench agent --cache-dir``)
AGENT_CACHE: list[Path] = []
POLL_S = 0.2


def resource_name(profile_name: str) -> str:
    return "edgebench-" + re.sub(r"[^A-Za-z0-9_.-]", "_", profile_name)


def profile_argument(profile: DeviceProfile) -> str:
    """How to name ``profile`` on a command line: its name when that finds this same file (a shipped profile),
    else the path it was loaded from (``--profile lab/nano.toml``), which the name alone would not find."""
    from edgebench.config.locate import locate

    try:
        if locate(profile.name, "device_profiles") == profile.path.resolve():
            return profile.name
    except ConfigError:
        pass
    return str(profile.path)


def device_of(case_id: str, default: str) -> str:
    """Farm case ids end with ``@<profile>``."""
    return case_id.rsplit("@", 1)[1] if "@" in case_id else default


@dataclass(frozen=True)
class DaskOptions:
    scheduler: str
    resource: str
    retries: int = 2
    no_worker_timeout_s: float = 60.0
    connect_timeout_s: float = 10.0

    @classmethod
    def parse(cls, options: Mapping[str, Any], source: str, profile_name: str,
              scheduler: str | None = None) -> DaskOptions:
        def bad(key: str, problem: str) -> ConfigError:
            return ConfigError(source, f"transport.{key}", problem)

        known = ("scheduler", "resource", "retries", "no_worker_timeout_s", "connect_timeout_s")
        for key in options:
            if key not in known:
                raise bad(key, f"unknown key for the dask transport (known: {', '.join(known)})")
        address = scheduler or options.get("scheduler")
        if not isinstance(address, str) or not re.match(r"^(tcp|tls|inproc|ws|wss)://[^\s/]+$", address):
            raise bad("scheduler", f"expected a scheduler address such as \"tcp://host:8786\", got {address!r}")
        values: dict[str, Any] = {}
        for key, default, minimum in (("no_worker_timeout_s", 60.0, 0.1), ("connect_timeout_s", 10.0, 0.1)):
            values[key] = float(check_number(options.get(key, default), source, f"transport.{key}", minimum,
                                             MAX_SECONDS))
        retries = options.get("retries", 2)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 100:
            raise bad("retries", f"expected an integer 0..100, got {retries!r}")
        resource = options.get("resource", resource_name(profile_name))
        if not isinstance(resource, str) or not re.match(r"^[A-Za-z0-9_.-]+$", resource):
            raise bad("resource", f"expected a resource name (letters, digits, _ . -), got {resource!r}")
        return cls(address, resource, retries, **values)

    @classmethod
    def for_profile(cls, profile: DeviceProfile, scheduler: str | None = None) -> DaskOptions:
        """The profile's ``[transport]`` when it is a dask one, else the defaults with ``--cluster``."""
        options = profile.transport.options if profile.transport.kind == "dask" else {}
        return cls.parse(options, str(profile.path), profile.name, scheduler)


# -- on the worker ------------------------------------------------------------------------------------------
def cache_dir() -> Path:
    return AGENT_CACHE[-1] if AGENT_CACHE else default_cache_dir()


class ModelMissing(Exception):
    """The worker's cache lacks the model: the client sends the case again with the model's bytes."""


def cache_model(sha256: str, name: str, data: bytes | None) -> Path:
    """The model's path in the worker's cache, written (checked, atomically) only when it is not there."""
    target = cache_dir() / sha256 / name
    if target.is_file():
        if sha256_of(target) == sha256:
            return target
        target.unlink()  # a corrupt copy (a bad disk, an edit): fetched again, never measured
    if data is None:
        raise ModelMissing(f"model {name} ({sha256[:12]}) is not in {cache_dir()}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ValueError(f"model {name}: received bytes have sha256 {digest}, expected {sha256}")
    atomic_write(target, data)
    return target


def _device_transport(resource: str, device: str) -> Transport:
    profile = AGENT_PROFILES.get(resource)
    if profile is not None and profile.transport.kind not in ("dask",):
        from edgebench.transports import make_transport

        return make_transport(profile)
    from edgebench.transports.local import LocalTransport

    return LocalTransport(profile or _placeholder_profile(device))


def _placeholder_profile(name: str) -> DeviceProfile:
    from edgebench.config.profile import parse_profile

    return parse_profile({"name": name}, Path(f"<dask worker for {name}>"))


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return None


def probe_task(resource: str, device: str) -> dict[str, Any]:
    with _device_transport(resource, device) as transport:
        found = transport.probe()
    found["dask_worker"] = _worker_address()
    return found


def run_case_task(case_json: dict[str, Any], model: bytes | None, resource: str, device: str,
                  data_files: dict[str, bytes] | None = None) -> dict[str, Any]:
    """One case on the worker's device: plain JSON in, plain JSON out. A model or data file the cache lacks is
    answered ``{"model_missing": why}``: the client sends the case again with the bytes. ``data_files``: the bytes
    of the inputs' data files by sha256, sent with the model (cached the same way)."""
    case = Case.from_json(case_json)
    try:
        path = cache_model(case.model_sha256, Path(case.model_path).name, model)
        paths = {data["sha256"]: str(cache_model(data["sha256"], Path(data["path"]).name,
                                                 (data_files or {}).get(data["sha256"])))
                 for data in case.data_files}
    except ModelMissing as exc:
        return {"case_id": case.case_id, "model_missing": str(exc), "dask_worker": _worker_address()}
    with _device_transport(resource, device) as transport:
        result = transport.run_case(replace(case.with_data_paths(paths), model_path=str(path)))
    result["case_id"] = case.case_id
    result["device"] = device
    result["dask_worker"] = _worker_address()
    return result


# -- on the client ------------------------------------------------------------------------------------------
class DaskTransport(Transport):
    """Cases of one or several device profiles on a Dask cluster; ``run_cases`` keeps every device busy."""

    def __init__(self, profile: DeviceProfile, scheduler: str | None = None,
                 profiles: list[DeviceProfile] | None = None) -> None:
        super().__init__(profile)
        require("distributed", "a farm run (the dask transport)")  # before anything is planned or written
        self.profiles = {p.name: p for p in (profiles or [profile])}
        self.options = {name: DaskOptions.for_profile(p, scheduler) for name, p in self.profiles.items()}
        self.scheduler = self.options[profile.name].scheduler
        self._client: Any = None
        #: the bytes of models and data files sent to workers that lack them, by sha256
        self._files: dict[str, bytes] = {}

    def client(self) -> Any:
        if self._client is None:
            Client = require("distributed", "a farm run (the dask transport)").Client
            timeout = max(o.connect_timeout_s for o in self.options.values())
            try:
                self._client = Client(self.scheduler, timeout=f"{timeout}s", set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise TransportError(f"cannot reach the Dask scheduler {self.scheduler}: {exc}") from None
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def offered_resources(self) -> set[str]:
        """The resources the cluster's workers offer now (one scheduler round trip)."""
        info = self.client().scheduler_info(n_workers=-1)
        return {r for w in info.get("workers", {}).values() for r in (w.get("resources") or {})}

    def _no_worker(self, device: str) -> str:
        o = self.options[device]
        return (f"{device}: no Dask worker offers resource {o.resource} on {self.scheduler} within "
                f"{o.no_worker_timeout_s:g} s; start one on the device: "
                f"edgebench agent --scheduler {self.scheduler} --profile {profile_argument(self.profiles[device])}")

    def probe(self) -> dict[str, Any]:
        return self.probe_device(self.profile.name)

    def probe_device(self, device: str) -> dict[str, Any]:
        o = self.options[device]
        client = self.client()
        future = client.submit(probe_task, o.resource, device, resources={o.resource: 1}, pure=False,
                               key=f"edgebench-probe-{device}-{uuid.uuid4().hex[:8]}")
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        deadline = time.monotonic() + o.no_worker_timeout_s
        last_check = 0.0
        while not done.wait(POLL_S):
            now = time.monotonic()
            if now > deadline and now - last_check >= 1.0:  # past the deadline, ask the scheduler once a second
                last_check = now
                if o.resource not in self.offered_resources():
                    future.cancel()
                    raise TransportError(self._no_worker(device))
        if future.status != "finished":
            raise TransportError(f"{device}: probe failed on the Dask worker: {error_line(future.exception())}")
        return future.result()

    def system(self, action: str, prepare: PrepareConfig, root: str | None = None) -> dict[str, Any]:
        """Not over the farm: the Dask worker runs cases, not the device's tuning (which may need root there)."""
        raise NotSupportedError(f"{self.profile.name}: `edgebench system` needs a local or ssh profile; on a farm, "
                                f"run it on the device itself")

    def _file_bytes(self, sha256: str, path: str) -> bytes:
        if sha256 not in self._files:
            self._files[sha256] = Path(path).read_bytes()
        return self._files[sha256]

    def run_case(self, case: Case) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        self.run_cases([case], lambda c: None, lambda c, r: results.append(r))
        return results[0]

    def run_cases(self, cases: list[Case], on_start: Callable[[Case], None],
                  on_result: Callable[[Case, dict[str, Any]], None]) -> None:
        client = self.client()
        attempts: dict[str, int] = {}
        finished = threading.Event()
        pending: dict[Any, Case] = {}

        def submit(case: Case, with_model: bool = False) -> None:
            device = device_of(case.case_id, self.profile.name)
            o = self.options[device]
            if not with_model:
                attempts[case.case_id] = attempts.get(case.case_id, 0) + 1
            model = self._file_bytes(case.model_sha256, case.model_path) if with_model else None
            data = ({d["sha256"]: self._file_bytes(d["sha256"], d["path"]) for d in case.data_files}
                    if with_model else None)
            future = client.submit(run_case_task, case.to_json(), model, o.resource,
                                   device, data, resources={o.resource: 1}, pure=False,
                                   key=f"edgebench-{uuid.uuid4().hex[:12]}")
            pending[future] = case
            future.add_done_callback(lambda _: finished.set())

        for case in cases:
            submit(case)
            on_start(case)
        missing_since: dict[str, float] = {}
        last_check = 0.0
        try:
            while pending:
                finished.wait(POLL_S)
                finished.clear()
                for future in [f for f in pending if f.done()]:
                    case = pending.pop(future)
                    if future.status == "finished":
                        result = future.result()
                        if result.get("model_missing") and not result.get("status"):
                            submit(case, with_model=True)
                        else:
                            on_result(case, result)
                        continue
                    exc = future.exception() if future.status == "error" else None
                    if isinstance(exc, ModelMissing):  # an agent of an older edgebench raises it
                        submit(case, with_model=True)
                        continue
                    error = error_line(exc) if exc is not None else future.status
                    device = device_of(case.case_id, self.profile.name)
                    if attempts[case.case_id] <= self.options[device].retries:
                        submit(case)
                        continue
                    now = time.time()
                    on_result(case, {"case_id": case.case_id, "status": "failed", "batch": case.batch,
                                     "error": f"{device}: the Dask task failed {attempts[case.case_id]} time(s): "
                                              f"{error}", "started_at": now, "finished_at": now, "device": device})
                if time.monotonic() - last_check >= 1.0 and pending:
                    last_check = time.monotonic()
                    self._fail_devices_without_worker(pending, missing_since, on_result)
        finally:
            for future in pending:
                future.cancel()

    def _fail_devices_without_worker(self, pending: dict[Any, Case], missing_since: dict[str, float],
                                     on_result: Callable[[Case, dict[str, Any]], None]) -> None:
        devices = {device_of(c.case_id, self.profile.name) for c in pending.values()}
        now = time.monotonic()
        offered = self.offered_resources()
        for device in devices:
            o = self.options[device]
            if o.resource in offered:
                missing_since.pop(device, None)
                continue
            since = missing_since.setdefault(device, now)
            if now - since < o.no_worker_timeout_s:
                continue
            message = self._no_worker(device)
            for future, case in list(pending.items()):
                if device_of(case.case_id, self.profile.name) == device:
                    future.cancel()
                    del pending[future]
                    stamp = time.time()
                    on_result(case, {"case_id": case.case_id, "status": "lost", "batch": case.batch,
                                     "error": message, "started_at": stamp, "finished_at": stamp, "device": device})

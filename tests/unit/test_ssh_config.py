"""The ssh transport's [transport] table: parsed into a frozen dataclass, errors name file and key."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from edgebench.errors import ConfigError
from edgebench.transports.dask_farm import DaskOptions, device_of, resource_name
from edgebench.transports.ssh import SSHOptions

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


def parse(**options):
    return SSHOptions.parse(options, "jetson.toml")


def test_defaults() -> None:
    opts = parse(host="jetson.lab")
    assert opts.port == 22 and opts.user == getpass.getuser() and opts.retries == 3
    assert opts.known_hosts == "~/.ssh/known_hosts" and opts.host_key is None
    assert opts.remote_dir == ".cache/edgebench" and opts.python == "python3"
    assert opts.target == f"{getpass.getuser()}@jetson.lab:22"
    with pytest.raises(AttributeError):
        opts.port = 23  # type: ignore[misc]


def test_everything_set() -> None:
    opts = parse(host="10.0.0.5", port=2222, user="ubuntu", key_file="~/.ssh/lab", agent=False,
                 password_env="LAB_PW", host_key=KEY, connect_timeout_s=3, retries=0, retry_backoff_s=0.5,
                 keepalive_s=5, python="/usr/bin/python3.10", remote_dir="~/bench")
    assert opts.remote_dir == "bench" and opts.host_key == KEY and opts.retries == 0 and not opts.agent
    assert opts.connect_timeout_s == 3.0 and isinstance(opts.connect_timeout_s, float)


@pytest.mark.parametrize(("options", "key", "problem"), [
    ({}, "host", "missing required key"),
    ({"host": "-oProxyCommand=x"}, "host", "not a host name"),
    ({"host": "a b"}, "host", "not a host name"),
    ({"host": "h", "port": 0}, "port", "must be 1..65535"),
    ({"host": "h", "port": "22"}, "port", "expected an integer"),
    ({"host": "h", "password": "hunter2"}, "password", "never written in a profile"),
    ({"host": "h", "retries": -1}, "retries", "must be between 0 and 100, got -1"),
    ({"host": "h", "agent": "yes"}, "agent", "expected true or false"),
    ({"host": "h", "host_key": "not a key"}, "host_key", "not an OpenSSH public key line"),
    ({"host": "h", "password_env": "$PW"}, "password_env", "name of an environment variable"),
    ({"host": "h", "remote_dir": "../x"}, "remote_dir", "expected a directory"),
    ({"host": "h", "hostname": "x"}, "hostname", "unknown key for the ssh transport"),
    ({"host": "h", "connect_timeout_s": 0}, "connect_timeout_s", "must be between 0.1 and 86400, got 0"),
    ({"host": "h", "connect_timeout_s": float("nan")}, "connect_timeout_s", "must be a finite number, got nan"),
    ({"host": "h", "keepalive_s": float("inf")}, "keepalive_s", "must be a finite number, got inf"),
])
def test_errors_name_file_and_key(options: dict, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        SSHOptions.parse(options, "jetson.toml")
    assert str(info.value).startswith(f"jetson.toml: transport.{key}: ")
    assert problem in str(info.value)
    assert "hunter2" not in str(info.value)


def test_dask_options() -> None:
    opts = DaskOptions.parse({"scheduler": "tcp://lab:8786", "no_worker_timeout_s": 5}, "farm.toml", "jetson nano")
    assert opts.resource == "edgebench-jetson_nano" == resource_name("jetson nano")
    assert opts.no_worker_timeout_s == 5.0 and opts.retries == 2
    assert DaskOptions.parse({}, "p.toml", "x", scheduler="tcp://127.0.0.1:1").scheduler == "tcp://127.0.0.1:1"
    with pytest.raises(ConfigError, match="farm.toml: transport.scheduler: expected a scheduler address"):
        DaskOptions.parse({"scheduler": "lab:8786"}, "farm.toml", "x")
    with pytest.raises(ConfigError, match="transport.retries"):
        DaskOptions.parse({"scheduler": "tcp://lab:1", "retries": True}, "farm.toml", "x")
    assert device_of("m.fp32.null.single_stream.b1@jetson-nano", "x") == "jetson-nano"


def test_agent_bundle_needs_only_stdlib_and_numpy() -> None:
    import zipfile

    from edgebench.transports import agent_bundle

    modules, problems = agent_bundle.collect_modules()
    assert problems == []
    assert {"edgebench.worker.main", "edgebench.backends.null_backend", "edgebench.system.ops"} <= set(modules)
    assert not any(name.startswith(("edgebench.cli", "edgebench.reporting", "edgebench.transports"))
                   for name in modules)
    assert agent_bundle.check_sources(modules) == []
    data, _ = agent_bundle.build_bytes()
    assert agent_bundle.build_bytes()[0] == data  # deterministic: same content, same name on the device
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "__main__.py" in archive.namelist() and "edgebench/worker/main.py" in archive.namelist()


def test_agent_bundle_uses_no_api_newer_than_its_oldest_python() -> None:
    """vermin reads every bundled module for library calls newer than MIN_PYTHON (str.removeprefix, zip(strict=),
    ...). What runs at import (``X | Y`` outside annotations) is caught by importing the bundle on a real 3.8, in
    tests/integration/test_agent_oldest_python.py. ``tomllib`` is excluded: imported under try, with tomli after."""
    import shutil
    import subprocess
    import sys

    from edgebench.transports import agent_bundle

    vermin = shutil.which("vermin", path=str(Path(sys.executable).parent)) or shutil.which("vermin")
    assert vermin, "vermin is in the dev extra: pip install -e '.[dev]'"
    modules, _ = agent_bundle.collect_modules()
    oldest = ".".join(map(str, agent_bundle.MIN_PYTHON))
    done = subprocess.run([vermin, f"-t={oldest}-", "--no-tips", "--violations", "--exclude", "tomllib",
                           *sorted({str(p) for p in modules.values()})], capture_output=True, text=True, timeout=120)
    assert "Target versions not met" not in done.stdout, done.stdout
    assert f"Minimum required versions: {oldest}" in done.stdout

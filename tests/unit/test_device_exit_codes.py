"""The same failure, the same exit status, whichever command met it: a device that cannot be reached is 3 from
`run`, `doctor` and `system` (0 ok, 2 usage or configuration, 3 device or transport)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.cli.main import main

pytest.importorskip("distributed")

UNREACHABLE = """name = "dead"
[transport]
kind = "dask"
scheduler = "tcp://127.0.0.1:9"     # discard port: nothing listens
connect_timeout_s = 0.5
"""


def test_an_unreachable_device_exits_3_from_run_and_doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "dead.toml"
    profile.write_text(UNREACHABLE)
    assert main(["doctor", "--profile", str(profile)]) == 3
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in capsys.readouterr().err
    assert main(["run", "--profile", str(profile), "--suite", "smoke", "--out", str(tmp_path / "run")]) == 3
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in capsys.readouterr().err
    # a bad profile is 2 from both
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[transport]\nkind = "dask"\nscheduler = "nowhere"\n')
    assert main(["doctor", "--profile", str(bad)]) == 2
    assert main(["run", "--profile", str(bad), "--suite", "smoke", "--out", str(tmp_path / "run2")]) == 2

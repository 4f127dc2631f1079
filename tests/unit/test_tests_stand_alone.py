"""The test suite itself: it needs nothing outside the checkout, and in CI a missing tool fails instead of skipping."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED_FIXTURES, need_tool
from tests.fixtures.sensors import sysfs_trees

SAMPLES = SHARED_FIXTURES / "sensors"


def test_need_tool_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in (None, "", "false", "1"):
        if value is None:
            monkeypatch.delenv("CI", raising=False)
        else:
            monkeypatch.setenv("CI", value)
        with pytest.raises(pytest.skip.Exception, match="^sshd not found$"):
            need_tool("sshd not found")


def test_need_tool_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="^CI=true but chromium is not installed$"):
        need_tool("chromium is not installed")


def test_recorded_fixtures_live_in_the_checkout() -> None:
    assert SHARED_FIXTURES == REPO / "tests" / "fixtures"
    assert sysfs_trees.SHARED == SAMPLES
    assert sysfs_trees.fixture("tegrastats_nano_jp4.txt").is_file()


def test_recorded_samples_are_unedited() -> None:
    """Every sample is byte for byte the recording its source names (README.md there); SHA256SUMS holds the
    digests taken when they were copied in, so an edit (or an editor stripping trailing blanks) shows here."""
    listed = {}
    for line in (SAMPLES / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        listed[name] = digest
    present = {p.name for p in SAMPLES.iterdir() if p.suffix in (".txt", ".md")}
    assert present == set(listed), "a sample without a digest in SHA256SUMS (or a listed one missing)"
    changed = [name for name, digest in listed.items()
               if hashlib.sha256((SAMPLES / name).read_bytes()).hexdigest() != digest]
    assert changed == []


@pytest.mark.parametrize("ci", ["true", ""])
def test_ci_scripts_fail_under_ci_without_an_interpreter(ci: str, tmp_path: Path) -> None:
    """.ci/host-pythons.sh asked for a Python this machine lacks: CI fails, a developer's run says so and goes on."""
    env = {**os.environ, "CI": ci, "PYENV_ROOT": str(tmp_path)}
    done = subprocess.run(["bash", str(REPO / ".ci" / "host-pythons.sh"), "3.99"], env=env, capture_output=True,
                          text=True, timeout=60)
    if ci:
        assert (done.returncode, done.stderr) == (1, "host-pythons: no python3.99 here (CI=true: failing the run)\n")
    else:
        assert (done.returncode, done.stderr) == (
            0, "host-pythons: no python3.99 here; .ci/run will not run the unit tests on it\n")
    assert not (REPO / ".ci" / "py399").exists()

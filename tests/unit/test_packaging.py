"""What pyproject.toml puts in a wheel: every package, and every bundled profile, suite and shipped model.

The wheel itself is built and installed in tests/integration/test_install.py (slow); these checks read the
configuration, so a new subpackage or a new kind of shipped file is caught in the fast tests too.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from edgebench.config import locate
from edgebench.config.fields import load_toml
from tests.conftest import REPO

SETUPTOOLS = load_toml(REPO / "pyproject.toml")["tool"]["setuptools"]


def test_every_package_under_edgebench_is_listed() -> None:
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "edgebench").rglob("__init__.py")}
    listed = set(SETUPTOOLS["packages"])
    assert on_disk - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"
    assert all(name.startswith("edgebench") for name in listed)


@pytest.mark.parametrize("folder", ["device_profiles", "suites"])
def test_bundled_folders_are_mapped_into_the_package(folder: str) -> None:
    package = f"edgebench.{locate.BUNDLED_DATA}.{folder}"
    assert package in SETUPTOOLS["packages"]
    assert SETUPTOOLS["package-dir"][package] == folder
    patterns = SETUPTOOLS["package-data"][package]
    files = [p.relative_to(REPO / folder).as_posix() for p in (REPO / folder).rglob("*") if p.is_file()
             and "__pycache__" not in p.parts]
    assert files
    missed = [f for f in files if not any(fnmatch.fnmatchcase(f, pattern) and f.count("/") == pattern.count("/")
                                          for pattern in patterns)]
    assert missed == [], f"not in the wheel: extend [tool.setuptools.package-data] {package}"


def test_a_checkout_finds_its_own_folders_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDGEBENCH_HOME", raising=False)
    assert locate.checkout_root() == REPO
    assert locate.locate("local", "device_profiles") == REPO / "device_profiles" / "local.toml"
    assert {"smoke", "default"} <= set(locate.list_names("suites"))


def test_a_project_folder_in_the_working_directory_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "device_profiles").mkdir()
    (tmp_path / "device_profiles" / "local.toml").write_text('name = "mine"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDGEBENCH_HOME", raising=False)
    assert locate.locate("local", "device_profiles") == tmp_path / "device_profiles" / "local.toml"
    # the checkout's other profiles stay reachable behind it
    assert locate.locate("jetson-nano", "device_profiles") == REPO / "device_profiles" / "jetson-nano.toml"

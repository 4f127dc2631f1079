"""A plain install is complete: a wheel of this checkout, installed into a fresh venv, runs from an empty directory.

The venv is made with ``--system-site-packages`` from the running interpreter, so numpy, onnxruntime and LiteRT
come from this machine and nothing is downloaded. This machine's site-packages may hold an editable install of
edgebench (a meta-path finder appended by a ``.pth`` file); the venv's own site-packages comes first on
``sys.path``, so the wheel's package is found before that finder is asked, and the test checks it:
``edgebench.__file__`` must be inside the venv. ``PYTHONPATH`` and ``EDGEBENCH_HOME`` are removed from the
environment, and the commands run in an empty directory, so neither the checkout nor its folders can be found.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SHIPPED_PROFILES = ("local", "jetson-nano", "raspberry-pi-5", "intel-x86")


def _can_build_wheels() -> str | None:
    """Why this interpreter cannot build the wheel without downloading (``.[dev]`` installs what it needs)."""
    try:
        import setuptools
    except ImportError:
        return "building the wheel needs setuptools here: pip install setuptools wheel"
    major_minor = tuple(int(x) for x in setuptools.__version__.split(".")[:2])
    if major_minor < (70, 1) and importlib.util.find_spec("wheel") is None:
        return f"building a wheel with setuptools {setuptools.__version__} needs the wheel package: pip install wheel"
    return None


def _copy_source(destination: Path) -> Path:
    """The checkout's files (tracked and new, not ignored) in a fresh folder: no stale build/ can leak into
    the wheel, and the checkout is left untouched."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True)
    if listed.returncode != 0:  # not a git checkout (an unpacked sdist): everything but build leftovers
        shutil.copytree(REPO, destination, ignore=shutil.ignore_patterns(
            "build", "dist", "*.egg-info", ".tox", ".venv", "reports", "__pycache__", ".git"))
        return destination
    for name in filter(None, listed.stdout.split("\0")):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EDGEBENCH_HOME", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"  # the user's site-packages could hold another edgebench
    return env


def _run(argv: list, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=_clean_env(), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv's bin directory, with the wheel of this checkout installed in it."""
    problem = _can_build_wheels()
    if problem:
        pytest.skip(problem)
    base = tmp_path_factory.mktemp("install")
    source = _copy_source(base / "src")
    dist = base / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                  "-w", dist, source], cwd=base)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = dist.glob("edgebench-*.whl")
    venv = base / "venv"
    # pip comes from this machine's site-packages too; it installs into the venv it runs in
    made = _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], cwd=base)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    # --ignore-installed: the edgebench this machine may have (editable, same version) is neither a reason to
    # skip the install nor touched
    installed = _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", wheel],
                     cwd=base)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return venv / "bin"


def test_the_installed_package_is_the_wheel_and_carries_its_data(installed_wheel: Path, tmp_path: Path) -> None:
    probe = ("import edgebench, json; from edgebench.config import locate; "
             "print(json.dumps([edgebench.__file__, str(locate.bundled_root()), str(locate.checkout_root())]))")
    done = _run([installed_wheel / "python", "-c", probe], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    module, bundled, checkout = json.loads(done.stdout)
    venv = installed_wheel.parent.resolve()
    assert Path(module).resolve().is_relative_to(venv), module  # not the checkout, not an editable install
    assert checkout == "None"
    data = Path(bundled)
    assert data.resolve().is_relative_to(venv)
    assert (data / "suites" / "models" / "manifest.json").is_file()
    assert (data / "suites" / "models" / "README.md").is_file()
    manifest = json.loads((data / "suites" / "models" / "manifest.json").read_text())
    shipped = {p.name for p in (REPO / "suites" / "models").iterdir() if p.suffix in (".onnx", ".tflite")}
    assert shipped and shipped == {p.name for p in (data / "suites" / "models").iterdir()
                                   if p.suffix in (".onnx", ".tflite")}
    assert manifest


def test_profiles_and_suites_list_from_an_empty_directory(installed_wheel: Path, tmp_path: Path) -> None:
    profiles = _run([installed_wheel / "edgebench", "profiles"], cwd=tmp_path)
    assert profiles.returncode == 0, profiles.stderr
    names = [line.split()[0] for line in profiles.stdout.splitlines() if line.strip()]
    assert set(SHIPPED_PROFILES) <= set(names), profiles.stdout
    suites = _run([installed_wheel / "edgebench", "suites"], cwd=tmp_path)
    assert suites.returncode == 0, suites.stderr
    assert {"default", "smoke", "concurrency"} <= {line.split()[0] for line in suites.stdout.splitlines() if line}
    assert list(tmp_path.iterdir()) == []  # listing writes nothing


def test_run_local_smoke_from_an_empty_directory(installed_wheel: Path, tmp_path: Path) -> None:
    done = _run([installed_wheel / "edgebench", "run", "--profile", "local", "--suite", "smoke", "--fast"],
                cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    [run_dir] = (tmp_path / "reports").iterdir()
    document = json.loads((run_dir / "run.json").read_text())
    by_backend: dict[str, set[str]] = {}
    for record in document["cases"]:
        by_backend.setdefault(record["backend"], set()).add(record["status"])
    # the shipped models ran on the real runtimes this machine has, from the copies inside the venv
    assert by_backend == {"onnxruntime": {"ok"}, "tflite": {"ok"}, "null": {"ok"}}, by_backend
    model_paths = {Path(c["model_path"]) for c in document["cases"] if c["backend"] != "null"}
    venv = installed_wheel.parent.resolve()
    assert model_paths and all(p.resolve().is_relative_to(venv) for p in model_paths), model_paths
    assert (run_dir / "summary.csv").is_file()
    # this machine has matplotlib (the report extra): the installed package draws the plots
    assert "<svg" in (run_dir / "report.html").read_text()
    assert "has no plots" not in done.stderr

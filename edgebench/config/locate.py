"""Find suites and profiles by name (``local``) or by path (``./my.toml``).

A name is looked up in these folders, the first that has it wins:

1. ``$EDGEBENCH_HOME/<kind>``, when set; else ``./<kind>`` when the working directory has ``device_profiles/``
   or ``suites/`` (a project of your own);
2. the checkout edgebench runs from (an editable install, or ``PYTHONPATH=checkout``): its own folders;
3. the copies installed inside the package (``edgebench/_data/<kind>``; pyproject.toml maps the repository's
   top-level ``device_profiles/`` and ``suites/`` there), found with ``importlib.resources``, so a plain
   ``pip install`` or a wheel works from any directory.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from edgebench.errors import ConfigError

#: the folder inside the installed package that holds ``device_profiles/`` and ``suites/``
BUNDLED_DATA = "_data"


def checkout_root() -> Path | None:
    """The repository edgebench is imported from, or None when it is installed (site-packages has no
    pyproject.toml next to the package)."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "edgebench").is_dir() else None


def bundled_root() -> Path | None:
    """``edgebench/_data`` of an installed package (absent in a checkout, where the top-level folders are used)."""
    try:
        data = resources.files("edgebench") / BUNDLED_DATA
    except (ImportError, TypeError):
        return None
    # a wheel is always unpacked on disk; a zipped package (the device agent) has no bundled data to read
    return data if isinstance(data, Path) and data.is_dir() else None


def project_root() -> Path:
    """The directory holding ``suites/`` and ``device_profiles/``: $EDGEBENCH_HOME, the cwd, the checkout or the
    installed package."""
    env = os.environ.get("EDGEBENCH_HOME")
    if env:
        return Path(env)
    cwd = Path.cwd()
    if (cwd / "device_profiles").is_dir() or (cwd / "suites").is_dir():
        return cwd
    return checkout_root() or bundled_root() or cwd


def search_dirs(kind: str) -> list[Path]:
    dirs = [project_root() / kind]
    for root in (checkout_root(), bundled_root()):
        if root is not None and root / kind not in dirs:
            dirs.append(root / kind)
    return dirs


def locate(name_or_path: str | Path, kind: str) -> Path:
    """A path that exists wins; else ``<kind>/<name>.toml`` in the project; else a one-line error."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or os.sep in str(name_or_path):
        if candidate.is_file():
            return candidate.resolve()
        if candidate.is_dir():
            raise ConfigError(str(candidate), "", "is a directory, not a TOML file")
        raise ConfigError(str(candidate), "", "file not found")
    for directory in search_dirs(kind):
        path = directory / f"{name_or_path}.toml"
        if path.is_file():
            return path.resolve()
    available = ", ".join(list_names(kind)) or "none"
    singular = "profile" if kind == "device_profiles" else "suite"
    raise ConfigError(str(name_or_path), "", f"no such {singular} in {search_dirs(kind)[0]} (available: {available})")


def list_names(kind: str) -> list[str]:
    names: set[str] = set()
    for directory in search_dirs(kind):
        if directory.is_dir():
            names.update(p.stem for p in directory.glob("*.toml"))
    return sorted(names)

"""Find suites and profiles by name (``local``) or by path (``./my.toml``)."""

from __future__ import annotations

import os
from pathlib import Path

from edgebench.errors import ConfigError


def project_root() -> Path:
    """The directory holding ``suites/`` and ``device_profiles/``: $EDGEBENCH_HOME, the cwd, or the checkout."""
    env = os.environ.get("EDGEBENCH_HOME")
    if env:
        return Path(env)
    cwd = Path.cwd()
    if (cwd / "device_profiles").is_dir() or (cwd / "suites").is_dir():
        return cwd
    return Path(__file__).resolve().parents[2]


def search_dirs(kind: str) -> list[Path]:
    dirs = [project_root() / kind]
    checkout = Path(__file__).resolve().parents[2] / kind
    if checkout not in dirs:
        dirs.append(checkout)
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

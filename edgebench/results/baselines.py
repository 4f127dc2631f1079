"""The baseline store: named runs kept in a store directory for later compares (``edgebench baseline``).

The store is a directory with one run directory per name (a copy of run.json, summary.csv and the raw
cases, plus baseline.json saying where it came from). Default: $EDGEBENCH_BASELINES, else
$XDG_DATA_HOME/edgebench/baselines (~/.local/share/edgebench/baselines). In CI, cache that directory or
point --store at a checked-out branch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from edgebench.errors import EdgebenchError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
META_FILE = "baseline.json"
COPIED = ("run.json", "summary.csv", "cases")


def default_store() -> Path:
    env = os.environ.get("EDGEBENCH_BASELINES")
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "edgebench" / "baselines"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise EdgebenchError(f"baseline name {name!r}: use letters, digits, '.', '_' or '-' "
                             f"(not starting with '.' or '-'), at most 100 characters")
    return name


def save(run_dir: Path, name: str, store: Path, note: Callable[[str], None] = lambda text: None) -> Path:
    """Copy a run into the store under ``name``, replacing an older baseline of that name atomically.
    ``note`` hears what the user should know (a summary.csv rebuilt from run.json)."""
    from edgebench.results.store import RunStore

    check_name(name)
    run = RunStore.open(run_dir)  # refuses what is not a readable run
    run.check_raw_files()  # a baseline every later compare fails on is worse than none
    store.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=store))
    try:
        for item in COPIED:
            source = run_dir / item
            if source.is_dir():
                shutil.copytree(source, staging / item)
            elif source.exists():
                shutil.copy2(source, staging / item)
        if not (staging / "summary.csv").exists():  # rebuilt from run.json, which holds every row
            (staging / "summary.csv").write_text(run.summary_csv(), encoding="utf-8")
            note(f"{run_dir / 'summary.csv'}: was missing; the baseline has it rebuilt from run.json")
        meta = {"name": name, "source": str(run_dir.resolve()), "saved_at": time.time(),
                "device": run.device, "suite": run.run_info.suite or None, "git_commit": run.run_info.git_commit,
                "cases": len(run.records())}
        (staging / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        target = store / name
        old = None
        if target.exists():
            old = store / f".{name}.old-{os.getpid()}"
            os.replace(target, old)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def resolve(spec: str, store: Path | None = None) -> tuple[Path, str]:
    """A run directory, or the name of a stored baseline: (directory, label)."""
    path = Path(spec)
    if (path / "run.json").is_file():
        return path, str(path)
    store = store or default_store()
    if _NAME.match(spec) and (store / spec / "run.json").is_file():
        return store / spec, f"baseline {spec}"
    names = ", ".join(n for n, _ in list_baselines(store)) or "none"
    raise EdgebenchError(f"{spec}: neither a run directory nor a baseline in {store} (baselines: {names})")


def list_baselines(store: Path) -> list[tuple[str, dict[str, Any]]]:
    """The baselines in ``store``, by name, each with its baseline.json (empty when that is unreadable)."""
    if not store.is_dir():
        return []
    out = []
    for entry in sorted(store.iterdir()):
        if entry.name.startswith(".") or not (entry / "run.json").is_file():
            continue
        try:
            meta = json.loads((entry / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        out.append((entry.name, meta))
    return out

"""``edgebench baseline save|list|show``: named baselines kept in a store directory for later compares.

The store is a directory with one run directory per name (a copy of run.json, summary.csv and the raw
cases, plus baseline.json saying where it came from). Default: $EDGEBENCH_BASELINES, else
$XDG_DATA_HOME/edgebench/baselines (~/.local/share/edgebench/baselines). In CI, cache that directory or
point --store at a checked-out branch.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def save(run_dir: Path, name: str, store: Path) -> Path:
    """Copy a run into the store under ``name``, replacing an older baseline of that name atomically."""
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
            print(f"edgebench: note: {run_dir / 'summary.csv'}: was missing; the baseline has it rebuilt from "
                  f"run.json", file=sys.stderr)
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


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "baseline", help="save, list and show named baselines for compare",
        description="Keep runs as named baselines in a store directory, for `edgebench compare NAME RUN_DIR`. "
                    "Store: --store, else $EDGEBENCH_BASELINES, else ~/.local/share/edgebench/baselines.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  edgebench baseline save reports/main-run --name main\n"
               "  edgebench compare main reports/pr-run --fail-on latency.p90:+5%\n")
    actions = parser.add_subparsers(dest="baseline_action", metavar="ACTION")
    store_help = "baseline store directory (default: $EDGEBENCH_BASELINES or ~/.local/share/edgebench/baselines)"
    p_save = actions.add_parser("save", help="store a run directory under a name (replacing an older one)")
    p_save.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p_save.add_argument("--name", required=True, help="baseline name, e.g. main")
    p_save.add_argument("--store", type=Path, metavar="DIR", help=store_help)
    p_list = actions.add_parser("list", help="list stored baselines")
    p_list.add_argument("--store", type=Path, metavar="DIR", help=store_help)
    p_show = actions.add_parser("show", help="print the summary table of a stored baseline")
    p_show.add_argument("name")
    p_show.add_argument("--store", type=Path, metavar="DIR", help=store_help)
    parser.set_defaults(func=run, baseline_parser=parser)


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "baseline_action", None)
    if action is None:
        args.baseline_parser.print_help()
        return 2
    store = args.store or default_store()
    if action == "save":
        target = save(args.run_dir, args.name, store)
        print(f"edgebench: saved {args.run_dir} as baseline {args.name} ({target})")
        return 0
    if action == "list":
        found = list_baselines(store)
        if not found:
            print(f"no baselines in {store}")
            return 0
        for name, meta in found:
            saved = time.strftime("%Y-%m-%d %H:%M", time.gmtime(meta["saved_at"])) if meta.get("saved_at") else "-"
            print(f"{name:20s} {str(meta.get('device', '-')):16s} {str(meta.get('suite', '-')):16s} "
                  f"{meta.get('cases', '-')!s:>5} cases  saved {saved} UTC  {str(meta.get('git_commit') or '')[:12]}")
        return 0
    from edgebench.cli.output import open_run
    from edgebench.reporting.table import render_table

    directory, _ = resolve(check_name(args.name), store)
    stored = open_run(directory)
    print(f"baseline {args.name} ({directory}); device {stored.device}")
    print(render_table(stored.summary_rows()))
    return 0



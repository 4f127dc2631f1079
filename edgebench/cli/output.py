"""Where a command's text goes: standard output, or a file (its directory made) with a note on stderr."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def write_output(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"edgebench: wrote {path}", file=sys.stderr)


def open_run(directory: Path) -> Any:
    """A run directory for reading (a ``RunStore``): a missing summary.csv is rebuilt from run.json, and said so
    on stderr; anything unreadable in run.json is a ResultsError naming the file."""
    from edgebench.results.store import RunStore

    store = RunStore.open(directory)
    note = store.repair_summary()
    if note:
        print(f"edgebench: note: {note}", file=sys.stderr)
    return store

"""Where a command's text goes: standard output, or a file (its directory made) with a note on stderr; and
how wide the terminal it goes to is."""

from __future__ import annotations

import os
import shutil
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
def terminal_width(stream: Any = None) -> int:
    """The width of the terminal ``stream`` writes to: $COLUMNS when set, else the terminal's, else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), 20)
    try:
        return max(os.get_terminal_size((stream or sys.stdout).fileno()).columns, 20)
    except (AttributeError, ValueError, OSError):
        return max(shutil.get_terminal_size((80, 24)).columns, 20)


def table_width(stream: Any = None) -> int | None:
    """The width a table printed to ``stream`` must fit: the terminal's, or None (no limit) when the output
    goes to a pipe or a file (a CI log or ``| less -S`` keeps every column)."""
    stream = stream or sys.stdout
    return terminal_width(stream) if getattr(stream, "isatty", lambda: False)() else None

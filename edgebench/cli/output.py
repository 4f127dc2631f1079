"""Where a command's text goes: standard output, or a file (its directory made) with a note on stderr."""

from __future__ import annotations

import sys
from pathlib import Path


def write_output(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"edgebench: wrote {path}", file=sys.stderr)

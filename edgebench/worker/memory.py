"""Memory of the worker from /proc/<pid>/status: VmHWM is the kernel's RSS high-water mark, not a polled guess."""

from __future__ import annotations

import os
from pathlib import Path


def _field_kb(path: Path, field: str) -> int | None:
    """The number of a ``Field:   N kB`` line of a /proc file; None when the file or the line is missing."""
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1])
    return None


def read_status_kb(field: str, pid: int | str = "self", root: str = "/") -> int | None:
    return _field_kb(Path(root) / "proc" / str(pid) / "status", field)


def rss_bytes(root: str = "/") -> int | None:
    kb = read_status_kb("VmRSS", root=root)
    return kb * 1024 if kb is not None else None


def peak_rss_bytes(root: str = "/") -> int | None:
    kb = read_status_kb("VmHWM", root=root)
    if kb is not None:
        return kb * 1024
    try:  # not Linux: the rusage high-water mark (kB on Linux, bytes on macOS)
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)
    except (ImportError, OSError):  # pragma: no cover
        return None


def pid() -> int:
    return os.getpid()


def available_bytes(root: str = "/") -> int | None:
    """Memory the device can give without swapping: psutil's ``available`` where psutil is installed, else the
    kernel's MemAvailable; None when neither says (then nothing is refused on its account)."""
    if root == "/":
        try:
            import psutil

            return int(psutil.virtual_memory().available)
        except (ImportError, OSError, AttributeError):
            pass
    kb = _field_kb(Path(root) / "proc" / "meminfo", "MemAvailable")
    return kb * 1024 if kb is not None else None

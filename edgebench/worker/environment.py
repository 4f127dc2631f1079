"""What the device is and what state it is in, read on the device (standard library only).

Every file is read under an injected root, so tests and users can point it at a copied tree.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any


def _read(root: Path, rel: str) -> str | None:
    try:
        return (root / rel.lstrip("/")).read_text(errors="replace").strip()
    except OSError:
        return None


def cpu_model(root: Path) -> str | None:
    text = _read(root, "/proc/cpuinfo") or ""
    for key in ("model name", "Model", "Hardware", "cpu model"):
        for line in text.splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key and value.strip():
                return value.strip()
    return platform.processor() or None


def governors(root: Path) -> dict[str, str]:
    out = {}
    base = root / "sys/devices/system/cpu"
    for path in sorted(base.glob("cpu[0-9]*/cpufreq/scaling_governor")):
        value = _read(root, str(path.relative_to(root)))
        if value:
            out[path.parent.parent.name] = value
    return out


def os_release(root: Path) -> str | None:
    text = _read(root, "/etc/os-release") or ""
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return None


def board(root: Path) -> str | None:
    model = _read(root, "/proc/device-tree/model") or _read(root, "/sys/firmware/devicetree/base/model")
    if model:
        return model.rstrip("\x00")
    vendor = _read(root, "/sys/class/dmi/id/sys_vendor")
    product = _read(root, "/sys/class/dmi/id/product_name")
    return " ".join(p for p in (vendor, product) if p) or None


def jetpack(root: Path) -> str | None:
    release = _read(root, "/etc/nv_tegra_release")
    return release.splitlines()[0] if release else None


def timer_resolution_ns(calls: int = 2000) -> int:
    """The smallest nonzero difference between back-to-back ``perf_counter_ns`` calls: two latencies closer
    than this cannot be told apart, so ``compare`` never calls such a difference significant."""
    import time

    smallest = 0
    for _ in range(calls):
        first = time.perf_counter_ns()
        second = time.perf_counter_ns()
        step = second - first
        if step > 0 and (smallest == 0 or step < smallest):
            smallest = step
    return smallest or 1


def describe(root: str = "/") -> dict[str, Any]:
    base = Path(root)
    cores: int | None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cores = os.cpu_count()
    govs = governors(base)
    return {
        "hostname": platform.node(),
        "os": os_release(base) or platform.system(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(base),
        "cpu_count": cores,
        "board": board(base),
        "l4t_release": jetpack(base),
        "governor": sorted(set(govs.values()))[0] if len(set(govs.values())) == 1 else (govs or None),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "timer_resolution_ns": timer_resolution_ns(),
    }

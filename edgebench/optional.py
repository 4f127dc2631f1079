"""Optional dependencies: which ``pip install 'edgebench[EXTRA]'`` brings each, and the one line that says so.

edgebench's core needs numpy and psutil only; the rest comes with an extra (pyproject.toml
``[project.optional-dependencies]``). A command that needs a missing one stops with one line naming the extra::

    edgebench: error: the SSH transport needs asyncssh: pip install 'edgebench[ssh]'

instead of a ``No module named 'asyncssh'`` traceback. ``require`` is that import; ``missing`` and ``hint`` are
for places that go on without the module (a sensor or backend that is unavailable, a report without plots).

Standard library only, and Python 3.8: the device agent bundles this module with the sensors and backends.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from typing import Any, Dict, Optional, Tuple

from edgebench.errors import EdgebenchError

#: import name -> (the distribution to install, the edgebench extra that installs it)
EXTRAS: Dict[str, Tuple[str, str]] = {
    "asyncssh": ("asyncssh", "ssh"),
    "distributed": ("distributed", "farm"),
    "matplotlib": ("matplotlib", "report"),
    "pynvml": ("nvidia-ml-py", "nvml"),
    "onnxruntime": ("onnxruntime", "onnx"),
    "ai_edge_litert": ("ai-edge-litert", "tflite"),
    "rich": ("rich", "all"),
    "pandas": ("pandas", "history"),
}


class MissingDependency(EdgebenchError, ImportError):
    """An optional module is not installed (or cannot be imported). An ``ImportError`` too, so code that
    already degrades on ImportError (a plot, a sensor) keeps doing so, with this message."""

    def __init__(self, module: str, purpose: str, cause: Optional[BaseException] = None) -> None:
        self.module = module
        self.purpose = purpose
        fix = hint(module)
        if cause is None or _names_module(cause, module):
            message = f"{purpose} needs {EXTRAS.get(module, (module, ''))[0]}: {fix}"
        else:  # installed, but something it imports is missing or broken: say what, and how to repair it
            message = f"{purpose} needs {module}, which cannot be imported ({_first_line(cause)}): {fix}"
        EdgebenchError.__init__(self, message)
        self.name = module


def hint(module: str) -> str:
    """``pip install 'edgebench[ssh]'`` for a module an extra brings, else ``pip install <distribution>``: also
    where edgebench is not installed (a device that runs the agent zipapp), since an extra only helps with it."""
    distribution, extra = EXTRAS.get(module, (module, ""))
    return f"pip install 'edgebench[{extra}]'" if extra and _edgebench_installed() else f"pip install {distribution}"


@functools.lru_cache(maxsize=1)
def _edgebench_installed() -> bool:
    from importlib import metadata

    try:
        metadata.distribution("edgebench")
    except metadata.PackageNotFoundError:
        return False
    return True


def missing(module: str) -> bool:
    """True when ``module`` cannot be found, without importing it (a cheap check for notes and reasons)."""
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def require(module: str, purpose: str) -> Any:
    """Import and return ``module``; if it cannot be imported, raise ``MissingDependency``, whose message is
    ``<purpose> needs <distribution>: pip install 'edgebench[<extra>]'``. ``purpose`` names what needs it, as
    a sentence's subject: "the SSH transport", "edgebench agent"."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(module, purpose, exc) from None


def _names_module(exc: BaseException, module: str) -> bool:
    name = getattr(exc, "name", None) or ""
    return name == module or name.startswith(module + ".") or (not name and module in str(exc))


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__

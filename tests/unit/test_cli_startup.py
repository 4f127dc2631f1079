"""``edgebench --help`` must answer at once: no heavy library is imported to build the parser."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "pandas", "onnxruntime", "ai_edge_litert", "tflite_runtime", "tensorflow", "matplotlib",
         "asyncssh", "distributed", "dask", "psutil", "pynvml", "rich")


def test_help_imports_no_heavy_library():
    code = ("import sys; from edgebench.cli.main import build_parser; build_parser().format_help(); "
            "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert not loaded & set(HEAVY), f"imported at startup: {sorted(loaded & set(HEAVY))}"


def test_every_command_has_help():
    from edgebench.cli.main import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"run", "show", "profiles", "suites"} <= set(commands)
    for name, sub in commands.items():
        assert sub.description, f"edgebench {name} has no description"

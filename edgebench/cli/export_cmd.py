"""``edgebench export RUN_DIR --format pytest-benchmark``: a run in another tool's format (the formats live in
``edgebench.reporting``: ``pytest_benchmark``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edgebench.cli.output import write_output

FORMATS = ("pytest-benchmark",)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export a run for other tools (pytest-benchmark JSON)",
        description="Write a run in another tool's format. pytest-benchmark: the JSON that `pytest-benchmark "
                    "compare FILE` and github-action-benchmark (tool: 'pytest') read.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  edgebench export reports/run --format pytest-benchmark -o bench.json\n"
               "  pytest-benchmark compare bench.json\n")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--format", choices=FORMATS, default="pytest-benchmark")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--with-data", action="store_true", help="include every sample (stats.data), as "
                        "pytest-benchmark's --benchmark-save-data does")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgebench.cli.output import open_run
    from edgebench.reporting.pytest_benchmark import to_pytest_benchmark

    store = open_run(args.run_dir)
    text = json.dumps(to_pytest_benchmark(store, args.with_data), indent=4) + "\n"
    write_output(text, args.output)
    return 0

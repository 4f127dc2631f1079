"""``edgebench show RUN_DIR``: the summary table of a run."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("show", help="print the summary table of a run directory",
                                   description="Print the summary table of a run directory.")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--wide", action="store_true",
                        help="every column, however wide the terminal (by default the table fits the terminal; "
                             "piped or redirected, it always has every column)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from edgebench.cli.output import open_run, table_width
    from edgebench.reporting.table import render_table, wrap_line

    store = open_run(args.run_dir)
    run = store.run_info
    width = None if args.wide else table_width(sys.stdout)
    print(wrap_line(f"run {args.run_dir}  ({run.state})", width))
    if run.farm:  # each device of the farm, as it described itself
        print(wrap_line(f"farm of {len(run.devices)} devices ({run.scheduler}); suite {run.suite}", width))
        for device in run.devices:
            env = device.environment
            host = f" on {device.host}" if device.host else ""
            print(wrap_line(f"  device {device.name}{host}: {env.cpu_model or device.cpu or '-'}, "
                            f"{env.cpu_count or device.cores or '-'} cores, {env.os or '-'}", width))
    else:
        env = run.environment
        host = f" on {env.hostname}" if env.hostname else ""  # the host it ran on, as on a farm
        print(wrap_line(f"device {run.device}{host}: {env.cpu_model or '-'}, {env.cpu_count or '-'} cores, "
                        f"{env.os or '-'}; suite {run.suite}", width))
    print(render_table(store.summary_rows(), width=width))
    from edgebench.reporting.study import build_study, render_text

    for line in render_text(build_study(store)):  # fidelity and top operator types, when the run has them
        print(wrap_line(line, width))
    return 0

"""``edgebench report RUN_DIR...``: compare any number of runs in one table (Markdown, HTML, CSV or JSON)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgebench.cli.output import write_output

#: the reporters edgebench ships; an installed package adds more through the ``edgebench.reporters`` entry point
#: group (a function taking the ``edgebench.reporting.model.ReportModel`` and returning the report's text)
FORMATS = ("md", "html", "csv", "json")
GROUP = "edgebench.reporters"

EPILOG = """\
examples:
  edgebench report reports/nano reports/orin reports/pi5 --by device --format html -o devices.html
  edgebench report reports/run --by backend --reference onnxruntime
  edgebench report reports/a reports/b --by run --format md >> "$GITHUB_STEP_SUMMARY"
  edgebench report reports/nano reports/pi5 --budget-ms 20            # p99 <= 20 ms, by energy then price
  edgebench report reports/farm --budget-ms 5 --budget-stat p90 --min-fps 100

Rows that differ only in the --by dimension sit side by side within a model's table; the best value of
each column is marked and every value gets its ratio (x) to the --reference (default: the first value seen).
The hardware-selection view gives, per device and model, inferences/s, per measured watt and per USD of the
price in the device profile (per TDP watt only as a column named an estimate), and a Pareto front of latency
against energy per inference (or power); the null backend (no model) is left out. With --budget-ms or
--min-fps, the report adds, per model, the combinations that meet the budget, ranked by measured energy per
inference, then price, then latency, each marked when it is on the latency/energy or latency/price Pareto front.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    from edgebench.reporting.model import BUDGET_STATS, BY_CHOICES, DEFAULT_BUDGET_STAT

    parser = subparsers.add_parser(
        "report", help="compare runs in one report (md, html, csv, json)",
        description="Build one report from any number of run directories: per model, each device, backend or "
                    "setting side by side with latency p50/p90/p99, throughput, peak memory, power, energy per "
                    "inference and throttling.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR")
    parser.add_argument("--by", choices=BY_CHOICES, default="device",
                        help="the dimension put side by side (default: device)")
    parser.add_argument("--format", default="md", metavar="FORMAT",
                        help=f"{', '.join(FORMATS)}, or the name of an installed reporter plugin (entry point "
                             f"group {GROUP}) (default: md)")
    parser.add_argument("-o", "--output", type=Path, metavar="PATH", help="write here instead of stdout")
    parser.add_argument("--reference", metavar="VALUE",
                        help="the --by value ratios are taken against (default: the first one)")
    choose = parser.add_argument_group(
        "choosing hardware", "list, per model, the device/backend/precision/threads combinations that meet a "
                             "budget, ranked by measured energy per inference, then price, with Pareto fronts")
    choose.add_argument("--budget-ms", type=float, metavar="MS",
                        help="the latency a query may take at most (of the --budget-stat statistic)")
    choose.add_argument("--budget-stat", choices=BUDGET_STATS,
                        help=f"the latency statistic held to --budget-ms (default: {DEFAULT_BUDGET_STAT}: nearly "
                             f"every query, not the typical one)")
    choose.add_argument("--min-fps", type=float, metavar="N",
                        help="the inferences per second a combination must reach at least")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgebench import plugins
    from edgebench.cli.output import open_run
    from edgebench.errors import EdgebenchError
    from edgebench.reporting.model import DEFAULT_BUDGET_STAT, Budget, build_model

    if args.output is not None and args.output.is_dir():
        raise EdgebenchError(f"-o {args.output}: is a directory; give a file name")
    if args.format not in plugins.names(GROUP):
        raise EdgebenchError(f"--format {args.format}: no such reporter (installed: "
                             f"{', '.join(plugins.names(GROUP))})")
    budget = None
    if args.budget_ms is not None or args.min_fps is not None:
        budget = Budget(args.budget_ms, args.budget_stat or DEFAULT_BUDGET_STAT, args.min_fps)
    elif args.budget_stat is not None:
        raise EdgebenchError(f"--budget-stat {args.budget_stat}: give the budget too (--budget-ms MS)")
    render = plugins.load(GROUP, args.format)
    stores = [open_run(p) for p in args.run_dirs]
    if args.format == "html":  # the one format that reads the raw samples (its plots): say what it leaves out
        for store in stores:
            for problem in store.unreadable_cases().values():
                print(f"edgebench: note: {problem}; its plots are left out", file=sys.stderr)
    model = build_model(stores, by=args.by, reference=args.reference, budget=budget)
    text = render(model)
    if not isinstance(text, str):
        raise EdgebenchError(f"reporter {args.format} ({render.__module__}) returned "
                             f"{type(text).__name__}, not the report's text")
    write_output(text, args.output)
    if args.format == "html":
        from edgebench.reporting.plots import missing_note

        note = missing_note(str(args.output or "the report"))
        if note:
            print(note, file=sys.stderr)
    return 0

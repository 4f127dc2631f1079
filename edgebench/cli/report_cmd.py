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

Rows that differ only in the --by dimension sit side by side within a model's table; the best value of
each column is marked and every value gets its ratio (x) to the --reference (default: the first value seen).
The hardware-selection view gives, per device and model, inferences/s, per watt and per USD of the price in
the device profile, and a Pareto front of latency against energy per inference (or power).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    from edgebench.reporting.model import BY_CHOICES

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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgebench import plugins
    from edgebench.cli.output import open_run
    from edgebench.errors import EdgebenchError
    from edgebench.reporting.model import build_model

    if args.output is not None and args.output.is_dir():
        raise EdgebenchError(f"-o {args.output}: is a directory; give a file name")
    if args.format not in plugins.names(GROUP):
        raise EdgebenchError(f"--format {args.format}: no such reporter (installed: "
                             f"{', '.join(plugins.names(GROUP))})")
    render = plugins.load(GROUP, args.format)
    stores = [open_run(p) for p in args.run_dirs]
    if args.format == "html":  # the one format that reads the raw samples (its plots): say what it leaves out
        for store in stores:
            for problem in store.unreadable_cases().values():
                print(f"edgebench: note: {problem}; its plots are left out", file=sys.stderr)
    model = build_model(stores, by=args.by, reference=args.reference)
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

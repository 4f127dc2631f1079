"""``edgebench report RUN_DIR...``: compare any number of runs in one table (Markdown, HTML, CSV or JSON)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgebench.cli.output import write_output

FORMATS = ("md", "html", "csv", "json")

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
    parser.add_argument("--format", choices=FORMATS, default="md", help="output format (default: md)")
    parser.add_argument("-o", "--output", type=Path, metavar="PATH", help="write here instead of stdout")
    parser.add_argument("--reference", metavar="VALUE",
                        help="the --by value ratios are taken against (default: the first one)")
    parser.set_defaults(func=run)


def render(model, fmt: str) -> str:  # type: ignore[no-untyped-def]
    if fmt == "md":
        from edgebench.reporting.markdown import render_report

        return render_report(model)
    if fmt == "html":
        from edgebench.reporting.html import render_html

        return render_html(model)
    if fmt == "csv":
        from edgebench.reporting.csv_report import render_csv

        return render_csv(model)
    from edgebench.reporting.json_report import render_json

    return render_json(model)


def run(args: argparse.Namespace) -> int:
    from edgebench.reporting.model import build_model, open_runs

    if args.output is not None and args.output.is_dir():
        print(f"edgebench: error: -o {args.output}: is a directory; give a file name", file=sys.stderr)
        return 2
    model = build_model(open_runs(args.run_dirs), by=args.by, reference=args.reference)
    text = render(model, args.format)
    write_output(text, args.output)
    return 0

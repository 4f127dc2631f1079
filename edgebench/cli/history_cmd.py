"""``edgebench history``: the figures of a case across runs, and the steps where they moved to a new level."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from edgebench.errors import EdgebenchError

#: the names of ``results.frame.STATISTICS`` (not imported here: ``edgebench --help`` stays quick)
STATISTIC_NAMES = ("p50", "p90", "p95", "p99", "mean", "min", "throughput", "peak_rss", "load", "energy", "power")


def _since(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a date (2026-11-01 or 2026-11-01T12:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(f"{text!r}: a percentage from 0 to 100")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "history", help="trends of each case across runs, and the steps where they changed",
        description="Follow one statistic of every case across runs (oldest first, by the time each run\n"
                    "started) and report each step: where the figure moved to a new level and stayed, with the\n"
                    "commit range around it. Runs: the RUN_DIRs given, and the baselines in --store (the default\n"
                    "store when no RUN_DIR is given). Markdown goes to stdout; --html writes a page with a trend\n"
                    "plot per case. An unreadable run directory is one line on stderr and left out.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  edgebench history                                 the baselines of the default store\n"
               "  edgebench history reports/* --statistic p90 --html history.html\n"
               "  edgebench history --store ci-baselines --case 'kws*' --since 2026-11-01\n\n"
               "exit status: 0 report written; 1 with --fail-on-step, a step for the worse; 2 bad option, no "
               "readable run, or no case matches")
    parser.add_argument("run_dirs", type=Path, nargs="*", metavar="RUN_DIR", help="run directories")
    parser.add_argument("--store", type=Path, metavar="DIR",
                        help="baseline store whose runs to include (default when no RUN_DIR: $EDGEBENCH_BASELINES "
                             "or ~/.local/share/edgebench/baselines)")
    parser.add_argument("--statistic", choices=STATISTIC_NAMES, default="p50", help="what to follow (default p50)")
    parser.add_argument("--since", type=_since, metavar="DATE", help="only runs started at or after DATE (UTC)")
    parser.add_argument("--case", metavar="GLOB", help="only case ids matching GLOB (* ? [...], case-sensitive)")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML page with a plot per case")
    parser.add_argument("--min-change", type=_percent, default=1.0, metavar="PERCENT",
                        help="smallest step reported, in percent of the level (default 1)")
    parser.add_argument("--fail-on-step", action="store_true", help="exit 1 when a step made a case worse")
    parser.add_argument("--index", type=Path, metavar="FILE",
                        help="the SQLite cache of run directories (default $EDGEBENCH_HISTORY_INDEX or "
                             "~/.cache/edgebench/history.sqlite; safe to delete)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgebench.files import atomic_write
    from edgebench.reporting.history import build_histories, render_html, render_markdown
    from edgebench.results import baselines
    from edgebench.results.frame import STATISTICS, load_with_refresh

    store = args.store or (None if args.run_dirs else baselines.default_store())
    frame, done = load_with_refresh(args.run_dirs, store=store, index=args.index, since=args.since,
                                    case_glob=args.case)
    for line in done.skipped:
        print(f"edgebench: note: {line}", file=sys.stderr)
    if done.read + done.reused == 0:
        where = f"{store}" if store and not args.run_dirs else "the RUN_DIRs given"
        raise EdgebenchError(f"history: no readable run in {where}")
    if frame.empty:
        raise EdgebenchError(f"history: no case matches --case {args.case!r}" if args.case
                             else "history: no case in these runs" + (" since --since" if args.since else ""))
    histories = build_histories(frame, STATISTICS[args.statistic], min_change=args.min_change / 100)
    runs = int(frame["run_dir"].nunique())
    sys.stdout.write(render_markdown(histories, runs))
    if args.html:
        try:
            atomic_write(args.html, render_html(histories, runs).encode("utf-8"))
        except OSError as exc:
            raise EdgebenchError(f"{args.html}: cannot write the HTML page: {exc.strerror or exc}") from None
        print(f"edgebench: wrote {args.html}", file=sys.stderr)
    if args.fail_on_step and any(h.worse(s) for h in histories for s in h.steps):
        return 1
    return 0

"""``edgebench baseline save|list|show``: the command line of the baseline store (``edgebench.results.baselines``:
where baselines live and how they are saved)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "baseline", help="save, list and show named baselines for compare",
        description="Keep runs as named baselines in a store directory, for `edgebench compare NAME RUN_DIR`. "
                    "Store: --store, else $EDGEBENCH_BASELINES, else ~/.local/share/edgebench/baselines.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  edgebench baseline save reports/main-run --name main\n"
               "  edgebench compare main reports/pr-run --fail-on latency.p90:+5%\n")
    actions = parser.add_subparsers(dest="baseline_action", metavar="ACTION")
    store_help = "baseline store directory (default: $EDGEBENCH_BASELINES or ~/.local/share/edgebench/baselines)"
    p_save = actions.add_parser("save", help="store a run directory under a name (replacing an older one)")
    p_save.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p_save.add_argument("--name", required=True, help="baseline name, e.g. main")
    p_save.add_argument("--store", type=Path, metavar="DIR", help=store_help)
    p_list = actions.add_parser("list", help="list stored baselines")
    p_list.add_argument("--store", type=Path, metavar="DIR", help=store_help)
    p_show = actions.add_parser("show", help="print the summary table of a stored baseline")
    p_show.add_argument("name")
    p_show.add_argument("--store", type=Path, metavar="DIR", help=store_help)
    parser.set_defaults(func=run, baseline_parser=parser)


def run(args: argparse.Namespace) -> int:
    from edgebench.results import baselines

    action = getattr(args, "baseline_action", None)
    if action is None:
        args.baseline_parser.print_help()
        return 2
    store = args.store or baselines.default_store()
    if action == "save":
        target = baselines.save(args.run_dir, args.name, store,
                                note=lambda text: print(f"edgebench: note: {text}", file=sys.stderr))
        print(f"edgebench: saved {args.run_dir} as baseline {args.name} ({target})")
        return 0
    if action == "list":
        found = baselines.list_baselines(store)
        if not found:
            print(f"no baselines in {store}")
            return 0
        for name, meta in found:
            saved = time.strftime("%Y-%m-%d %H:%M", time.gmtime(meta["saved_at"])) if meta.get("saved_at") else "-"
            print(f"{name:20s} {str(meta.get('device', '-')):16s} {str(meta.get('suite', '-')):16s} "
                  f"{meta.get('cases', '-')!s:>5} cases  saved {saved} UTC  {str(meta.get('git_commit') or '')[:12]}")
        return 0
    from edgebench.cli.output import open_run
    from edgebench.reporting.table import render_table

    directory, _ = baselines.resolve(baselines.check_name(args.name), store)
    stored = open_run(directory)
    print(f"baseline {args.name} ({directory}); device {stored.device}")
    print(render_table(stored.summary_rows()))
    return 0

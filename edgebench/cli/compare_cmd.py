"""``edgebench compare BASELINE CURRENT``: the regression gate for CI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """\
rules (--fail-on, repeatable):
  METRIC.STAT:+N%  or  METRIC.STAT:+N<unit>, optionally scoped with @key=glob[,key=glob]
  latency.{p50,p90,p95,p99,p999,mean,min,max}:+5%   latency.p50:+0.2ms
  throughput.{mean,p50}:-5%      memory.peak:+10%   memory.peak:+20MiB    memory.load:+10%
  energy.per_inference:+3%       power.avg:+5%      load.time:+20%        temperature.max:+5C
  latency.p99:+10%@model=kws_*,backend=tflite      (scope keys: model backend precision scenario case device)
  without --fail-on: latency.p50:+5% latency.p90:+10% memory.peak:+10%

A case is worse only when the change passes the threshold AND the statistic the rule names changed
significantly at --alpha: a two-level bootstrap (worker processes, then samples) of the ratio
current/baseline, and an exact rank test of that statistic's per-process values (the processes of the
two runs must separate: 5 a side at the least for alpha 0.01). Tail and mean rules need cases run in
several processes (the suite's [rules] processes = 6, as the gate suite does); with too few they are
"undecidable", as is a change below a case's noise floor (the spread between its processes).
Memory, energy, power and load time: one value per process, judged on the threshold (peak memory: on
the processes). Null-backend cases are gated only by rules scoped @backend=null.
Cases whose checked context differs (device, runtime or its version, model sha256, threads, precision, run
rules, inputs) are incomparable unless --allow-mismatch.

exit codes:
  0  pass: no case is worse (undecidable checks are listed with what would decide them, and do not fail)
  1  regression: at least one case is worse (or failed in CURRENT)
  2  usage or input error (bad rule, unknown baseline, an unreadable run.json or cases/*.json.gz)
  4  incomparable: nothing worse, but some case could not be compared (context or run rules differ, a case
     missing or skipped in one run)

examples:
  edgebench baseline save reports/main --name main
  edgebench compare main reports/pr --fail-on latency.p90:+5% --fail-on memory.peak:+10% \\
      --markdown "$GITHUB_STEP_SUMMARY" --junit compare.xml
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    from edgebench.analysis.compare import DEFAULT_ALPHA, TESTS

    parser = subparsers.add_parser(
        "compare", help="compare a run with a baseline; exit 1 on regression (CI gate)",
        description="Compare CURRENT with BASELINE case by case and fail on a regression. BASELINE is a run "
                    "directory or the name of a baseline saved with `edgebench baseline save`.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", metavar="BASELINE", help="run directory or baseline name")
    parser.add_argument("current", metavar="CURRENT", help="run directory (or baseline name)")
    parser.add_argument("--fail-on", action="append", default=[], metavar="RULE",
                        help="gate rule, e.g. latency.p90:+5%%; repeatable (see below)")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                        help=f"significance level of the test on raw samples (default: {DEFAULT_ALPHA:g})")
    parser.add_argument("--test", choices=TESTS, default="auto",
                        help="significance test: auto and bootstrap (default: the two-level bootstrap of the "
                             "named statistic), mwu (the former Mann-Whitney U on ranks, for the median)")
    parser.add_argument("--allow-mismatch", action="store_true",
                        help="compare even when device, runtime version, model file, threads or precision differ")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    parser.add_argument("--markdown", type=Path, metavar="FILE",
                        help="also write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the verdicts as JSON here")
    parser.add_argument("--store", type=Path, metavar="DIR", help="baseline store (see edgebench baseline)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the unchanged checks too")
    parser.set_defaults(func=run)


def _check_output(path: Path | None, option: str) -> None:
    """Fail before comparing, not after, when an output cannot be written."""
    from edgebench.errors import EdgebenchError

    if path is None:
        return
    if path.is_dir():
        raise EdgebenchError(f"{option} {path}: is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise EdgebenchError(f"{option} {path}: directory {parent} does not exist")


def run(args: argparse.Namespace) -> int:
    from edgebench.analysis.compare import compare_runs
    from edgebench.analysis.gates import DEFAULT_RULES, parse_rules
    from edgebench.cli.output import open_run
    from edgebench.reporting.comparison_text import render_text
    from edgebench.results.baselines import resolve

    rules = parse_rules(args.fail_on or list(DEFAULT_RULES))
    for path, option in ((args.junit, "--junit"), (args.markdown, "--markdown"), (args.json, "--json")):
        _check_output(path, option)
    base_dir, base_label = resolve(args.baseline, args.store)
    cur_dir, cur_label = resolve(args.current, args.store)
    baseline, current = open_run(base_dir), open_run(cur_dir)
    for opened in (baseline, current):
        opened.check_raw_files()  # a corrupt case file is an input error, whether or not its samples are needed
    comparison = compare_runs(baseline, current, rules, alpha=args.alpha,
                              allow_mismatch=args.allow_mismatch, test=args.test, labels=(base_label, cur_label))
    if args.json:
        import json

        args.json.write_text(json.dumps(comparison.to_json(), indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        from edgebench.reporting.markdown import render_comparison

        args.markdown.write_text(render_comparison(comparison), encoding="utf-8")
    if args.junit:
        from edgebench.reporting.junit import render_junit

        args.junit.write_text(render_junit(comparison), encoding="utf-8")
    print(render_text(comparison, args.verbose))
    sys.stdout.flush()
    return comparison.exit_code

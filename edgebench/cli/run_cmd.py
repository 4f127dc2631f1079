"""``edgebench run``: benchmark a suite on the device a profile describes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from edgebench.cli.progress import ProgressPrinter
from edgebench.cli.transport_args import add_transport_args

#: what ``run`` (and ``bench``) exit with (finish, run_to_end, and main for 2); the README's "Exit codes"
#: table says the same
EXIT_STATUS = """\
exit status:
  0    every case ended ok, or was skipped (a runtime or provider missing here)
  1    a case failed (a crash, an error, a timeout, a model file that is
       missing, damaged or changed) or was lost (a farm device with no
       worker); the other cases are measured and stored
  2    bad input: a suite, profile or option (one line names the file and
       key; no run directory is made)
  3    the device could not be reached, or was lost mid-run (SSH, the farm);
       finished cases are kept: edgebench run --resume RUN_DIR continues
  70   an internal error (a bug): one line, and the traceback in a log file
  130  interrupted (Ctrl-C); finished cases are kept, --resume continues
"""

OUTPUT = """\
output:
  While it runs, stderr gets one line per finished case and, on a terminal, a
  live line: [case/total], the time so far and, once a case has finished, an
  ETA (each case left takes its run rules' time plus what the finished cases
  took beyond theirs). At the end, stdout gets the table (fitted to the
  terminal; report.md keeps every column), where report.md and report.html
  are, and one line per warning (failed or skipped cases, noise, throttling).
"""

EPILOG = """\
examples:
  edgebench run --profile local                    the default suite, here
  edgebench run --profile local --filter '*int8*'  only the int8 cases
  edgebench run --profile local --fast             a quick check, few iterations
  edgebench run --resume reports/20261128-101500-local-default
  edgebench run --profile jetson-nano --tune       tune the device first
  edgebench run --profile jetson-nano --host 10.0.0.7
                                                   the shared profile, your board
  edgebench run --cluster tcp://lab:8786 --profile jetson-nano \\
                --profile raspberry-pi-5           a farm: all profiles at once
  edgebench bench model.onnx                       one model file, no suite file

""" + OUTPUT + "\n" + EXIT_STATUS

DESCRIPTION = """\
Run every case of a suite (models x backends x settings x scenarios) on the
device the profile describes, each in a fresh worker process, and write a run
directory with run.json, the raw samples, summary.csv, report.md and
report.html.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="benchmark a suite on a device",
        description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", metavar="NAME|PATH", action="append",
                        help="device profile: a name in device_profiles/ or a .toml path (default: local); "
                             "repeat it with --cluster to run on several devices at once")
    parser.add_argument("--cluster", metavar="tcp://HOST:PORT",
                        help="run on a Dask farm: each profile's cases go to the worker started there with "
                             "`edgebench agent --profile P`; all results land in one run directory")
    parser.add_argument("--tune", action="store_true",
                        help="apply the profile's [prepare] operations before the run (governor, nvpmodel, "
                             "jetson_clocks, fan) and restore the previous state after")
    parser.add_argument("--suite", metavar="NAME|PATH", default="default",
                        help="suite: a name in suites/ or a .toml path (default: default)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="run directory (default: reports/<time>-<profile>-<suite>)")
    parser.add_argument("--filter", action="append", default=[], metavar="PATTERN",
                        help="keep only cases whose id matches a glob, or key=value (backend=tflite); repeatable")
    parser.add_argument("--fast", action="store_true",
                        help="few iterations: check that every case runs, not a measurement to keep")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR",
                        help="finish an interrupted run: run the cases it has not finished")
    add_transport_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgebench.cli import transport_args
    from edgebench.config.locate import locate
    from edgebench.config.profile import load_profile
    from edgebench.config.suite import load_suite
    from edgebench.errors import ConfigError
    from edgebench.harness import runner

    profiles_given = args.profile or []
    address = transport_args.given(args)
    if len(profiles_given) > 1 and not args.cluster and not args.resume:
        raise ConfigError("--profile", "", "several profiles run together only on a farm: add --cluster tcp://HOST:PORT")
    if args.tune and (args.cluster or len(profiles_given) > 1):
        raise ConfigError("--tune", "", "tune farm devices with `edgebench system tune --profile P` on each")
    if args.resume:
        from edgebench.results.store import RunStore

        stored = RunStore.open(args.resume)
        for case_id, problem in stored.requeue_unreadable().items():
            print(f"edgebench: {problem}; case {case_id} runs again", file=sys.stderr)
        if stored.run_info.farm:
            return run_farm(args, stored)
        device = stored.run_info.devices[0]
        profile = load_profile(profiles_given[0] if profiles_given else str(device.profile_path))
        recorded = transport_args.recorded_address(device.transport)  # the address the run was started with
        origins = {k: f"{transport_args.OPTIONS[k]} (given when the run started)" for k in recorded}
        origins.update({k: transport_args.OPTIONS[k] for k in address})
        profile = transport_args.with_address(profile, {**recorded, **address}, origins)
        progress = ProgressPrinter()
        progress.plan(runner.resume_cases(stored))
        out_dir = args.resume
        action = lambda: runner.resume(out_dir, profile, progress)  # noqa: E731
        return run_to_end(action, out_dir, progress, interrupted_line(out_dir))
    if args.cluster:
        return run_farm(args, None)
    profile = transport_args.apply_args(load_profile(profiles_given[0] if profiles_given else "local"), args)
    suite = load_suite(locate(args.suite, "suites"))
    out_dir = args.out or runner.default_out_dir(suite, profile.name)
    options = runner.RunOptions(filters=tuple(args.filter), fast=args.fast)
    return run_suite(suite, profile, out_dir, options, tune=args.tune)


def run_suite(suite: Any, profile: Any, out_dir: Path, options: Any, tune: bool = False) -> int:
    """Run a parsed suite on one device into ``out_dir`` and finish (table, reports, exit status): what ``run``
    does with a suite file and ``bench`` with the suite it builds for one model file."""
    from edgebench.harness import runner
    from edgebench.transports import make_transport

    progress = ProgressPrinter()

    def action() -> Any:
        with make_transport(profile) as transport:
            store, cases = runner.start_run(suite, profile, out_dir, options, transport)
            progress.plan(cases)
            print(f"edgebench: {plural(len(cases), 'case')} of suite {suite.name} on {profile.name} -> {out_dir}",
                  file=sys.stderr)
            if tune or profile.prepare:
                from edgebench.cli.system_cmd import print_outcome
                from edgebench.harness.device_state import record_state, tuned

                with tuned(profile, transport, enabled=tune,
                           report=lambda action, outcome: print_outcome(action, outcome, sys.stderr)):
                    record_state(store, profile, transport)  # the device state the run ran in
                    runner.execute(store, cases, transport, progress)
            else:
                runner.execute(store, cases, transport, progress)
        return store

    return run_to_end(action, out_dir, progress, interrupted_line(out_dir))


def interrupted_line(out_dir: Path) -> str:
    """What Ctrl-C prints: where the finished cases are, and how to go on."""
    return (f"\nedgebench: interrupted; finished cases are kept in {out_dir}; "
            f"continue with: edgebench run --resume {out_dir}")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def run_to_end(action: Callable[[], Any], out_dir: Path, progress: ProgressPrinter, interrupted: str) -> int:
    """Run ``action`` (it returns the run's store) and ``finish``; a lost device exits 3 with the resume hint,
    Ctrl-C exits 130 after printing ``interrupted``. The live progress line is gone before anything else."""
    from edgebench.transports.base import TransportError

    try:
        try:
            store = action()
        finally:
            progress.close()
    except TransportError as exc:
        print(f"edgebench: error: {exc}", file=sys.stderr)
        resume_hint(out_dir)
        return 3
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
    print(file=sys.stderr)  # the table stands apart from the progress lines
    return finish(store)


def resume_hint(out_dir: Path) -> None:
    if (Path(out_dir) / "run.json").exists():
        print(f"edgebench: finished cases are kept in {out_dir}; continue with: edgebench run --resume {out_dir}",
              file=sys.stderr)


def run_farm(args: argparse.Namespace, stored: Any) -> int:
    """``--cluster``: every profile's cases on a Dask farm, one run directory (or ``--resume`` of one)."""
    from edgebench.cli import transport_args
    from edgebench.config.locate import locate
    from edgebench.config.profile import load_profile
    from edgebench.config.suite import load_suite
    from edgebench.errors import ConfigError
    from edgebench.harness import runner
    from edgebench.transports.dask_farm import DaskTransport

    address = transport_args.given(args)
    if address:
        raise ConfigError(", ".join(transport_args.OPTIONS[k] for k in address), "",
                          "a farm reaches each device through the `edgebench agent` running on it: no address here")
    if stored is not None:
        farm = stored.run_info
        profiles = [load_profile(p) for p in (args.profile or [str(d.profile_path) for d in farm.devices])]
        cluster = args.cluster or farm.scheduler
        out_dir = stored.directory
    else:
        profiles = [load_profile(p) for p in (args.profile or [])]
        if not profiles:
            raise ConfigError("--cluster", "", "name the devices with --profile (repeatable)")
        names = [p.name for p in profiles]
        if len(set(names)) != len(names):
            raise ConfigError("--profile", "", f"a device is named twice: {', '.join(names)}")
        cluster = args.cluster
        suite = load_suite(locate(args.suite, "suites"))
        out_dir = args.out or runner.default_out_dir(suite, "farm")
    progress = ProgressPrinter()

    def action() -> Any:
        with DaskTransport(profiles[0], scheduler=cluster, profiles=profiles) as transport:
            if stored is None:
                options = runner.RunOptions(filters=tuple(args.filter), fast=args.fast)
                store, cases, problems = runner.start_farm(suite, profiles, out_dir, options, transport)
            else:
                store = stored
                cases, problems = runner.resume_farm(store, profiles, transport)
            progress.plan(cases)
            for problem in problems.values():
                print(f"edgebench: error: {problem}", file=sys.stderr)
            print(f"edgebench: {len(cases)} cases on {len(profiles) - len(problems)} device(s) of the farm "
                  f"{cluster} -> {out_dir}", file=sys.stderr)
            runner.execute(store, cases, transport, progress)
        return store

    return run_to_end(action, out_dir, progress,
                      f"\nedgebench: interrupted; continue with: edgebench run --resume {out_dir}")


def finish(store: Any) -> int:
    """The reports, the table, where the reports are, the warnings, and the exit status: 1 when a case did
    not end ok or skipped (see EXIT_STATUS)."""
    from edgebench.cli.output import table_width
    from edgebench.reporting.table import render_table
    from edgebench.results.summary import csv_row

    model = after_run(store)
    width = table_width(sys.stdout)
    records = store.cases()
    print(render_table([csv_row(r) for r in records], width=width, problems=False))  # = summary_rows()
    print()
    print("\n".join(end_lines(store.directory, records, model, width)))
    bad = [r for r in records if r.status not in ("ok", "skipped")]
    if any(r.status == "lost" for r in bad):
        resume_hint(store.directory)
    return 1 if bad else 0


def end_lines(run_dir: Path, records: Any, model: Any, width: int | None) -> list[str]:
    """Where the run and its reports are, then one line per warning: each case that failed, was lost or was
    skipped (with why), then the report's warnings (noise, throttling, no sensors, --fast)."""
    from edgebench.reporting.run_reports import REPORT_HTML, REPORT_MD
    from edgebench.reporting.table import problem_line, wrap_line

    run_dir = Path(run_dir)
    lines = [f"run directory: {run_dir}"]
    reports = [run_dir / name for name in (REPORT_MD, REPORT_HTML) if (run_dir / name).is_file()]
    lines += [f"{'reports:' if index == 0 else '':15s}{path}" for index, path in enumerate(reports)]
    warnings = [problem_line({"status": r.status, "case_id": r.case_id, "error": r.problem or r.status})
                for r in records if r.status not in ("ok", "skipped")]
    warnings += [problem_line({"status": r.status, "case_id": r.case_id, "error": r.problem or "no reason given"})
                 for r in records if r.status == "skipped"]
    if model is not None:
        warnings += [w.text for w in model.warnings if w.kind != "failed"]  # failed: one line per case above
    if warnings:
        lines.append(f"{plural(len(warnings), 'warning')}:")
        lines += [wrap_line(f"  {w}", width) for w in warnings]
    return lines


def after_run(store: Any) -> Any:
    """Write the reports the run directory gets by default (when the reporting part is installed); the report
    model (for its warnings), or None when there is none."""
    try:
        from edgebench.reporting.run_reports import write_run_reports
    except ImportError:
        return None
    return write_run_reports(store.directory)

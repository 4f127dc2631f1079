"""``edgebench run``: benchmark a suite on the device a profile describes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from edgebench.cli.transport_args import add_transport_args

EPILOG = """\
examples:
  edgebench run --profile local                        the default suite on this machine
  edgebench run --profile local --filter '*int8*'      only the int8 cases
  edgebench run --profile local --fast                 a quick smoke test (few iterations)
  edgebench run --resume reports/20261128-101500-local-default
  edgebench run --profile jetson-nano --tune           tune the device first, restore it after
  edgebench run --profile jetson-nano --host 10.0.0.7  the shared profile, your board's address
  edgebench run --cluster tcp://lab:8786 --profile jetson-nano --profile raspberry-pi-5
                                                       a farm: every profile's cases on a Dask cluster
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="benchmark a suite on a device",
        description="Run every case of a suite (models x backends x settings x scenarios) on the device the "
                    "profile describes, each in a fresh worker process, and write a run directory with "
                    "run.json, the raw samples and summary.csv.",
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


class ProgressPrinter:
    """A live line on a terminal, plain lines otherwise (CI logs)."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = total
        self.done = 0

    def __call__(self, event: str, case: Any, record: dict[str, Any] | None) -> None:
        if event == "start":
            if self.tty:
                self.stream.write(f"\r\x1b[K[{self.done + 1}/{self.total}] {case.case_id} ...")
                self.stream.flush()
            return
        self.done += 1
        status = (record or {}).get("status", event)
        detail = ""
        summary = (record or {}).get("summary") or {}
        latency = summary.get("latency") or {}
        if status == "ok" and latency:
            detail = f"p50 {latency['p50_ns'] / 1e6:.3f} ms  n={latency['n']}"
        elif record and record.get("error"):
            detail = str(record["error"])
        prefix = "\r\x1b[K" if self.tty else ""
        self.stream.write(f"{prefix}[{self.done}/{self.total}] {status:7s} {case.case_id}  {detail}\n")
        self.stream.flush()


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
        if "farm" in stored.document:
            return run_farm(args, stored)
        profile = load_profile(profiles_given[0] if profiles_given else stored.document["profile"]["path"])
        recorded = transport_args.recorded_address(stored.document)  # the address the run was started with
        origins = {k: f"{transport_args.OPTIONS[k]} (given when the run started)" for k in recorded}
        origins.update({k: transport_args.OPTIONS[k] for k in address})
        profile = transport_args.with_address(profile, {**recorded, **address}, origins)
        progress = ProgressPrinter(len(stored.pending()))
        out_dir = args.resume
        action = lambda: runner.resume(out_dir, profile, progress)  # noqa: E731
    else:
        if args.cluster:
            return run_farm(args, None)
        profile = transport_args.apply_args(load_profile(profiles_given[0] if profiles_given else "local"), args)
        suite = load_suite(locate(args.suite, "suites"))
        out_dir = args.out or runner.default_out_dir(suite, profile.name)
        options = runner.RunOptions(filters=tuple(args.filter), fast=args.fast)
        progress = ProgressPrinter(0)

        def action() -> Any:
            with runner.make_transport(profile) as transport:
                store, cases = runner.start_run(suite, profile, out_dir, options, transport)
                progress.total = len(cases)
                print(f"edgebench: {len(cases)} cases of suite {suite.name} on {profile.name} -> {out_dir}",
                      file=sys.stderr)
                if args.tune or profile.prepare:
                    from edgebench.cli.system_cmd import record_state, tuned

                    with tuned(profile, transport, enabled=args.tune):
                        record_state(store, profile, transport)  # the device state the run ran in
                        runner.execute(store, cases, transport, progress)
                else:
                    runner.execute(store, cases, transport, progress)
            return store

    return run_to_end(action, out_dir, f"\nedgebench: interrupted; finished cases are kept in {out_dir}; "
                                       f"continue with: edgebench run --resume {out_dir}")


def run_to_end(action: Callable[[], Any], out_dir: Path, interrupted: str) -> int:
    """Run ``action`` (it returns the run's store) and ``finish``; a lost device exits 3 with the resume hint,
    Ctrl-C exits 130 after printing ``interrupted``."""
    from edgebench.transports.base import TransportError

    try:
        store = action()
    except TransportError as exc:
        print(f"edgebench: error: {exc}", file=sys.stderr)
        resume_hint(out_dir)
        return 3
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
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
        farm = stored.document["farm"]
        paths = farm["profile_paths"]
        profiles = [load_profile(p) for p in (args.profile or [paths[d] for d in farm["devices"]])]
        cluster = args.cluster or farm["scheduler"]
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
    progress = ProgressPrinter(0)

    def action() -> Any:
        with DaskTransport(profiles[0], scheduler=cluster, profiles=profiles) as transport:
            if stored is None:
                options = runner.RunOptions(filters=tuple(args.filter), fast=args.fast)
                store, cases, problems = runner.start_farm(suite, profiles, out_dir, options, transport)
            else:
                store = stored
                cases, problems = runner.resume_farm(store, profiles, transport)
            progress.total = len(cases)
            for problem in problems.values():
                print(f"edgebench: error: {problem}", file=sys.stderr)
            print(f"edgebench: {len(cases)} cases on {len(profiles) - len(problems)} device(s) of the farm "
                  f"{cluster} -> {out_dir}", file=sys.stderr)
            runner.execute(store, cases, transport, progress)
        return store

    return run_to_end(action, out_dir, f"\nedgebench: interrupted; continue with: edgebench run --resume {out_dir}")


def finish(store: Any) -> int:
    """Reports, the table, and the exit status: 1 when a case did not end ok or skipped."""
    from edgebench.reporting.table import render_table

    after_run(store)
    print(render_table(store.summary_rows()))
    print(f"\nrun directory: {store.directory}")
    bad = [r for r in store.records() if r["status"] not in ("ok", "skipped")]
    if any(r["status"] == "lost" for r in bad):
        resume_hint(store.directory)
    return 1 if bad else 0


def after_run(store: Any) -> None:
    """Write the reports the run directory gets by default (when the reporting part is installed)."""
    try:
        from edgebench.reporting.run_reports import write_run_reports
    except ImportError:
        return
    write_run_reports(store.directory)

"""``edgebench``: entry point. Sub-command modules are imported only to register their parsers; heavy
libraries (pandas, runtimes, asyncssh, dask) are imported inside the command that needs them, so
``edgebench --help`` answers at once."""

from __future__ import annotations

import argparse
import importlib
import sys

from edgebench import __version__
from edgebench.errors import EdgebenchError

#: sub-command modules, in the order ``--help`` lists them
COMMAND_MODULES = (
    "edgebench.cli.run_cmd",
    "edgebench.cli.bench_cmd",
    "edgebench.cli.show_cmd",
    "edgebench.cli.report_cmd",
    "edgebench.cli.compare_cmd",
    "edgebench.cli.baseline_cmd",
    "edgebench.cli.export_cmd",
    "edgebench.cli.sensors_cmd",
    "edgebench.cli.doctor_cmd",
    "edgebench.cli.system_cmd",
    "edgebench.cli.agent_cmd",
    "edgebench.cli.list_cmd",
)

DESCRIPTION = """\
Benchmark ML inference on the device a profile describes: latency, throughput, memory, power and
thermal throttling, for every model x backend x setting of a suite.

quick start:
  edgebench run --profile local              run the default suite on this machine
  edgebench show reports/<run>               the summary table of a run
  edgebench profiles | edgebench suites      what is available
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgebench", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"edgebench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a part this checkout does not have
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except EdgebenchError as exc:
        print(f"edgebench: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `edgebench show RUN | head`: the reader left; say nothing
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # an output path that cannot be written, a disk that is full
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"edgebench: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("edgebench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``edgebench``: entry point. Sub-command modules are imported only to register their parsers; heavy
libraries (pandas, runtimes, asyncssh, dask) are imported inside the command that needs them, so
``edgebench --help`` answers at once."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

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
    "edgebench.cli.history_cmd",
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


#: exit statuses of every command (the README's "Exit codes" lists them)
EXIT_OK = 0
#: run: a case failed or was lost; compare: a regression; doctor and system: a check failed
EXIT_FAILED = 1
#: usage, configuration or input error (a bad suite, profile, option or run directory): one line names it
EXIT_USAGE = 2
#: the device or its transport failed (SSH, Dask); the run directory keeps what finished
EXIT_DEVICE = 3
#: compare: nothing worse, but some case could not be compared
EXIT_INCOMPARABLE = 4
#: a bug in edgebench (EX_SOFTWARE from sysexits.h): one line, the traceback in a log file
EXIT_INTERNAL = 70
#: Ctrl-C (128 + SIGINT)
EXIT_INTERRUPTED = 130
#: the reader of stdout left (``edgebench show RUN | head``): 128 + SIGPIPE, silently
EXIT_BROKEN_PIPE = 141


def dispatch(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    return int(args.func(args) or 0)


def main(argv: list[str] | None = None) -> int:
    """Run a command; every way it can end is one of the exit codes above, and never a traceback."""
    try:
        return dispatch(argv)
    except EdgebenchError as exc:
        print(f"edgebench: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_status", EXIT_USAGE))  # a TransportError: EXIT_DEVICE
    except BrokenPipeError:  # `edgebench show RUN | head`: the reader left; say nothing
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # an output path that cannot be written, a disk that is full
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"edgebench: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("edgebench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - a bug: one line for the user, the traceback for the report
        log = write_crash_log(argv)
        where = f"traceback in {log}" if log else "no log could be written"
        message = " ".join(str(exc).split())[:300]
        print(f"edgebench: internal error: {type(exc).__name__}: {message} ({where})", file=sys.stderr)
        return EXIT_INTERNAL


def crash_log_dirs() -> list[Path]:
    """Where an internal error's traceback goes, first that can be written: the run directory this process
    was writing, else $XDG_STATE_HOME/edgebench (~/.local/state/edgebench), else the temporary directory."""
    import os
    import tempfile

    dirs = []
    store = sys.modules.get("edgebench.results.store")
    writing = getattr(store, "directory_being_written", lambda: None)()
    if writing is not None:
        dirs.append(Path(writing))
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    dirs += [Path(state) / "edgebench", Path(tempfile.gettempdir())]
    return dirs


def write_crash_log(argv: list[str] | None) -> Path | None:
    """Write the current exception's traceback (and the command line) to a new file; return its path."""
    import os
    import time
    import traceback

    name = f"edgebench-crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    text = (f"edgebench {__version__}, Python {sys.version.split()[0]}\n"
            f"command: {' '.join(sys.argv[:1] + list(argv if argv is not None else sys.argv[1:]))}\n\n"
            + traceback.format_exc())
    for directory in crash_log_dirs():
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


if __name__ == "__main__":
    sys.exit(main())

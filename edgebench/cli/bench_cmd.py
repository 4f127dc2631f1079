"""``edgebench bench MODEL``: benchmark one model file with no suite file, like TFLite's ``benchmark_model
--graph`` or ``onnxruntime_perf_test``.

The options become a suite built in memory, which goes through the same suite parser, runner, run directory,
reports and exit status as ``edgebench run``: ``show``, ``report``, ``compare`` and ``run --resume`` work on
its run directory as on any other.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable

from edgebench.cli.transport_args import add_transport_args

#: the backend each model format runs on when --backend is not given
FORMAT_BACKENDS = {"onnx": "onnxruntime", "tflite": "tflite"}

EPILOG = """\
examples:
  edgebench bench suites/models/kws_dscnn_fp32.onnx   onnxruntime, this machine
  edgebench bench m.tflite --threads 1,4 --batch 1,8  4 cases: threads x batch
  edgebench bench m.onnx --seconds 5 --warmup 20      5 s timed, 20 warm-ups
  edgebench bench m.onnx --iterations 1000            exactly 1000 inferences
  edgebench bench m.onnx --concurrency 4              4 sessions called at once
  edgebench bench m.onnx --set graph_optimization=basic   a backend setting
  edgebench bench m.tflite --profile raspberry-pi-5   on a device, over SSH
  edgebench bench m.onnx --backend null --set busy_wait_us=100
                                                      the harness alone

--input SPEC (repeatable) says how to fill one model input; the inputs it does
not name get seeded random data in the shape and dtype the runtime reports.
  --input x:1x3x224x224            this shape (for dynamic dimensions)
  --input sr=16000                 a fixed value (a JSON list for a tensor)
  --input image=@data.npy          from a .npy file (axis 0: samples, cycled)
  --input ids:1x128:range=0,30521  uniform in [LO, HI] (integers for int types)
  --input noise:normal=0,1         normal, with MEAN and STD
  --input mask:1x128=1             a shape, filled with one value
  --input "'serving_default_input:0':1x640"   a name with ':' goes in quotes

It makes the run directory `edgebench run` makes (reports/<time>-<profile>-
<name>/, with report.md and report.html), so `edgebench show DIR`,
`edgebench run --resume DIR` and `edgebench compare` read it.
"""

BENCH_EXIT = """\
  bench also exits 1 when every case was skipped: nothing was measured.
"""

DESCRIPTION = """\
Benchmark one .onnx or .tflite file on the device a profile describes (this
machine by default): latency percentiles, throughput, memory and, where the
profile has sensors, power and temperature. A list (--threads 1,4) makes a
matrix of cases, as in a suite.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    from edgebench.cli.run_cmd import EXIT_STATUS

    parser = subparsers.add_parser(
        "bench", help="benchmark one model file (no suite file needed)",
        description=DESCRIPTION,
        epilog=EPILOG + "\n" + EXIT_STATUS + BENCH_EXIT, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, metavar="MODEL", help="a .onnx or .tflite file")
    parser.add_argument("--backend", metavar="NAME",
                        help="onnxruntime, tflite, null or a plugin (default: the one that runs the model's "
                             "format: .onnx -> onnxruntime, .tflite -> tflite)")
    parser.add_argument("--threads", metavar="N[,N...]", type=threads_list,
                        help="intra-op threads, or all (default: the backend's default)")
    parser.add_argument("--batch", metavar="N[,N...]", type=counts_list, default=[1],
                        help="batch size; above 1 the model needs a dynamic batch dimension (default: 1)")
    parser.add_argument("--concurrency", metavar="N[,N...]", type=counts_list, default=[1],
                        help="sessions run at once, each called back to back by its own thread (default: 1)")
    parser.add_argument("--input", action="append", default=[], metavar="SPEC",
                        help="how to fill one input (repeatable; see below)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                        help="a backend setting, as in a suite's [[backends]] table: graph_optimization=basic, "
                             "xnnpack=false, providers='[\"CPUExecutionProvider\"]' (VALUE is JSON, else a string)")
    parser.add_argument("--precision", metavar="P",
                        help="what the table calls the model: fp32, fp16, int8 or mixed (default: from a "
                             "manifest.json beside the file, else fp32)")
    parser.add_argument("--name", metavar="NAME", type=model_name,
                        help="the model's name in the table and the run directory (default: the file name "
                             "without its extension)")
    parser.add_argument("--profile", metavar="NAME|PATH", default="local",
                        help="device profile: a name in device_profiles/ or a .toml path (default: local)")
    add_transport_args(parser)
    parser.add_argument("--sensors", metavar="NAME[,NAME...]|none",
                        help="sensors to sample instead of the profile's (none: no sampling)")
    loop = parser.add_mutually_exclusive_group()
    loop.add_argument("--seconds", type=positive_float, metavar="S",
                      help="time the loop for S seconds (default: at least 1 s and 50 inferences, then until the "
                           "median is known within 1%%, at most 10 s)")
    loop.add_argument("--iterations", type=positive_int, metavar="N",
                      help="exactly N timed inferences, however long they take")
    loop.add_argument("--min-iterations", type=positive_int, metavar="N",
                      help="at least N timed inferences (and 1 s), then as by default")
    parser.add_argument("--warmup", type=non_negative_int, metavar="N",
                        help="untimed inferences before the loop (default: 10, and at least 0.2 s)")
    parser.add_argument("--fast", action="store_true",
                        help="few iterations: check that the model runs, not a measurement to keep")
    parser.add_argument("--tune", action="store_true",
                        help="apply the profile's [prepare] operations first and restore them after")
    parser.add_argument("--profile-ops", action="store_true",
                        help="after the timed loop, a separate untimed pass under the runtime's per-operator "
                             "profiler (onnxruntime); time per operator type in show and the reports")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="run directory (default: reports/<time>-<profile>-<name>)")
    parser.set_defaults(func=run)


# -- argument types: a bad value is argparse's one-line usage error naming the option -------------------------
def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argument type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def model_name(text: str) -> str:
    """``--name``: it names the model in case ids and the run directory, so letters, digits and ``._+-``."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", text):
        raise argparse.ArgumentTypeError(f"{text!r}: use letters, digits and . _ + - (it names a directory)")
    return text


def counts_list(text: str) -> list[int]:
    """``4`` or ``1,8``: one or more different integers >= 1."""
    values = [positive_int(part.strip()) for part in text.split(",")]
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"a value is repeated: {text}")
    return values


def threads_list(text: str) -> list[Any]:
    """``1``, ``1,4`` or ``all``."""
    values: list[Any] = []
    for part in text.split(","):
        part = part.strip()
        values.append("all" if part == "all" else positive_int(part))
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"a value is repeated: {text}")
    return values


# -- the suite ---------------------------------------------------------------------------------------------------
def default_backend(model: Path) -> str:
    """The backend for a model file: by its format, today read from the file name's extension."""
    from edgebench.config.models import model_format

    return FORMAT_BACKENDS[model_format(model.name, str(model), "")]


def backend_settings(texts: list[str], threads: list[Any] | None) -> dict[str, Any]:
    """``--set KEY=VALUE`` and ``--threads``: the backend's table. VALUE is JSON where it parses, else a string."""
    from edgebench.errors import ConfigError

    settings: dict[str, Any] = {}
    for text in texts:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {text}", "", "expected KEY=VALUE, like graph_optimization=basic")
        if key == "threads":
            raise ConfigError(f"--set {text}", "", "give threads with --threads")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            raise ConfigError(f"--set {text}", "", "one value per setting (a list of lists would be a matrix axis)")
        settings[key] = value
    if threads:
        settings["threads"] = threads if len(threads) > 1 else threads[0]
    return settings


def scenarios(batches: list[int], streams: list[int]) -> list[dict[str, Any]]:
    """``--batch`` x ``--concurrency``: batch 1 is single_stream, larger batches the batch scenario, more than
    one stream the concurrent scenario (at every batch size)."""
    out: list[dict[str, Any]] = []
    if 1 in streams:
        if 1 in batches:
            out.append({"name": "single_stream"})
        larger = [b for b in batches if b > 1]
        if larger:
            out.append({"name": "batch", "batch": larger})
    several = [c for c in streams if c > 1]
    if several:
        out.append({"name": "concurrent", "batch": list(batches), "concurrency": several})
    return out


def suite_data(args: argparse.Namespace) -> dict[str, Any]:
    """The suite the options describe, as the suite parser reads it from a TOML file."""
    from edgebench.cli.input_arg import parse_input_args
    from edgebench.config.models import manifest_entry

    model_path = args.model.expanduser().resolve()
    name = args.name or manifest_entry(model_path).get("name") or model_path.stem
    name = re.sub(r"[^A-Za-z0-9._+-]", "_", name)  # a file called "my net.onnx" makes a directory ..-my_net
    model: dict[str, Any] = {"name": name, "path": str(model_path)}
    if args.precision:
        model["precision"] = args.precision
    inputs = parse_input_args(args.input)
    if inputs:
        for spec in inputs.values():
            if "data" in spec:  # the suite reads files relative to itself; here that is the working directory
                spec["data"] = str(Path(spec["data"]).expanduser().resolve())
        model["inputs"] = inputs
    rules: dict[str, Any] = {}
    if args.warmup is not None:
        rules.update(warmup_iterations=args.warmup, warmup_seconds=0.0)
    if args.seconds is not None:
        rules.update(min_seconds=args.seconds, max_seconds=args.seconds)
    if args.iterations is not None:
        rules.update(min_iterations=args.iterations, max_iterations=args.iterations, min_seconds=0.0,
                     max_seconds=ITERATIONS_MAX_SECONDS)
    if args.min_iterations is not None:
        rules.update(min_iterations=args.min_iterations)
    backend = {"name": args.backend or default_backend(model_path),
               **backend_settings(args.settings, args.threads)}
    if getattr(args, "profile_ops", False):
        backend["profile_ops"] = True
    return {"name": name, "description": f"edgebench bench {args.model}", "seed": 0, "rules": rules,
            "models": [model], "backends": [backend], "scenarios": scenarios(args.batch, args.concurrency)}


#: ``--iterations N`` runs N inferences however long they take: the loop's time limit is 23 hours (a case,
#: warm-up included, may take at most a day: config.fields.MAX_SECONDS)
ITERATIONS_MAX_SECONDS = 82_800.0

#: where a key of the built suite came from on the command line (for its error line)
_ARGUMENTS = (
    ("models[0].path", "MODEL"), ("models[0].precision", "--precision"), ("models[0].name", "--name"),
    ("models[0].inputs.", "--input"), ("models[0].inputs", "--input"), ("models[0]", "MODEL"),
    ("backends[0].name", "--backend"), ("backends[0].threads", "--threads"), ("backends[0].", "--set"),
    ("scenarios", "--batch/--concurrency"), ("rules.warmup", "--warmup"), ("rules.", "--seconds/--iterations"),
)


def argument_for(key: str) -> str:
    """The command-line argument a key of the built suite came from: ``backends[0].threads`` -> ``--threads``."""
    for prefix, argument in _ARGUMENTS:
        if key.startswith(prefix):
            if argument == "--set":
                return f"--set {key[len(prefix):].split('[')[0]}"
            if argument == "--input" and key.startswith("models[0].inputs."):
                return f"--input {key[len('models[0].inputs.'):].split('.')[0]}"
            return argument
    return "edgebench bench"


def build_suite(args: argparse.Namespace) -> Any:
    """The suite, through the same parser a suite file goes through; its errors name the option."""
    from edgebench.config.suite import parse_suite
    from edgebench.errors import ConfigError

    data = suite_data(args)
    try:
        # no suite file: the lines that name one (a bad model file, an input the worker refuses) say "bench"
        return parse_suite(data, Path(f"<bench {data['name']}>"))
    except ConfigError as exc:
        raise ConfigError(argument_for(exc.key), "", exc.problem) from None


def sensor_names(text: str) -> tuple[str, ...]:
    """``--sensors psutil,thermal`` (or ``none``): names of installed sensor plugins."""
    from edgebench import plugins
    from edgebench.errors import ConfigError

    if text.strip() == "none":
        return ()
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    known = plugins.names(plugins.GROUPS["sensors"])
    for name in names:
        if name not in known:
            raise ConfigError(f"--sensors {text}", "", f"no sensor {name!r} (known: {', '.join(known)}, or none)")
    if not names:
        raise ConfigError(f"--sensors {text}", "", "name one or more sensors, or none")
    return names


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from edgebench.cli.run_cmd import run_suite
    from edgebench.cli.transport_args import apply_args
    from edgebench.config.profile import load_profile
    from edgebench.errors import ConfigError
    from edgebench.harness import runner
    from edgebench.results.store import RunStore

    if args.fast:
        given = [o for o, v in (("--seconds", args.seconds), ("--iterations", args.iterations),
                               ("--min-iterations", args.min_iterations), ("--warmup", args.warmup)) if v is not None]
        if given:
            raise ConfigError("--fast", "", f"sets its own short run rules: drop {given[0]} (or --fast)")
    if not args.model.is_file():
        raise ConfigError(str(args.model), "", "file not found" if not args.model.exists() else "not a file")
    profile = apply_args(load_profile(args.profile), args)
    if args.sensors is not None:
        profile = replace(profile, sensors=replace(profile.sensors, expected=sensor_names(args.sensors)))
    suite = build_suite(args)
    out_dir = args.out or runner.default_out_dir(suite, profile.name)
    code = run_suite(suite, profile, out_dir, runner.RunOptions(fast=args.fast), tune=args.tune)
    if code == 0 and not any(r.status == "ok" for r in RunStore.open(out_dir).cases()):
        # a suite may skip what a device lacks; a benchmark of one model that measured nothing has failed
        print("edgebench: nothing was measured: every case was skipped (the reasons are above)", file=sys.stderr)
        return 1
    return code

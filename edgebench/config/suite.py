"""Suites: which models, on which backends with which settings, in which scenarios, under which run rules."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from edgebench import plugins
from edgebench.config.fields import (
    MAX_BATCH,
    MAX_CONCURRENCY,
    MAX_ITERATIONS,
    MAX_SECONDS,
    MAX_THREADS,
    Table,
    as_list,
    check_name,
    check_number,
    check_type,
    load_toml,
)
from edgebench.config.inputs import check_against_onnx, parse_inputs
from edgebench.config.loadgen_settings import LOADGEN_SCENARIOS, LoadgenSettings
from edgebench.config.models import ModelFile, resolve_local, resolve_url
from edgebench.errors import ConfigError
from edgebench.wire import RunRules
from edgebench.worker.inputs import InputSpec

SCENARIOS = ("single_stream", "batch", "concurrent", "sustained") + LOADGEN_SCENARIOS
PRECISIONS = ("fp32", "fp16", "int8", "mixed")
#: fidelity's reference by default: the fp32 source of each model on onnxruntime (its CPU provider)
DEFAULT_REFERENCE = {"precision": "fp32", "backend": "onnxruntime"}


def default_batch(scenario: str) -> tuple[int, ...]:
    """The batch sizes a scenario runs when neither its table nor an include rule names any."""
    return (8,) if scenario == "batch" else (1,)


def default_concurrency(scenario: str) -> tuple[int, ...]:
    """The numbers of streams a scenario runs when neither its table nor an include rule names any."""
    return (2,) if scenario == "concurrent" else (1,)


#: worker processes per case: enough for any between-process estimate, few enough to bound a typo's cost
MAX_PROCESSES = 50


def parse_run_rules(table: Table, base: RunRules | None = None) -> RunRules:
    """The suite's ``[rules]``: every rule bounded (see fields: MAX_ITERATIONS, MAX_SECONDS); minimums not above
    maximums. Unnamed rules keep ``base``'s values (default: :class:`RunRules`' defaults)."""
    base = base or RunRules()
    rules = RunRules(
        warmup_iterations=table.integer("warmup_iterations", base.warmup_iterations, 0, MAX_ITERATIONS),
        warmup_seconds=table.seconds("warmup_seconds", base.warmup_seconds),
        min_iterations=table.integer("min_iterations", base.min_iterations, 1, MAX_ITERATIONS),
        min_seconds=table.seconds("min_seconds", base.min_seconds),
        max_seconds=table.seconds("max_seconds", base.max_seconds, above=0.0),
        max_iterations=table.integer("max_iterations", base.max_iterations, 1, MAX_ITERATIONS),
        target_ci_rel_width=table.number("target_ci_rel_width", base.target_ci_rel_width, 0.0, 1.0),
        confidence=table.number("confidence", base.confidence, 0.5, 0.999),
        processes=table.integer("processes", base.processes, 1, MAX_PROCESSES),
    )
    table.done()
    if rules.max_seconds < rules.min_seconds:
        raise table.error("max_seconds", f"must be >= min_seconds ({rules.min_seconds}), got {rules.max_seconds}")
    if rules.max_iterations < rules.min_iterations:
        raise table.error("max_iterations", f"must be >= min_iterations ({rules.min_iterations}), "
                                            f"got {rules.max_iterations}")
    return rules


@dataclass(frozen=True)
class ModelSpec:
    name: str
    precision: str
    files: tuple[ModelFile, ...]
    #: what the suite says about each input (shape, value, range, normal, data), by input name
    inputs: Mapping[str, InputSpec] = field(default_factory=dict)
    key: str = ""
    #: the input names of each file the host could read (ONNX), by path: which ``inputs`` apply to which file
    input_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: a generated variant of the suite's model (its precision is the variant's name): the recipe it asks for
    variant: str | None = None
    #: ``[models.accuracy]``: labelled data (config/accuracy.py); {} when none
    accuracy: Mapping[str, Any] = field(default_factory=dict)

    def inputs_for(self, model_file: ModelFile) -> tuple[dict[str, InputSpec], tuple[str, ...]]:
        """The specs that apply to ``model_file``, and the input names of the model's other files (a model in
        several formats may name its inputs differently in each)."""
        names = self.input_names.get(str(model_file.path))
        if names is not None:
            return {n: s for n, s in self.inputs.items() if n in names}, ()
        elsewhere = {n for path, file_names in self.input_names.items() for n in file_names}
        return dict(self.inputs), tuple(sorted(elsewhere))

    def file_for(self, formats: tuple[str, ...]) -> ModelFile | None:
        for model_file in self.files:
            if model_file.format in formats:
                return model_file
        return None


@dataclass(frozen=True)
class BackendSpec:
    name: str
    #: setting -> the values it takes in the matrix
    settings: Mapping[str, tuple[Any, ...]]
    key: str = ""
    #: ``profile_ops = true``: each case adds an untimed pass under the runtime's per-operator profiler
    profile_ops: bool = False


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    batch: tuple[int, ...] = (1,)
    duration_s: float | None = None
    key: str = ""
    #: the concurrent scenario: how many streams (sessions, each called back to back by its own thread)
    concurrency: tuple[int, ...] = (1,)
    #: the scenarios MLPerf LoadGen drives (server, offline, multistream; single_stream with loadgen = true)
    loadgen: LoadgenSettings | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    description: str
    seed: int
    rules: RunRules
    models: tuple[ModelSpec, ...]
    backends: tuple[BackendSpec, ...]
    scenarios: tuple[ScenarioSpec, ...]
    include: tuple[Mapping[str, Any], ...] = ()
    exclude: tuple[Mapping[str, Any], ...] = ()
    #: what fidelity compares each case with: this precision (variant) of the same model on this backend
    reference: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_REFERENCE))

    def to_json(self) -> dict[str, Any]:
        """The resolved suite, as recorded in run.json."""
        return {
            "name": self.name,
            "path": str(self.path),
            "description": self.description,
            "seed": self.seed,
            "rules": asdict(self.rules),
            "models": [
                {"name": m.name, "precision": m.precision,
                 "files": [{"path": str(f.path), "format": f.format, "sha256": f.sha256,
                            "bytes": f.size_bytes, "url": f.url, **({"problem": f.problem} if f.problem else {})}
                           for f in m.files],
                 "inputs": {name: spec.to_json() for name, spec in m.inputs.items()},
                 **({"accuracy": dict(m.accuracy)} if m.accuracy else {}),
                 **({"variant": m.variant,
                     "variant_files": [dict(f.variant, unavailable=f.unavailable) for f in m.files]}
                    if m.variant else {})}
                for m in self.models
            ],
            "backends": [{"name": b.name, "settings": {k: list(v) for k, v in b.settings.items()},
                          **({"profile_ops": True} if b.profile_ops else {})}
                         for b in self.backends],
            "scenarios": [{"name": s.name, "batch": list(s.batch), "duration_s": s.duration_s,
                           **({"concurrency": list(s.concurrency)} if takes_concurrency(s.name) else {}),
                           **({"loadgen": s.loadgen.to_json()} if s.loadgen else {})}
                          for s in self.scenarios],
            "include": [dict(r) for r in self.include],
            "exclude": [dict(r) for r in self.exclude],
            "reference": dict(self.reference),
        }

    def digest(self) -> str:
        blob = json.dumps(self.to_json(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _parse_model(table: Table, base_dir: Path, seed: int = 0) -> list[ModelSpec]:
    """The model, or with ``variants`` one model per variant (built here, or found in the cache)."""
    variants = table.raw("variants", None) if table.has("variants") else None
    model = _parse_one_model(table, base_dir)
    if variants is None:
        return [model]
    from edgebench.config.variants import expand_variants

    return expand_variants(model, as_list(variants), table, seed)


def _parse_one_model(table: Table, base_dir: Path) -> ModelSpec:
    name = table.safe_name("name")
    sha256 = table.get("sha256", str, None)
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise table.error("sha256", f"expected 64 hexadecimal digits, got {sha256!r}")
    files: list[ModelFile] = []
    if table.has("url"):
        if sha256 is None:
            raise table.error("sha256", "required with url (the download is checked against it)")
        files.append(resolve_url(table.get("url", str), sha256, table.source, table.key("url")))
    if table.has("path") or not files:
        paths = as_list(table.raw("path"))
        if not paths:
            raise table.error("path", "an empty list: give at least one model file")
        for index, rel in enumerate(paths):
            key = table.key("path") + (f"[{index}]" if isinstance(table.data["path"], list) else "")
            check_type(rel, str, table.source, key)
            files.append(resolve_local(base_dir / rel, sha256, table.source, key))
    precision = table.get("precision", str, None) or files[0].manifest.get("precision") or "fp32"
    if precision not in PRECISIONS:
        raise table.error("precision", f"must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    inputs = parse_inputs(table, base_dir)
    from edgebench.config.accuracy import parse_accuracy

    accuracy, inputs = parse_accuracy(table.table("accuracy"), base_dir, inputs)
    table.done()
    names = check_against_onnx(inputs, tuple(files), table.source)
    return ModelSpec(name, precision, tuple(files), inputs, table.prefix, names, accuracy=accuracy)


def _parse_backend(table: Table) -> BackendSpec:
    name = table.get("name", str)
    try:
        backend = plugins.load("edgebench.backends", name)
    except plugins.PluginError as exc:
        raise table.error("name", str(exc)) from None
    settings: dict[str, tuple[Any, ...]] = {}
    profile_ops = table.get("profile_ops", bool, False)
    for key, value in table.data.items():
        if key in ("name", "profile_ops"):
            continue
        table.raw(key)
        if key not in backend.settings_schema:
            known = ", ".join(sorted(backend.settings_schema))
            raise table.error(key, f"unknown setting for backend {name} (known: {known})")
        if key in backend.list_settings:
            # a list of strings is one value; a list of lists is an axis of several values
            axis = value if value and all(isinstance(v, list) for v in value) else [value]
        else:
            axis = as_list(value)
        if not axis:
            raise table.error(key, "an empty list: give at least one value")
        for index, item in enumerate(axis):
            item_key = table.key(key) + (f"[{index}]" if len(axis) > 1 else "")
            check_setting(backend, key, item, table.source, item_key)
        settings[key] = tuple(axis)
    table.done()
    return BackendSpec(name, settings, table.prefix, profile_ops)


def check_setting(backend: Any, key: str, value: Any, source: str, item_key: str) -> None:
    """One value of a backend setting: its type, ``threads`` 1..MAX_THREADS or ``"all"``, then whatever the
    backend itself says about it (``Backend.check_setting``: choices, ranges, the shape of a delegate)."""
    types = backend.settings_schema[key]
    if key.endswith("threads") and str in types:
        if isinstance(value, str):
            if value != "all":
                raise ConfigError(source, item_key, f"expected an integer or \"all\", got {value!r}")
            return
        types = (int,)
    check_type(value, types, source, item_key)
    if key.endswith("threads"):
        check_number(value, source, item_key, 1, MAX_THREADS)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        check_number(value, source, item_key)
    problem = backend.check_setting(key, value)
    if problem:
        raise ConfigError(source, item_key, problem)


def check_threads(suite: Suite, cores: int, device: str) -> None:
    """``threads`` (and ``inter_op_threads``) at most 4 x the device's cores: more only oversubscribes it.
    Checked when the device is known (its profile or its probe), before the run directory exists."""
    limit = 4 * max(int(cores), 1)
    where: list[tuple[str, Any]] = []
    for backend in suite.backends:
        for key, axis in backend.settings.items():
            if key.endswith("threads"):
                where += [(f"{backend.key}.{key}" + (f"[{i}]" if len(axis) > 1 else ""), v)
                          for i, v in enumerate(axis)]
    for index, rule in enumerate(suite.include):
        where += [(f"include[{index}].{k}", v) for k, v in rule.items() if k.endswith("threads")]
    for key, value in where:
        if isinstance(value, int) and not isinstance(value, bool) and value > limit:
            raise ConfigError(str(suite.path), key, f"{value} threads is more than 4 x the {cores} cores of "
                                                    f"{device} ({limit}); use at most {limit}, or \"all\"")


def check_case_duration(rules: RunRules, duration_s: float | None, streams: int, source: str, key: str) -> None:
    """One case may run for at most MAX_SECONDS: its loop plus the warm-up of each of its streams. Each bound
    holds alone, but together (256 streams x a day of warm-up) they would overflow a worker's timeout."""
    loop = duration_s if duration_s is not None else rules.max_seconds
    total = loop + streams * rules.warmup_seconds
    if total > MAX_SECONDS:
        loop_key = "duration_s" if duration_s is not None else "max_seconds"
        raise ConfigError(source, key, f"a case would run up to {total:.0f} s ({loop_key} + {streams} stream(s) x "
                                       f"warmup_seconds), more than the {MAX_SECONDS:.0f} s one case may take")


def _check_include(table: Table, rules: RunRules) -> dict[str, Any]:
    """An include rule's settings are values of the backend it names: held to the same checks."""
    rule = dict(table.data)
    backend_name = rule.get("backend")
    if not isinstance(backend_name, str) or any(c in backend_name for c in "*?["):
        return rule
    try:
        backend = plugins.load("edgebench.backends", backend_name)
    except plugins.PluginError as exc:
        raise table.error("backend", str(exc)) from None
    for key, value in rule.items():
        if key in backend.settings_schema:
            check_setting(backend, key, value, table.source, table.key(key))
    for key, maximum in (("batch", MAX_BATCH), ("concurrency", MAX_CONCURRENCY)):
        if isinstance(rule.get(key), int):  # anything else: the matrix says "expected one integer"
            check_number(rule[key], table.source, table.key(key), 1, maximum)
    if isinstance(rule.get("concurrency"), int):
        check_case_duration(rules, None, rule["concurrency"], table.source, table.key("concurrency"))
    return rule


def check_counts(values: list[Any], table: Table, key: str, maximum: int) -> None:
    """``batch`` and ``concurrency``: one or more different integers in 1..maximum."""
    if not values:
        raise table.error(key, "an empty list: give at least one value")
    for value in values:
        check_type(value, int, table.source, table.key(key))
        check_number(value, table.source, table.key(key), 1, maximum)
    if len(set(values)) != len(values):
        raise table.error(key, f"a value is repeated: {values}")


def takes_concurrency(scenario: str) -> bool:
    """``concurrent`` and the LoadGen scenarios run N sessions (streams) at once."""
    return scenario == "concurrent" or scenario in LOADGEN_SCENARIOS


def _parse_scenario(table: Table) -> ScenarioSpec:
    name = table.get("name", str)
    if name not in SCENARIOS:
        raise table.error("name", f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    batch = as_list(table.raw("batch", list(default_batch(name))))
    check_counts(batch, table, "batch", MAX_BATCH)
    if name == "server" and batch != [1]:
        raise table.error("batch", "the server scenario issues one sample per query and serves it alone (batch 1); "
                                   "for batched throughput use the offline scenario")
    duration = table.seconds("duration_s", None, minimum=None, above=0.0)
    if name == "sustained" and duration is None:
        raise table.error("duration_s", "missing required key (how long the sustained scenario runs)")
    if not takes_concurrency(name) and table.has("concurrency"):
        raise table.error("concurrency", "only the concurrent, server, offline and multistream scenarios take "
                                         "concurrency")
    if name in LOADGEN_SCENARIOS and duration is not None:
        raise table.error("duration_s", f"the {name} scenario runs for LoadGen's min_duration_s")
    if name == "concurrent" and duration is not None:
        raise table.error("duration_s", "the concurrent scenario runs for the rules' max_seconds; for a fixed "
                                        "time under load use the sustained scenario")
    concurrency = as_list(table.raw("concurrency", list(default_concurrency(name))))
    check_counts(concurrency, table, "concurrency", MAX_CONCURRENCY)
    through_loadgen = name in LOADGEN_SCENARIOS or (name == "single_stream" and table.get("loadgen", bool, False))
    loadgen = LoadgenSettings.parse(table, name) if through_loadgen else None
    table.done()
    return ScenarioSpec(name, tuple(batch), duration, table.prefix, tuple(concurrency), loadgen)


def parse_suite(data: Mapping[str, Any], path: Path) -> Suite:
    top = Table(data, str(path))
    if top.has("name"):
        name = top.safe_name("name")
    else:
        name = check_name(path.stem, str(path), "name (taken from the file name)")
    description = top.get("description", str, "")
    seed = top.integer("seed", 0, 0, 2**32 - 1)
    rules = parse_run_rules(top.table("rules"))
    models = tuple(m for t in top.tables("models", required=True) for m in _parse_model(t, path.parent, seed))
    if not models:
        raise top.error("models", "the suite names no model")
    seen: set[tuple[str, str]] = set()
    for model in models:
        if (model.name, model.precision) in seen:
            raise ConfigError(str(path), f"{model.key}.name", f"duplicate model {model.name} {model.precision}")
        seen.add((model.name, model.precision))
    backends = tuple(_parse_backend(t) for t in top.tables("backends", required=True))
    scenarios = tuple(_parse_scenario(t) for t in top.tables("scenarios")) or (ScenarioSpec("single_stream"),)
    for scenario in scenarios:
        check_case_duration(rules, scenario.duration_s, max(scenario.concurrency), str(path),
                            scenario.key or "scenarios")
    include = tuple(_check_include(t, rules) for t in top.tables("include"))
    exclude = tuple(dict(t.data) for t in top.tables("exclude"))
    reference = _parse_reference(top.table("reference"))
    top.done()
    return Suite(name, path, description, seed, rules, models, backends, scenarios, include, exclude, reference)


def _parse_reference(table: Table) -> dict[str, str]:
    """``[reference]``: the precision (variant) and backend whose outputs every case of a model is compared with."""
    out = {"precision": table.get("precision", str, DEFAULT_REFERENCE["precision"]),
           "backend": table.get("backend", str, DEFAULT_REFERENCE["backend"])}
    table.done()
    return out


def load_suite(path: Path) -> Suite:
    return parse_suite(load_toml(path), path)

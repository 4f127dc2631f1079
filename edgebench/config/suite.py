"""Suites: which models, on which backends with which settings, in which scenarios, under which run rules."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from edgebench import plugins
from edgebench.config.fields import Table, as_list, check_type, load_toml
from edgebench.config.loadgen_settings import LOADGEN_SCENARIOS, LoadgenSettings
from edgebench.config.models import ModelFile, resolve_local, resolve_url
from edgebench.errors import ConfigError

SCENARIOS = ("single_stream", "batch", "concurrent", "sustained") + LOADGEN_SCENARIOS
PRECISIONS = ("fp32", "fp16", "int8", "mixed")


def default_batch(scenario: str) -> tuple[int, ...]:
    """The batch sizes a scenario runs when neither its table nor an include rule names any."""
    return (8,) if scenario == "batch" else (1,)


def default_concurrency(scenario: str) -> tuple[int, ...]:
    """The numbers of streams a scenario runs when neither its table nor an include rule names any."""
    return (2,) if scenario == "concurrent" else (1,)


@dataclass(frozen=True)
class RunRules:
    """When the timed loop may stop (pyperf/LoadGen style: a minimum count AND a minimum duration)."""

    warmup_iterations: int = 10
    warmup_seconds: float = 0.2
    min_iterations: int = 50
    min_seconds: float = 1.0
    max_seconds: float = 10.0
    max_iterations: int = 1_000_000
    #: stop early once the CI of the median is narrower than this fraction of the median
    target_ci_rel_width: float = 0.01
    confidence: float = 0.95

    @classmethod
    def parse(cls, table: Table, base: RunRules | None = None) -> RunRules:
        base = base or cls()
        values = {}
        for name, default in asdict(base).items():
            minimum = 0 if name != "confidence" else 0.5
            values[name] = table.number(name, default, minimum=minimum)
            if name.endswith("iterations"):
                values[name] = int(values[name])
        table.done()
        rules = cls(**values)
        if rules.max_seconds < rules.min_seconds:
            raise table.error("max_seconds", f"must be >= min_seconds ({rules.min_seconds})")
        if not rules.confidence < 1:
            raise table.error("confidence", "must be below 1")
        return rules

    def fast(self) -> RunRules:
        """``--fast``: a smoke test of the suite, not a measurement to keep."""
        return RunRules(warmup_iterations=2, warmup_seconds=0.0, min_iterations=10, min_seconds=0.05,
                        max_seconds=0.5, max_iterations=self.max_iterations,
                        target_ci_rel_width=0.05, confidence=self.confidence)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    precision: str
    files: tuple[ModelFile, ...]
    #: fixed shapes for inputs with dynamic dimensions other than the batch
    input_shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    key: str = ""

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
                            "bytes": f.size_bytes, "url": f.url} for f in m.files],
                 "input_shapes": {k: list(v) for k, v in m.input_shapes.items()}}
                for m in self.models
            ],
            "backends": [{"name": b.name, "settings": {k: list(v) for k, v in b.settings.items()}}
                         for b in self.backends],
            "scenarios": [{"name": s.name, "batch": list(s.batch), "duration_s": s.duration_s,
                           **({"concurrency": list(s.concurrency)} if takes_concurrency(s.name) else {}),
                           **({"loadgen": s.loadgen.to_json()} if s.loadgen else {})}
                          for s in self.scenarios],
            "include": [dict(r) for r in self.include],
            "exclude": [dict(r) for r in self.exclude],
        }

    def digest(self) -> str:
        blob = json.dumps(self.to_json(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _parse_model(table: Table, base_dir: Path) -> ModelSpec:
    name = table.get("name", str)
    sha256 = table.get("sha256", str, None)
    files: list[ModelFile] = []
    if table.has("url"):
        if sha256 is None:
            raise table.error("sha256", "required with url (the download is checked against it)")
        files.append(resolve_url(table.get("url", str), sha256, table.source, table.key("url")))
    if table.has("path") or not files:
        paths = as_list(table.raw("path"))
        for index, rel in enumerate(paths):
            key = table.key("path") + (f"[{index}]" if isinstance(table.data["path"], list) else "")
            check_type(rel, str, table.source, key)
            files.append(resolve_local((base_dir / rel).resolve(), sha256, table.source, key))
    precision = table.get("precision", str, None) or files[0].manifest.get("precision") or "fp32"
    if precision not in PRECISIONS:
        raise table.error("precision", f"must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    shapes: dict[str, tuple[int, ...]] = {}
    shape_table = table.table("input_shapes")
    for input_name in shape_table.data:
        shape = shape_table.get(input_name, list)
        for dim in shape:
            check_type(dim, int, table.source, shape_table.key(input_name))
        shapes[input_name] = tuple(shape)
    table.done()
    return ModelSpec(name, precision, tuple(files), shapes, table.prefix)


def _parse_backend(table: Table) -> BackendSpec:
    name = table.get("name", str)
    try:
        backend = plugins.load("edgebench.backends", name)
    except plugins.PluginError as exc:
        raise table.error("name", str(exc)) from None
    settings: dict[str, tuple[Any, ...]] = {}
    for key, value in table.data.items():
        if key == "name":
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
        for index, item in enumerate(axis):
            item_key = table.key(key) + (f"[{index}]" if len(axis) > 1 else "")
            check_type(item, backend.settings_schema[key], table.source, item_key)
            if key.endswith("threads") and isinstance(item, str) and item != "all":
                raise ConfigError(table.source, item_key, f"expected an integer or \"all\", got {item!r}")
        settings[key] = tuple(axis)
    table.done()
    return BackendSpec(name, settings, table.prefix)


def check_counts(values: list[Any], table: Table, key: str) -> None:
    """``batch`` and ``concurrency``: one or more different integers >= 1."""
    if not values:
        raise table.error(key, "an empty list: give at least one value")
    for value in values:
        check_type(value, int, table.source, table.key(key))
        if value < 1:
            raise table.error(key, f"must be >= 1, got {value}")
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
    check_counts(batch, table, "batch")
    if name == "server" and batch != [1]:
        raise table.error("batch", "the server scenario issues one sample per query and serves it alone (batch 1); "
                                   "for batched throughput use the offline scenario")
    duration = table.number("duration_s", None, minimum=0)
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
    check_counts(concurrency, table, "concurrency")
    through_loadgen = name in LOADGEN_SCENARIOS or (name == "single_stream" and table.get("loadgen", bool, False))
    loadgen = LoadgenSettings.parse(table, name) if through_loadgen else None
    table.done()
    return ScenarioSpec(name, tuple(batch), duration, table.prefix, tuple(concurrency), loadgen)


def parse_suite(data: Mapping[str, Any], path: Path) -> Suite:
    top = Table(data, str(path))
    name = top.get("name", str, path.stem)
    description = top.get("description", str, "")
    seed = top.get("seed", int, 0)
    rules = RunRules.parse(top.table("rules"))
    models = tuple(_parse_model(t, path.parent) for t in top.tables("models", required=True))
    if not models:
        raise top.error("models", "the suite names no model")
    seen: set[tuple[str, str]] = set()
    for model in models:
        if (model.name, model.precision) in seen:
            raise ConfigError(str(path), f"{model.key}.name", f"duplicate model {model.name} {model.precision}")
        seen.add((model.name, model.precision))
    backends = tuple(_parse_backend(t) for t in top.tables("backends", required=True))
    scenarios = tuple(_parse_scenario(t) for t in top.tables("scenarios")) or (ScenarioSpec("single_stream"),)
    include = tuple(dict(t.data) for t in top.tables("include"))
    exclude = tuple(dict(t.data) for t in top.tables("exclude"))
    top.done()
    return Suite(name, path, description, seed, rules, models, backends, scenarios, include, exclude)


def load_suite(path: Path) -> Suite:
    return parse_suite(load_toml(path), path)

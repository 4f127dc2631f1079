"""Expand a suite into cases: models x backends x settings x scenarios, with include/exclude rules.

``exclude`` drops every case that matches a rule; ``include`` adds cases (as in a GitHub Actions matrix):
a rule that names ``model`` and ``backend`` adds that combination, with the settings and scenario it gives.
A rule's values may be a value, a list of values, or a glob (``"kws_*"``).
"""

from __future__ import annotations

import fnmatch
import itertools
from typing import Any, Iterable, Mapping, Sequence

from edgebench import plugins
from edgebench.config.loadgen_settings import INSTALL_HINT, LOADGEN_SCENARIOS, LoadgenSettings
from edgebench.config.profile import DeviceProfile
from edgebench.config.suite import (
    SCENARIOS,
    BackendSpec,
    ModelSpec,
    ScenarioSpec,
    Suite,
    default_batch,
    default_concurrency,
    takes_concurrency,
)
from edgebench.errors import ConfigError
from edgebench.wire import DEFAULT_FIDELITY_INPUTS, Case, make_case_id

CASE_FIELDS = ("model", "precision", "format", "backend", "scenario", "batch", "concurrency", "case_id")


def rule_matches(rule: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    for key, wanted in rule.items():
        if key not in labels:
            return False
        value = labels[key]
        options = wanted if isinstance(wanted, list) and not isinstance(value, list) else [wanted]
        if not any(_value_matches(option, value) for option in options):
            return False
    return True


def _value_matches(pattern: Any, value: Any) -> bool:
    if isinstance(pattern, str) and isinstance(value, str):
        return fnmatch.fnmatchcase(value, pattern)
    return bool(pattern == value)


def _settings_product(backend: BackendSpec) -> list[dict[str, Any]]:
    keys = sorted(backend.settings)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(backend.settings[k] for k in keys))]


def _case(suite: Suite, model: ModelSpec, backend_name: str, settings: dict[str, Any],
          scenario: ScenarioSpec, batch: int, concurrency: int = 1) -> Case:
    backend = plugins.load("edgebench.backends", backend_name)
    model_file = model.file_for(backend.formats)
    skip = None
    if model_file is None:
        have = ", ".join(f.format for f in model.files)
        skip = f"backend {backend_name} runs {'/'.join(backend.formats)} models; {model.name} is {have}"
        model_file = model.files[0]
    problem = model_file.problem if skip is None else None
    if skip is None and model_file.unavailable:  # a variant the installed tools cannot build
        skip = model_file.unavailable
    # single_stream through LoadGen is its own case beside the plain one
    id_scenario = "loadgen_single_stream" if scenario.loadgen and scenario.name == "single_stream" else scenario.name
    case_id = make_case_id(model.name, model.precision, backend_name, settings, id_scenario, batch, concurrency)
    rules = suite.rules
    inputs, elsewhere = model.inputs_for(model_file)
    return Case(
        case_id=case_id, model=model.name, precision=model.precision, format=model_file.format,
        model_path=str(model_file.path), model_sha256=model_file.sha256, backend=backend_name,
        settings=settings, scenario=scenario.name, batch=batch, duration_s=scenario.duration_s,
        rules=rules, seed=suite.seed, inputs={name: spec.to_json() for name, spec in inputs.items()},
        skip_reason=skip, concurrency=concurrency, model_problem=problem, suite_path=str(suite.path),
        model_key=model.key, inputs_elsewhere=list(elsewhere),
        loadgen=scenario.loadgen.to_json() if scenario.loadgen else {},
        variant=dict(model_file.variant), profile_ops=backend_spec_profile_ops(suite, backend_name),
        accuracy=dict(model.accuracy),
        fidelity_inputs=(min(int(model.accuracy["samples"]), MAX_ACCURACY_SAMPLES) if model.accuracy
                         else DEFAULT_FIDELITY_INPUTS),
    )


MAX_ACCURACY_SAMPLES = 1000


def backend_spec_profile_ops(suite: Suite, backend_name: str) -> bool:
    return any(b.profile_ops for b in suite.backends if b.name == backend_name)


def _check_rule_keys(suite: Suite, kind: str, rules: Sequence[Mapping[str, Any]]) -> None:
    setting_names = {k for b in suite.backends for k in b.settings}
    for index, rule in enumerate(rules):
        for key in rule:
            if key not in CASE_FIELDS and key not in setting_names and key != "threads":
                raise ConfigError(str(suite.path), f"{kind}[{index}].{key}",
                                  f"unknown key (known: {', '.join(CASE_FIELDS + tuple(sorted(setting_names)))})")
        if kind == "include" and not {"model", "backend"} <= set(rule):
            raise ConfigError(str(suite.path), f"include[{index}]", "an include rule must name model and backend")


def expand(suite: Suite) -> list[Case]:
    """Every case of the suite, in a stable order, before anything about the device is known."""
    _check_rule_keys(suite, "include", suite.include)
    _check_rule_keys(suite, "exclude", suite.exclude)
    cases: list[Case] = []
    for model in suite.models:
        for backend in suite.backends:
            for settings in _settings_product(backend):
                for scenario in suite.scenarios:
                    for batch in scenario.batch:
                        for concurrency in scenario.concurrency:
                            cases.append(_case(suite, model, backend.name, settings, scenario, batch, concurrency))
    cases = [c for c in cases if not any(rule_matches(r, c.labels()) for r in suite.exclude)]
    for index, rule in enumerate(suite.include):
        cases.extend(_included(suite, index, rule, {c.case_id for c in cases}))
    return cases


def _included(suite: Suite, index: int, rule: Mapping[str, Any], existing: set[str]) -> Iterable[Case]:
    models = [m for m in suite.models if _value_matches(rule["model"], m.name)
              and ("precision" not in rule or _value_matches(rule["precision"], m.precision))]
    if not models:
        raise ConfigError(str(suite.path), f"include[{index}].model", f"no model matches {rule['model']!r}")
    scenario_name = rule.get("scenario", suite.scenarios[0].name)
    if scenario_name not in SCENARIOS:
        raise ConfigError(str(suite.path), f"include[{index}].scenario",
                          f"unknown scenario {scenario_name!r} (known: {', '.join(SCENARIOS)})")
    scenario = next((s for s in suite.scenarios if s.name == scenario_name), None) or ScenarioSpec(
        scenario_name, batch=default_batch(scenario_name), concurrency=default_concurrency(scenario_name),
        loadgen=LoadgenSettings.defaults(scenario_name) if scenario_name in LOADGEN_SCENARIOS else None)
    if "concurrency" in rule and not takes_concurrency(scenario_name):
        raise ConfigError(str(suite.path), f"include[{index}].concurrency",
                          f"only the concurrent, server, offline and multistream scenarios take concurrency "
                          f"(this rule's scenario: {scenario_name}; "
                          f"add scenario = \"concurrent\")")
    batch = _rule_count(suite, index, rule, "batch", scenario.batch[0])
    concurrency = _rule_count(suite, index, rule, "concurrency", scenario.concurrency[0])
    backend_spec = next((b for b in suite.backends if b.name == rule["backend"]), None)
    settings = {k: v[0] for k, v in backend_spec.settings.items()} if backend_spec else {}
    settings.update({k: v for k, v in rule.items() if k not in CASE_FIELDS})
    for model in models:
        case = _case(suite, model, rule["backend"], settings, scenario, batch, concurrency)
        if case.case_id not in existing:
            existing.add(case.case_id)
            yield case


def _rule_count(suite: Suite, index: int, rule: Mapping[str, Any], key: str, default: int) -> int:
    value = rule.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(str(suite.path), f"include[{index}].{key}", f"expected one integer >= 1, got {value!r}")
    return value


def apply_filters(cases: Sequence[Case], patterns: Sequence[str]) -> list[Case]:
    """``--filter``: keep cases whose id matches any glob (``'*int8*'``) or ``key=value`` pattern."""
    if not patterns:
        return list(cases)
    kept = []
    for case in cases:
        labels = case.labels()
        for pattern in patterns:
            if "=" in pattern and not pattern.startswith("*"):
                key, _, value = pattern.partition("=")
                if key in labels and fnmatch.fnmatchcase(str(labels[key]), value):
                    kept.append(case)
                    break
            elif fnmatch.fnmatchcase(case.case_id, pattern) or fnmatch.fnmatchcase(case.case_id, f"*{pattern}*"):
                kept.append(case)
                break
    return kept


def mark_unsupported(cases: Sequence[Case], profile: DeviceProfile,
                     probe: Mapping[str, Any]) -> list[Case]:
    """Skip, with a reason, what the device cannot run: a runtime not installed, a provider it lacks. A case
    whose model file is bad stays failed: the file is bad on every device."""
    from dataclasses import replace

    out = []
    for case in cases:
        if case.model_problem:
            out.append(case)
            continue
        reason = case.skip_reason or _unsupported_reason(case, profile, probe)
        out.append(replace(case, skip_reason=reason) if reason != case.skip_reason else case)
    return out


def _unsupported_reason(case: Case, profile: DeviceProfile, probe: Mapping[str, Any]) -> str | None:
    backends_probe = probe.get("backends", {})
    if profile.backends and case.backend not in profile.backends:
        return f"profile {profile.name} does not list backend {case.backend}"
    found = backends_probe.get(case.backend)
    if found is None or not found.get("available", False):
        why = (found or {}).get("reason", "not probed")
        return f"backend {case.backend} is not available on {profile.name}: {why}"
    if case.loadgen:
        loadgen = probe.get("loadgen") or {}
        if not loadgen.get("available", False):
            return (f"the {case.scenario} scenario runs through MLPerf LoadGen, which is not available on "
                    f"{profile.name} ({loadgen.get('reason', 'not probed')}): {INSTALL_HINT}")
    declared = profile.backends.get(case.backend, {})
    for key in ("providers", "delegates"):
        wanted = case.settings.get(key)
        if not wanted:
            continue
        names = [w if isinstance(w, str) else w.get("library", "") for w in wanted]
        offered = declared.get(key)
        if key == "providers":
            offered = offered or found.get("providers")
        missing = [n for n in names if offered is not None and n not in offered]
        if missing:
            return f"{profile.name} lacks {key[:-1]} {', '.join(missing)}"
    return None

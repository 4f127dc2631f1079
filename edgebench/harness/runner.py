"""The runner: plan the matrix for a device, hand cases to its transport, store each result as it lands."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence

from edgebench import __version__
from edgebench.config.loadgen_settings import fast_settings
from edgebench.config.profile import DeviceProfile
from edgebench.config.suite import Suite, check_threads
from edgebench.harness.matrix import apply_filters, expand, mark_unsupported
from edgebench.results import schema
from edgebench.results.store import RunStore
from edgebench.transports import make_transport
from edgebench.transports.base import Transport, TransportError
from edgebench.wire import Case

Progress = Callable[[str, Case, Optional[Dict[str, Any]]], None]  # typing's names: evaluated at import on 3.9


@dataclass(frozen=True)
class RunOptions:
    filters: tuple[str, ...] = ()
    fast: bool = False


def sensors_spec(profile: DeviceProfile) -> dict[str, Any]:
    sensors = profile.sensors
    if not sensors.expected:
        return {}
    return {"names": list(sensors.expected), "root": sensors.root, "period_ms": sensors.period_ms,
            "idle_seconds": sensors.idle_seconds, "options": {k: dict(v) for k, v in sensors.options.items()},
            "cooldown": {"max_temp_c": profile.cooldown.max_temp_c,
                         "stable_delta_c": profile.cooldown.stable_delta_c,
                         "timeout_s": profile.cooldown.timeout_s, "channel": profile.cooldown.channel}}


def plan_cases(suite: Suite, profile: DeviceProfile, options: RunOptions) -> list[Case]:
    """The suite's cases after ``--filter``, with the run rules and the profile's sensors; the device unprobed.

    A ``--filter`` that keeps no case is a usage error (before any run directory exists), not an empty run."""
    expanded = expand(suite)
    cases = apply_filters(expanded, options.filters)
    if options.filters and not cases:
        from edgebench.errors import ConfigError

        example = f" (case ids look like {expanded[0].case_id})" if expanded else ""
        raise ConfigError("--filter " + " ".join(repr(f) for f in options.filters), "",
                          f"matches none of the {len(expanded)} cases of suite {suite.name}{example}")
    if profile.device.cores:
        check_threads(suite, profile.device.cores, profile.name)
    spec = sensors_spec(profile)
    rules = suite.rules.fast() if options.fast else suite.rules
    return [replace(c, rules=rules, sensors=spec,
                    loadgen=fast_settings(dict(c.loadgen)) if options.fast and c.loadgen else c.loadgen)
            for c in cases]


def plan(suite: Suite, profile: DeviceProfile, probe: dict[str, Any], options: RunOptions) -> list[Case]:
    cases = plan_cases(suite, profile, options)
    detected = (probe.get("environment") or {}).get("cpu_count")
    if not profile.device.cores and isinstance(detected, int) and detected > 0:
        check_threads(suite, detected, profile.name)  # the profile does not say: the device's own count
    return mark_unsupported(cases, profile, probe)


def git_commit(directory: Path) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def default_out_dir(suite: Suite, device: str, base: Path = Path("reports")) -> Path:
    """``device``: the profile's name, or ``farm`` for a farm run. Both names are checked to be safe in a file
    name when parsed; this checks again that the directory is inside ``base``, whatever a name holds."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = base / f"{stamp}-{device}-{suite.name}"
    root = base.resolve()
    if out.resolve().parent != root or os.sep in out.name or (os.altsep and os.altsep in out.name):
        from edgebench.errors import ConfigError

        raise ConfigError(str(suite.path), "name", f"the run directory {out} would not be inside {base}/")
    return out


def case_record(case: Case) -> dict[str, Any]:
    """A case as run.json lists it before it runs: pending, skipped, or failed when its model file is bad."""
    record = {k: v for k, v in case.to_json().items() if k not in ("rules", "sensors", "seed", "model_problem")}
    status = schema.SKIPPED if case.skip_reason else schema.PENDING
    error: str | None = None
    if case.model_problem:
        status, error = schema.FAILED, case.model_problem
    record.update({"status": status, "error": error, "summary": None})
    return record


def runnable(case: Case) -> bool:
    """Neither skipped here nor failed already because its model file is bad."""
    return not case.skip_reason and not case.model_problem


def run_header(suite: Suite, options: RunOptions, cases: Sequence[Case], **specific: Any) -> dict[str, Any]:
    """What run.json records about the run as a whole; ``specific``: the device(s) and their environment."""
    return {
        "edgebench_version": __version__,
        "command": sys.argv,
        "suite": suite.to_json(),
        "suite_digest": suite.digest(),
        **specific,
        "fast": options.fast,
        "git_commit": git_commit(Path.cwd()),
        "case_specs": {c.case_id: c.to_json() for c in cases},
    }


def start_run(suite: Suite, profile: DeviceProfile, out_dir: Path, options: RunOptions,
              transport: Transport) -> tuple[RunStore, list[Case]]:
    probe = transport.probe()
    cases = plan(suite, profile, probe, options)
    header = run_header(suite, options, cases, profile=profile.to_json(),
                        environment=probe.get("environment", {}), backends=probe.get("backends", {}))
    store = RunStore.create(out_dir, header, [case_record(c) for c in cases])
    return store, cases


def resume_cases(store: RunStore) -> list[Case]:
    specs = store.case_specs()
    missing = [r["case_id"] for r in store.pending() if r["case_id"] not in specs]
    if missing:
        from edgebench.errors import ResultsError

        raise ResultsError(f"{store.directory / 'run.json'}: case_specs: no spec for case {missing[0]}, so it "
                           f"cannot be run again (run.json edited or damaged?)")
    return [Case.from_json(specs[r["case_id"]]) for r in store.pending()]


def execute(store: RunStore, cases: Sequence[Case], transport: Transport, progress: Progress | None = None) -> None:
    """Run the pending cases; each result is stored before the next case starts.

    A case whose rules ask for ``processes = N`` runs in N fresh worker processes, in rounds: round r runs
    process r of every case before any case gets process r + 1, so a slow drift of the machine (a neighbour,
    heat) spreads over all cases instead of landing on one. Each process's result is stored as it lands
    (``RunStore.write_process``); the case's record is written when its last process is in (``--resume``
    continues from the first missing process).

    A lost connection marks the case ``lost`` and stops the run (``--resume`` continues it); Ctrl-C marks the
    run ``interrupted``. Either way every finished case (and every finished process) is already on disk.
    """
    todo = [c for c in cases if runnable(c)]
    for case in cases:
        if case.model_problem and progress:
            progress("failed", case, {"status": schema.FAILED, "error": case.model_problem})
        elif case.skip_reason and progress:
            progress("skipped", case, {"error": case.skip_reason})

    running: dict[str, Case] = {}
    announced: set[str] = set()

    def on_start(case: Case) -> None:
        running[case.case_id] = case
        if progress and case.case_id not in announced:
            announced.add(case.case_id)
            progress("start", case, None)

    def on_done(case: Case, result: dict[str, Any]) -> None:
        running.pop(case.case_id, None)
        if case.rules.processes > 1 and result.get("status") == schema.OK:
            index = store.write_process(result)
            if index + 1 < case.rules.processes:
                return
            result = store.merged_processes(case.case_id)
        store.write_case(result)
        if progress:
            progress("done", case, store.record(case.case_id))

    try:
        transport.prepare(todo)
        rounds = max((c.rules.processes for c in todo), default=1)
        for round_index in range(rounds):
            # a case is in this round while it has processes left and none of them failed
            batch = [c for c in todo if store.processes_done(c.case_id) == round_index < c.rules.processes
                     and store.record(c.case_id)["status"] in schema.RESUMABLE]
            if not batch:
                continue
            transport.run_cases(batch, on_start, on_done)
    except TransportError as exc:
        for case in running.values():
            store.mark(case.case_id, schema.LOST, str(exc))
        store.finish("interrupted")
        raise
    except (KeyboardInterrupt, Exception):  # a bug too: the run is not left "running"; --resume continues it
        store.finish("interrupted")
        raise
    attach_untimed_figures(store)  # every case's outputs against its model's reference, now that all have run
    store.finish("complete")


def attach_untimed_figures(store: RunStore) -> None:
    """Output fidelity (each case against its model's reference case) and top-1 accuracy on labelled data, from
    the outputs the untimed pass kept: figures that need every case, added to the summaries once all have run."""
    from edgebench.analysis.fidelity import fidelity_figures

    outputs: dict[str, Any] = {}

    def outputs_of(case_id: str) -> Any:
        if case_id not in outputs:
            try:
                outputs[case_id] = store.load_raw(case_id).get("outputs")
            except Exception:  # noqa: BLE001 - a damaged raw file: that case has no fidelity, the rest do
                outputs[case_id] = None
        return outputs[case_id]

    records = store.records()
    figures = fidelity_figures(records, outputs_of, store.run_info.reference)
    for record in records:
        accuracy = record.get("accuracy") or {}
        kept = outputs_of(record["case_id"]) if record["case_id"] in figures else None
        if not accuracy or not kept:
            continue
        from edgebench.config.accuracy import top1  # labelled data: top-1 accuracy (MLPerf's accuracy mode)

        try:
            found = top1(accuracy["data"], accuracy["labels"], int(accuracy["output"]), kept["samples"])
        except (OSError, KeyError, ValueError) as exc:
            found = {"error": f"{accuracy.get('data')}: {exc}"}
        figures[record["case_id"]]["accuracy"] = found
    store.add_to_summaries(figures)


def run(suite: Suite, profile: DeviceProfile, out_dir: Path, options: RunOptions,
        progress: Progress | None = None) -> RunStore:
    with make_transport(profile) as transport:
        store, cases = start_run(suite, profile, out_dir, options, transport)
        execute(store, cases, transport, progress)
    return store


def unchanged_models(store: RunStore, cases: Sequence[Case]) -> list[Case]:
    """Resume measures only models that are still the bytes the run started with; the others fail, named."""
    from edgebench.digest import sha256_of

    digests: dict[Path, str | None] = {}  # one read per model file, however many cases use it
    kept = []
    for case in cases:
        path = Path(case.model_path)
        if case.model_sha256 and case.model_path:
            if path not in digests:
                try:
                    digests[path] = sha256_of(path)
                except OSError:  # gone, a directory now, unreadable, a symlink loop
                    digests[path] = None
            now = digests[path]
            if now != case.model_sha256:
                found = f"now {now}" if now else "the file is gone or cannot be read"
                store.write_case({"case_id": case.case_id, "status": schema.FAILED, "batch": case.batch,
                                  "error": f"model file {path} changed since the run started "
                                           f"(sha256 was {case.model_sha256}, {found})"})
                continue
        kept.append(case)
    return kept


def resume(out_dir: Path, profile: DeviceProfile, progress: Progress | None = None) -> RunStore:
    from edgebench.errors import ConfigError

    store = RunStore.open(out_dir)
    if profile.name != store.device:
        raise ConfigError(str(profile.path), "name", f"the run in {out_dir} was made on {store.device}, not "
                                                      f"{profile.name}: resume it with --profile {store.device}")
    with make_transport(profile) as transport:
        cases = unchanged_models(store, resume_cases(store))
        store.mark_resumed()
        execute(store, cases, transport, progress)
    return store


# -- a farm: several device profiles on one Dask cluster, one run directory -------------------------------------
def farm_case(case: Case, device: str) -> Case:
    return replace(case, case_id=f"{case.case_id}@{device}")


def start_farm(suite: Suite, profiles: Sequence[DeviceProfile], out_dir: Path, options: RunOptions,
               transport: Any) -> tuple[RunStore, list[Case], dict[str, str]]:
    """Probe every device through the cluster and write the run header; a device with no worker gets its
    cases recorded ``lost`` with the reason (``--resume`` retries them)."""
    cases: list[Case] = []
    records: list[dict[str, Any]] = []
    problems: dict[str, str] = {}
    environments: dict[str, Any] = {}
    backends: dict[str, Any] = {}
    for profile in profiles:
        try:
            probe = transport.probe_device(profile.name)
        except TransportError as exc:
            problems[profile.name] = str(exc)
            planned = plan_cases(suite, profile, options)
        else:
            environments[profile.name] = probe.get("environment", {})
            backends[profile.name] = probe.get("backends", {})
            planned = plan(suite, profile, probe, options)
        for case in planned:
            case = farm_case(case, profile.name)
            record = {**case_record(case), "device": profile.name}
            if profile.name in problems and runnable(case):
                record.update({"status": schema.LOST, "error": problems[profile.name]})
            records.append(record)
            cases.append(case)
    header = run_header(
        suite, options, cases,
        profile={"name": "farm", "path": None, "transport": {"kind": "dask", "scheduler": transport.scheduler},
                 "sensors": {}},
        farm={"scheduler": transport.scheduler, "devices": [p.name for p in profiles],
              "profile_paths": {p.name: str(p.path) for p in profiles}},
        profiles={p.name: p.to_json() for p in profiles},
        environment={},
        environments=environments,
        backends=backends,
    )
    store = RunStore.create(out_dir, header, records)
    to_run = [c for c in cases if not runnable(c) or c.case_id.rsplit("@", 1)[-1] not in problems]
    return store, to_run, problems


def resume_farm(store: RunStore, profiles: Sequence[DeviceProfile],
                transport: Any) -> tuple[list[Case], dict[str, str]]:
    """The farm's unfinished cases, re-checked against a fresh probe of each device that has some."""
    by_device: dict[str, list[Case]] = {}
    for case in resume_cases(store):
        by_device.setdefault(case.case_id.rsplit("@", 1)[-1], []).append(case)
    todo: list[Case] = []
    problems: dict[str, str] = {}
    named = {p.name: p for p in profiles}
    for device, cases in by_device.items():
        try:
            probe = transport.probe_device(device)
        except TransportError as exc:
            problems[device] = str(exc)
            for case in cases:
                store.mark(case.case_id, schema.LOST, str(exc))
            continue
        todo += mark_unsupported(cases, named[device], probe)
    store.mark_resumed()
    return todo, problems

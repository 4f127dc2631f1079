"""The worker: runs ONE case in a fresh process and prints its result as JSON.

    python -m edgebench.worker.main < case.json     # one case
    python -m edgebench.worker.main --probe         # environment and available backends

The result is the last stdout line that starts with ``RESULT_PREFIX`` (runtimes may print their own lines).
Only the standard library, numpy and the runtime are imported here, so the same module runs on a device
shipped as a zipapp. A Python exception becomes a ``failed`` result; a crash (segfault, abort, OOM kill) is
seen by the parent as a signal, and the parent records it.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any, Callable, Sequence

from edgebench import __version__, plugins
from edgebench.errors import ModelError, ModelMismatchError
from edgebench.wire import RESULT_PREFIX, Case
from edgebench.worker import environment, memory
from edgebench.worker.feeds import Feeder, check_data_files, describe_generated
from edgebench.worker.inputs import InputPlan, InputSkip, check_memory, kind_of, plan_inputs, specs_from_json
from edgebench.worker.loop import concurrent_loop, timed_loop, warm_up


def probe(root: str = "/") -> dict[str, Any]:
    backends = {}
    for name in plugins.names("edgebench.backends"):
        try:
            backend = plugins.load("edgebench.backends", name)
            reason = backend.installed()
            info = backend.probe() if reason is None else {}
            backends[name] = {"available": reason is None, "reason": reason, **info}
        except Exception as exc:  # a broken runtime must not hide the others
            backends[name] = {"available": False, "reason": error_text(exc)}
    from edgebench.worker import loadgen_scenario

    return {"edgebench_version": __version__, "environment": environment.describe(root), "backends": backends,
            "loadgen": loadgen_scenario.probe()}


def check_model(case: Case) -> None:
    """Measure only the bytes the run planned: a model file edited during the run, or a corrupt copy in a
    device's cache, fails its case by name; so does a data file its inputs read (each file hashed once). (Reading
    the files also makes every case's load a warm-cache load, not only the cases after the first.)"""
    if case.model_sha256:
        from pathlib import Path

        from edgebench.digest import sha256_of

        found = sha256_of(Path(case.model_path))
        if found != case.model_sha256:
            raise ModelMismatchError(
                f"model file {case.model_path} has sha256 {found[:16]}..., not the {case.model_sha256[:16]}... the "
                f"run planned: the file changed during the run, or a device's cached copy is corrupt")
    if case.data_files and plugins.load("edgebench.backends", case.backend).reads_model:
        check_data_files(specs_from_json(case.inputs).values(), case.suite_path or case.model_path)


class FirstInferenceError(RuntimeError):
    """The model failed on the inputs built for it; the message names the inputs whose values were made up."""


def error_text(exc: BaseException, with_type: bool = True) -> str:
    """The exception as one line: ``Type: first line of the message`` (or the message alone)."""
    lines = (f"{type(exc).__name__}: {exc}" if with_type else str(exc)).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def generated_inputs_hint(plans: Sequence[InputPlan], source: str) -> str | None:
    """A runtime's error rarely names the input whose value took the model down a branch it cannot run (a
    voice-activity model's ``sr`` that must be 16000, an id beyond the vocabulary): say which integer and boolean
    inputs were made up, and where to pin them. None when there are none (random floats rarely steer a model)."""
    made_up = [p for p in plans if p.spec.source in ("random", "range") and kind_of(p.tensor.dtype) in "ib"]
    if not made_up:
        return None
    described = ", ".join(f"{p.tensor.name} ({describe_generated(p)}; pin it with {p.spec.key_of('value')})"
                          for p in made_up)
    return f"the first inference failed with generated values for {described} in {source}: "


def next_sample(session: Any, feeder: Feeder) -> Callable[[], None] | None:
    """What runs between two inferences when an input has several data samples (None: nothing to do)."""
    if not feeder.cycles:
        return None
    prepare, advance = session.prepare, feeder.advance
    return lambda: prepare(advance())


def run_case(case: Case, clock=time.perf_counter_ns) -> dict[str, Any]:
    result: dict[str, Any] = {"case_id": case.case_id, "status": "failed", "error": None,
                              "started_at": time.time(), "batch": case.batch, "scenario": case.scenario}
    sampling = None
    try:
        check_model(case)  # before the cool-down and the idle window: hashing a big file heats a small board
        if case.sensors:
            from edgebench.sensors.sampling import start_case_sampling

            sampling = start_case_sampling(dict(case.sensors), clock)
            sampling.cooldown(dict(case.sensors.get("cooldown") or {}))
            sampling.idle_window()
        backend_class = plugins.load("edgebench.backends", case.backend)
        backend = backend_class()
        settings = dict(case.settings)
        rss_before = memory.rss_bytes()
        if sampling:
            sampling.mark("load_start")
        t0 = clock()
        session = backend.load(case.model_path, settings)
        result["load_ns"] = clock() - t0
        rss_after = memory.rss_bytes()
        result["load_rss_bytes"] = (rss_after - rss_before) if rss_before is not None and rss_after else None
        # inputs: checked against the model, sized against free memory, and only then allocated
        source = case.suite_path or case.model_path
        specs = specs_from_json(case.inputs) if backend_class.reads_model else {}
        names = {t.name for t in session.inputs}  # a name of the model's other format is not for this file
        specs = {n: s for n, s in specs.items() if n in names or n not in case.inputs_elsewhere}
        plans = plan_inputs(session.inputs, specs, case.batch, source, case.model_key)
        result["inputs_bytes"] = check_memory(plans, case.concurrency, memory.available_bytes(), source)
        shapes = {plan.tensor.name: plan.shape for plan in plans}
        session.resize(shapes)
        feeder = Feeder.build(plans, case.batch, case.seed, source)
        session.prepare(feeder.current())
        fed = feeder.describe()
        result["inputs"] = [{**p.tensor.to_json(), "shape": list(p.shape), "source": p.spec.source,
                             **fed[p.tensor.name]} for p in plans]
        t0 = clock()
        try:
            session.run()
        except Exception as exc:
            hint = generated_inputs_hint(plans, source)
            if hint is None:
                raise
            raise FirstInferenceError(hint + error_text(exc)) from exc
        result["first_inference_ns"] = clock() - t0
        # the concurrent scenario: one more session per stream, loaded and fed the same way, warmed up in turn
        streams = [session]
        feeders = [feeder]
        for _ in range(case.concurrency - 1):
            extra = backend.load(case.model_path, settings)
            extra.resize(shapes)
            feeders.append(feeder.fork())
            extra.prepare(feeders[-1].current())
            streams.append(extra)
        # several data samples: the next one is fed between iterations, outside the timed region
        betweens = [next_sample(stream, stream_feeder) for stream, stream_feeder in zip(streams, feeders)]
        result["warmup_latency_ns"] = [ns for stream, between in zip(streams, betweens)
                                       for ns in warm_up(stream.run, case.rules, clock, between)]
        if case.loadgen:  # server, offline, multistream, single_stream through LoadGen: it marks its own window
            # (LoadGen calls the sessions itself: a data file's first sample is fed throughout)
            from edgebench.worker.loadgen_scenario import run_loadgen_case

            result.update(run_loadgen_case(case, [s.run for s in streams], result["warmup_latency_ns"], clock,
                                           sampling))
            result.update({"status": "ok", "concurrency": case.concurrency, "runtime": _runtime(session)})
            return result
        if sampling:
            sampling.mark("loop_start")
        if case.concurrency > 1:
            loop = concurrent_loop([stream.run for stream in streams], case.rules, clock, betweens)
            result["concurrency"] = case.concurrency
            result["stream_iterations"] = loop.stream_iterations
        else:
            loop = timed_loop(session.run, case.rules, clock, case.duration_s, betweens[0])
        if sampling:
            sampling.mark("loop_end")
        result.update(untimed_passes(case, backend, session, plans, source, settings, shapes, feeder))
        result.update({
            "status": "ok",
            "latency_ns": loop.latency_ns,
            "iterations": len(loop.latency_ns),
            "stop_reason": loop.stop_reason,
            "loop_elapsed_ns": loop.elapsed_ns,
            "loop_started_ns": loop.started_ns,
            "ci_rel_width": loop.ci_rel_width,
            "runtime": _runtime(session),
        })
    except InputSkip as exc:
        result.update({"status": "skipped", "error": str(exc)})
    except Exception as exc:
        # a backend's ModelError is already edgebench's one line (file, what is wrong, the runtime's text)
        result["error"] = error_text(exc, with_type=type(exc) is not ModelError)
        result["traceback_tail"] = traceback.format_exc()[-2000:]
    finally:
        if sampling is not None:
            try:
                result["sensors"] = sampling.stop()
            except Exception as exc:  # sensors must never lose the latency measurement
                result.setdefault("events", []).append(f"sensor sampling failed: {exc}")
        result["peak_rss_bytes"] = memory.peak_rss_bytes()
        result["finished_at"] = time.time()
    return result


def untimed_passes(case: Case, backend: Any, session: Any, plans: Any, source: str, settings: dict[str, Any],
                   shapes: Any, feeder: Feeder) -> dict[str, Any]:
    """After the timed loop (edgebench.worker.untimed_passes): outputs for fidelity, per-operator profile."""
    from edgebench.worker import untimed_passes as passes

    runs: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    if case.fidelity_inputs and type(backend).reads_model:
        runs.append(("outputs", lambda: passes.output_pass(session, plans, case.batch, case.seed, source,
                                                           case.fidelity_inputs, feeder)))
    if case.profile_ops:
        runs.append(("op_profile", lambda: passes.profile_pass(case, backend, settings, shapes, feeder.current())))
    out: dict[str, Any] = {}
    for key, run in runs:
        t0 = time.perf_counter_ns()
        try:
            value = run()
        except Exception as exc:  # an untimed pass never costs the measurement
            value = {"error": error_text(exc)}
        out[key] = dict(value, pass_ns=time.perf_counter_ns() - t0)
    return out


def _runtime(session: Any) -> dict[str, Any]:
    info = session.info()
    return {"name": info.name, "version": info.version, **info.details}


def emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(payload, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--probe"]:
        emit(probe())
        return 0
    case = Case.from_json(json.loads(sys.stdin.read()))
    emit(run_case(case))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

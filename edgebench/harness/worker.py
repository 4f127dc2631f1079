"""The worker: runs ONE case in a fresh process and prints its result as JSON.

    python -m edgebench.harness.worker < case.json     # one case
    python -m edgebench.harness.worker --probe         # environment and available backends

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
from typing import Any

from edgebench import __version__, plugins
from edgebench.errors import ModelMismatchError
from edgebench.harness import environment, memory
from edgebench.harness.case import Case
from edgebench.harness.inputs import build_inputs, resolve_shape
from edgebench.harness.loop import concurrent_loop, timed_loop, warm_up

RESULT_PREFIX = "EDGEBENCH-RESULT "


def probe(root: str = "/") -> dict[str, Any]:
    backends = {}
    for name in plugins.names("edgebench.backends"):
        try:
            backend = plugins.load("edgebench.backends", name)
            reason = backend.installed()
            info = backend.probe() if reason is None else {}
            backends[name] = {"available": reason is None, "reason": reason, **info}
        except Exception as exc:  # a broken runtime must not hide the others
            backends[name] = {"available": False, "reason": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    from edgebench.harness import loadgen_scenario

    return {"edgebench_version": __version__, "environment": environment.describe(root), "backends": backends,
            "loadgen": loadgen_scenario.probe()}


def check_model(case: Case) -> None:
    """Measure only the bytes the run planned: a model file edited during the run, or a corrupt copy in a
    device's cache, fails its case by name. (Reading the file also makes every case's load a warm-cache load,
    not only the cases after the first.)"""
    if not case.model_sha256:
        return
    from pathlib import Path

    from edgebench.digest import sha256_of

    found = sha256_of(Path(case.model_path))
    if found != case.model_sha256:
        raise ModelMismatchError(
            f"model file {case.model_path} has sha256 {found[:16]}..., not the {case.model_sha256[:16]}... the run "
            f"planned: the file changed during the run, or a device's cached copy is corrupt")


def run_case(case: Case, clock=time.perf_counter_ns) -> dict[str, Any]:
    result: dict[str, Any] = {"case_id": case.case_id, "status": "failed", "error": None,
                              "started_at": time.time(), "batch": case.batch, "scenario": case.scenario}
    sampling = None
    try:
        check_model(case)  # before the cool-down and the idle window: hashing a big model heats a small board
        if case.sensors:
            from edgebench.sensors.sampling import start_case_sampling

            sampling = start_case_sampling(dict(case.sensors), clock)
            sampling.cooldown(dict(case.sensors.get("cooldown") or {}))
            sampling.idle_window()
        backend = plugins.load("edgebench.backends", case.backend)()
        settings = dict(case.settings)
        rss_before = memory.rss_bytes()
        if sampling:
            sampling.mark("load_start")
        t0 = clock()
        session = backend.load(case.model_path, settings)
        result["load_ns"] = clock() - t0
        rss_after = memory.rss_bytes()
        result["load_rss_bytes"] = (rss_after - rss_before) if rss_before is not None and rss_after else None
        shapes = {s.name: resolve_shape(s, case.batch, case.input_shapes) for s in session.inputs}
        session.resize(shapes)
        feeds = build_inputs(session.inputs, shapes, case.seed)
        session.prepare(feeds)
        result["inputs"] = [{**s.to_json(), "shape": list(shapes[s.name])} for s in session.inputs]
        t0 = clock()
        session.run()
        result["first_inference_ns"] = clock() - t0
        # the concurrent scenario: one more session per stream, loaded and fed the same way, warmed up in turn
        streams = [session]
        for _ in range(case.concurrency - 1):
            extra = backend.load(case.model_path, settings)
            extra.resize(shapes)
            extra.prepare(feeds)
            streams.append(extra)
        result["warmup_latency_ns"] = [ns for stream in streams for ns in warm_up(stream.run, case.rules, clock)]
        if case.loadgen:  # server, offline, multistream, single_stream through LoadGen: it marks its own window
            from edgebench.harness.loadgen_scenario import run_loadgen_case

            result.update(run_loadgen_case(case, [s.run for s in streams], result["warmup_latency_ns"], clock,
                                           sampling))
            result.update({"status": "ok", "concurrency": case.concurrency, "runtime": _runtime(session)})
            return result
        if sampling:
            sampling.mark("loop_start")
        if case.concurrency > 1:
            loop = concurrent_loop([stream.run for stream in streams], case.rules, clock)
            result["concurrency"] = case.concurrency
            result["stream_iterations"] = loop.stream_iterations
        else:
            loop = timed_loop(session.run, case.rules, clock, case.duration_s)
        if sampling:
            sampling.mark("loop_end")
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
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}".strip().splitlines()
        result["error"] = message[0] if message else type(exc).__name__
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

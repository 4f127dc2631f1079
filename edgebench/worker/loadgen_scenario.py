"""The scenarios MLPerf LoadGen drives: server, offline, multistream, and single_stream with ``loadgen = true``.

LoadGen owns the schedule, the timing of each query and the verdict (VALID/INVALID and why); edgebench is the
system under test. A :class:`SessionPool` serves LoadGen's queries with the case's sessions, one thread per
stream, each taking work items of up to ``batch`` samples off one queue (offline batches; server and
single_stream issue one sample per query; a multistream query's samples spread over the streams). Every sample
is the case's seeded input, as in the other scenarios, so the query sample library's load and unload are
no-ops.

The server scenario searches for the highest QPS at which the chosen latency percentile stays within the
bound: a bisection over LoadGen runs, at most ``max_trials`` of them, starting from the capacity the warm-up
measured. Every trial is kept; the reported run is the highest passing one.

Runs in the worker on the device: Python 3.8, standard library only, and ``mlperf_loadgen`` imported only
when a case needs it.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import statistics
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

Clock = Callable[[], int]

#: what the run directory keeps of LoadGen's logs, per case
KEPT_LOGS = ("mlperf_log_summary.txt", "mlperf_log_detail.txt")
#: query sample library size (every sample is the same seeded input)
QSL_SIZE = 1024
#: the search's upper end, as a multiple of the capacity the warm-up measured
SEARCH_HEADROOM = 1.1
_SCENARIO_NAMES = {"single_stream": "SingleStream", "multistream": "MultiStream", "server": "Server",
                   "offline": "Offline"}
_PERCENTILES = ("50.00", "90.00", "95.00", "97.00", "99.00", "99.90")


def probe() -> Dict[str, Any]:
    """Whether LoadGen can be imported here (checked without importing it), and its version."""
    import importlib.util

    if importlib.util.find_spec("mlperf_loadgen") is None:
        return {"available": False, "reason": "mlperf_loadgen is not installed"}
    version = None
    try:
        from importlib import metadata

        version = metadata.version("mlcommons-loadgen")
    except Exception:  # noqa: BLE001 - a version is nice to have, never required
        pass
    return {"available": True, "reason": None, "version": version}


class SessionPool:
    """The system under test: ``len(runs)`` sessions, each on its own thread, serving LoadGen's samples.

    ``service_ns`` collects how long each ``run()`` took (the inference alone, without queueing): the raw
    samples the summary's latency statistics are computed from. ``complete`` tells LoadGen which sample ids
    are done.
    """

    def __init__(self, runs: Sequence[Callable[[], Any]], batch: int, complete: Callable[[List[int]], None],
                 clock: Clock = time.perf_counter_ns, inline: bool = False) -> None:
        self._runs = list(runs)
        #: serve inside LoadGen's issue callback (single_stream: one query in flight, so no thread hand-over)
        self._inline = inline and len(self._runs) == 1
        self._batch = max(1, batch)
        self._complete = complete
        self._clock = clock
        self._queue = queue.Queue()  # type: queue.Queue[Optional[List[int]]]
        self._threads = []  # type: List[threading.Thread]
        self.service_ns = []  # type: List[int]
        self.errors = []  # type: List[BaseException]

    def start(self) -> None:
        if self._inline:
            return
        for index, run in enumerate(self._runs):
            thread = threading.Thread(target=self._serve, args=(run,), name=f"edgebench-sut-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []

    def issue(self, samples: Sequence[Any]) -> None:
        """LoadGen's issue callback: split the query's samples into work items of up to ``batch``."""
        ids = [sample.id for sample in samples]
        for start in range(0, len(ids), self._batch):
            if self._inline:
                self._serve_one(self._runs[0], ids[start:start + self._batch])
            else:
                self._queue.put(ids[start:start + self._batch])

    def flush(self) -> None:
        """LoadGen's flush callback: nothing is held back."""

    def _serve(self, run: Callable[[], Any]) -> None:
        while True:
            ids = self._queue.get()
            if ids is None:
                return
            self._serve_one(run, ids)

    def _serve_one(self, run: Callable[[], Any], ids: List[int]) -> None:
        try:
            if not self.errors:
                t0 = self._clock()
                run()
                self.service_ns.append(self._clock() - t0)
        except BaseException as exc:  # noqa: BLE001 - reported after the run; LoadGen must not hang
            self.errors.append(exc)
        self._complete(ids)


def parse_detail_log(text: str) -> Dict[str, Any]:
    """LoadGen's ``mlperf_log_detail.txt``: one ``:::MLLOG {json}`` line per key; the last value wins."""
    values = {}  # type: Dict[str, Any]
    for line in text.splitlines():
        if line.startswith(":::MLLOG "):
            try:
                entry = json.loads(line[len(":::MLLOG "):])
            except ValueError:
                continue
            values[entry.get("key")] = entry.get("value")
    return values


def run_figures(log: Dict[str, Any]) -> Dict[str, Any]:
    """What one LoadGen run says, in edgebench's units: validity and why, throughput, query latencies (ns)."""
    per_query = "result_50.00_percentile_per_query_latency_ns" in log
    latency = {}  # type: Dict[str, Any]
    for pct in _PERCENTILES:
        key = f"result_{pct}_percentile_per_query_latency_ns" if per_query else f"result_{pct}_percentile_latency_ns"
        name = "p" + pct.rstrip("0").rstrip(".").replace(".", "")
        latency[f"{name}_ns"] = log.get(key)
    for stat in ("min", "max", "mean"):
        key = f"result_{stat}_query_latency_ns" if per_query else f"result_{stat}_latency_ns"
        latency[f"{stat}_ns"] = log.get(key)
    samples_per_s = (log.get("result_samples_per_second") or log.get("result_completed_samples_per_sec")
                     or log.get("result_qps_with_loadgen_overhead"))
    early = log.get("early_stopping_latency_ss") or log.get("early_stopping_latency_ms")
    return {
        "valid": log.get("result_validity") == "VALID",
        "validity": log.get("result_validity"),
        "invalid_reason": (log.get("result_invalid_reason") or "").strip() or None,
        "perf_constraints_met": log.get("result_perf_constraints_met"),
        "min_duration_met": log.get("result_min_duration_met"),
        "min_queries_met": log.get("result_min_queries_met"),
        "early_stopping_met": log.get("early_stopping_met"),
        "early_stopping_result": " ".join((log.get("early_stopping_result") or "").split()) or None,
        #: the single/multistream result MLPerf reports: the early-stopping estimate of the percentile (ns)
        "early_stopping_latency_ns": early or None,
        "query_count": log.get("result_query_count"),
        "overlatency_query_count": log.get("result_overlatency_query_count"),
        "samples_per_s": samples_per_s,
        "scheduled_samples_per_s": log.get("result_scheduled_samples_per_sec"),
        "latency_ns": latency,
        "errors": log.get("num_errors"),
        "loadgen_version": log.get("loadgen_version"),
    }


def invalid_reason(figures: Dict[str, Any]) -> Optional[str]:
    """Why LoadGen called a run INVALID, in one line (its own recommendation, plus the failed constraints)."""
    if figures["valid"]:
        return None
    failed = [name for key, name in (("min_duration_met", "min duration"), ("min_queries_met", "min queries"),
                                     ("perf_constraints_met", "latency constraint"),
                                     ("early_stopping_met", "early stopping")) if figures.get(key) is False]
    early = figures.get("early_stopping_result") if figures.get("early_stopping_met") is False else None
    parts = [p for p in (figures.get("invalid_reason"), f"not met: {', '.join(failed)}" if failed else None,
                         f"early stopping: {early.lstrip('* ')}" if early else None) if p]
    return "; ".join(parts) or f"LoadGen result: {figures.get('validity')}"


def server_trial_passed(figures: Dict[str, Any], early_stopping: bool) -> bool:
    """A server trial meets the bound when LoadGen calls it VALID; with ``early_stopping = false`` the
    early-stopping estimate alone may fail it (the percentile measured is then within the bound)."""
    if figures["valid"]:
        return True
    if early_stopping:
        return False
    return bool(figures.get("perf_constraints_met") and figures.get("min_duration_met")
                and figures.get("min_queries_met"))


def _test_settings(lg: Any, settings: Dict[str, Any], expected_service_ns: float, streams: int, batch: int,
                   target_qps: float) -> Any:
    scenario = settings["scenario"]
    test = lg.TestSettings()
    test.scenario = getattr(lg.TestScenario, _SCENARIO_NAMES[scenario])
    test.mode = lg.TestMode.PerformanceOnly
    test.min_duration_ms = int(round(settings["min_duration_s"] * 1000))
    test.max_duration_ms = int(round(settings.get("max_duration_s", 0) * 1000))
    test.min_query_count = int(settings["min_query_count"])
    seed = int(settings.get("seed", 0))
    test.qsl_rng_seed = test.sample_index_rng_seed = test.schedule_rng_seed = seed
    capacity = streams * batch * 1e9 / max(expected_service_ns, 1.0)
    if scenario == "single_stream":
        test.single_stream_expected_latency_ns = int(expected_service_ns)
        test.single_stream_target_latency_percentile = settings["latency_percentile"]
    elif scenario == "multistream":
        per_query = settings["samples_per_query"]
        test.multi_stream_samples_per_query = per_query
        rounds = -(-per_query // (streams * batch))  # ceil: work items each stream runs per query
        test.multi_stream_expected_latency_ns = int(rounds * expected_service_ns)
        test.multi_stream_target_latency_percentile = settings["latency_percentile"]
    elif scenario == "offline":
        test.offline_expected_qps = capacity
    elif scenario == "server":
        test.server_target_qps = target_qps
        test.server_target_latency_ns = int(settings["latency_bound_ms"] * 1e6)
        test.server_target_latency_percentile = settings["latency_percentile"]
    return test


class LoadgenRunner:
    """One SUT and QSL, reused for every LoadGen run of a case (the server search runs several)."""

    def __init__(self, pool: SessionPool, settings: Dict[str, Any], expected_service_ns: float, streams: int,
                 batch: int, clock: Clock) -> None:
        import mlperf_loadgen as lg

        self.lg = lg
        self.pool = pool
        self.settings = settings
        self.expected_service_ns = expected_service_ns
        self.streams = streams
        self.batch = batch
        self.clock = clock
        self.sut = lg.ConstructSUT(pool.issue, pool.flush)
        self.qsl = lg.ConstructQSL(QSL_SIZE, QSL_SIZE, _no_op, _no_op)

    def close(self) -> None:
        self.lg.DestroyQSL(self.qsl)
        self.lg.DestroySUT(self.sut)

    def run(self, target_qps: float = 0.0) -> Dict[str, Any]:
        """One LoadGen run; its figures, the service times it measured, its window and its kept logs."""
        lg = self.lg
        test = _test_settings(lg, self.settings, self.expected_service_ns, self.streams, self.batch, target_qps)
        outdir = tempfile.mkdtemp(prefix="edgebench-loadgen-")
        try:
            output = lg.LogOutputSettings()
            output.outdir = outdir
            output.copy_summary_to_stdout = False
            log_settings = lg.LogSettings()
            log_settings.log_output = output
            log_settings.enable_trace = False
            del self.pool.service_ns[:]
            started = self.clock()
            lg.StartTestWithLogSettings(self.sut, self.qsl, test, log_settings)
            ended = self.clock()
            if self.pool.errors:
                raise self.pool.errors[0]
            logs = {}
            for name in KEPT_LOGS:
                path = os.path.join(outdir, name)
                if os.path.exists(path):
                    with open(path, encoding="utf-8", errors="replace") as handle:
                        logs[name] = handle.read()
        finally:
            shutil.rmtree(outdir, ignore_errors=True)
        figures = run_figures(parse_detail_log(logs.get("mlperf_log_detail.txt", "")))
        figures["invalid_reason"] = invalid_reason(figures)
        figures.update({"started_ns": started, "ended_ns": ended})
        return {"figures": figures, "service_ns": list(self.pool.service_ns), "logs": logs}


def _no_op(_indices: Any) -> None:
    """The QSL's load/unload: every sample is the same input, built before the run."""


def next_server_qps(lo: float, hi: float) -> float:
    """Bisection: halfway between the highest QPS that passed and the lowest that failed."""
    return (lo + hi) / 2.0


def server_search(run: Callable[[float], Dict[str, Any]], capacity_qps: float, settings: Dict[str, Any]
                  ) -> Dict[str, Any]:
    """Bisect over LoadGen runs for the highest QPS that meets the bound, in at most ``max_trials`` runs.

    The search starts at ``target_qps`` (else half the capacity the warm-up measured) between 0 and
    ``SEARCH_HEADROOM`` x capacity (a queue cannot be served beyond its capacity); until a trial fails, the upper
    end is kept at least twice the highest pass, in case the warm-up underestimated the capacity.
    """
    lo, hi = 0.0, capacity_qps * SEARCH_HEADROOM
    qps = settings.get("target_qps") or capacity_qps / 2.0
    hi = max(hi, qps * 1.5)
    trials = []  # type: List[Dict[str, Any]]
    best = None  # type: Optional[Dict[str, Any]]
    for index in range(int(settings["max_trials"])):
        outcome = run(qps)
        figures = outcome["figures"]
        passed = server_trial_passed(figures, bool(settings.get("early_stopping", True)))
        trial = {"trial": index, "target_qps": qps, "passed": passed, **figures}
        trials.append(trial)
        if passed:
            lo = qps
            best = {**outcome, "trial": trial}
            if all(t["passed"] for t in trials):
                hi = max(hi, qps * 2.0)  # nothing failed yet: the answer may lie above the estimated capacity
        else:
            hi = qps
        qps = next_server_qps(lo, hi)
    return {"trials": trials, "best": best, "bracket_qps": [lo, hi]}


def run_loadgen_case(case: Any, runs: Sequence[Callable[[], Any]], warmup_ns: Sequence[int],
                     clock: Clock = time.perf_counter_ns, sampling: Any = None) -> Dict[str, Any]:
    """Run the case's LoadGen scenario on ``runs`` (one per stream); the worker merges what this returns.

    The reported run (the only one for offline, multistream and single_stream; the highest passing trial for
    the server) gives the raw service times and the sensor window, so energy is per query at the served rate.
    """
    settings = dict(case.loadgen)
    scenario = settings["scenario"]
    streams = len(runs)
    service = statistics.median(warmup_ns) if warmup_ns else 1e6
    capacity = streams * case.batch * 1e9 / max(service, 1.0)
    pool = SessionPool(runs, case.batch, _completer(), clock, inline=scenario == "single_stream")
    pool.start()
    runner = None
    try:
        runner = LoadgenRunner(pool, settings, service, streams, case.batch, clock)
        search = None  # type: Optional[Dict[str, Any]]
        if scenario == "server":
            search = server_search(runner.run, capacity, settings)
            reported = search["best"]
        else:
            reported = runner.run()
    finally:
        if runner is not None:
            runner.close()
        pool.stop()
    record = {"scenario": scenario, "settings": settings, "shortened": settings.get("shortened", False),
              "streams": streams, "capacity_estimate_ips": capacity,
              "expected_service_ns": service}  # type: Dict[str, Any]
    if search is not None:
        record["trials"] = search["trials"]
        record["bracket_qps"] = search["bracket_qps"]
    result = {"loadgen": record}  # type: Dict[str, Any]
    if reported is None:  # the server search: no trial met the bound
        assert search is not None
        record.update({"valid": False, "served_qps": None,
                       "invalid_reason": f"no trial met p{settings['latency_percentile'] * 100:g} <= "
                                         f"{settings['latency_bound_ms']:g} ms (lowest tried: "
                                         f"{min(t['target_qps'] for t in search['trials']):.4g} QPS)"})
        result.update({"latency_ns": [], "iterations": 0})
        return result
    figures = reported["figures"] if search is None else reported["trial"]
    record.update({
        "valid": figures["valid"],
        "invalid_reason": figures["invalid_reason"],
        "result": {k: v for k, v in figures.items() if k not in ("started_ns", "ended_ns")},
    })
    if scenario == "server":
        record["served_qps"] = figures["target_qps"]
        record["served_trial"] = figures["trial"]
    if sampling is not None:  # the reported run's window, for power and energy per query
        sampling.mark("loop_start", figures["started_ns"])
        sampling.mark("loop_end", figures["ended_ns"])
    result.update({
        "latency_ns": reported["service_ns"],
        "iterations": len(reported["service_ns"]),
        "loop_started_ns": figures["started_ns"],
        "loop_elapsed_ns": figures["ended_ns"] - figures["started_ns"],
        "stop_reason": "loadgen",
        "loadgen_logs": reported["logs"],
    })
    return result


def _completer() -> Callable[[List[int]], None]:
    import mlperf_loadgen as lg

    response = lg.QuerySampleResponse
    complete = lg.QuerySamplesComplete

    def done(ids: List[int]) -> None:
        complete([response(sample_id, 0, 0) for sample_id in ids])

    return done

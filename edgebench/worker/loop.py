"""The timed loop: warm-up, then at least ``min_iterations`` AND ``min_seconds``, at most ``max_seconds``,
stopping early once the confidence interval of the median is narrow enough.

The clock is injected so tests drive the stopping rules with a fake one. Nothing runs between the two clock
reads but the inference; the precision check runs between iterations, at geometrically spaced counts, so
its cost stays a small fraction of the loop.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from edgebench.quantiles import median_ci_rel_width
from edgebench.wire import RunRules

Clock = Callable[[], int]


@dataclass
class LoopResult:
    latency_ns: list[int]
    stop_reason: str
    elapsed_ns: int
    started_ns: int
    ci_rel_width: float | None = None
    #: the concurrent scenario: how many inferences each stream completed
    stream_iterations: list[int] = field(default_factory=list)


def warm_up(run: Callable[[], Any], rules: RunRules, clock: Clock = time.perf_counter_ns,
            between: Callable[[], Any] | None = None) -> list[int]:
    """``warmup_iterations`` AND ``warmup_seconds``; the samples are kept, apart from the timed ones.
    ``between`` (the next data sample) runs after each inference, outside the timed region."""
    samples: list[int] = []
    min_ns = int(rules.warmup_seconds * 1e9)
    start = clock()
    while len(samples) < rules.warmup_iterations or clock() - start < min_ns:
        t0 = clock()
        run()
        samples.append(clock() - t0)
        if between is not None:
            between()
        if len(samples) >= rules.max_iterations:
            break
    return samples


def timed_loop(run: Callable[[], Any], rules: RunRules, clock: Clock = time.perf_counter_ns,
               duration_s: float | None = None, between: Callable[[], Any] | None = None) -> LoopResult:
    """Time ``run`` until the run rules are satisfied.

    With ``duration_s`` (the sustained scenario) the loop runs for exactly that long and ignores the
    precision target: the point is to keep the device loaded. ``between`` (feeding the next data sample) runs
    after each inference, outside the timed region.
    """
    samples: list[int] = []
    append = samples.append
    if duration_s is not None:
        min_ns = max_ns = int(duration_s * 1e9)
        target = 0.0
    else:
        min_ns, max_ns = int(rules.min_seconds * 1e9), int(rules.max_seconds * 1e9)
        target = rules.target_ci_rel_width
    max_iterations = rules.max_iterations if duration_s is None else 1 << 62
    next_check = max(rules.min_iterations, 2)
    width: float | None = None
    start = clock()
    deadline = start + max_ns
    while True:
        t0 = clock()
        run()
        t1 = clock()
        append(t1 - t0)
        if between is not None:
            between()
        if t1 >= deadline:
            reason = "duration" if duration_s is not None else "max_seconds"
            break
        n = len(samples)
        if n >= max_iterations:
            reason = "max_iterations"
            break
        if n >= next_check and t1 - start >= min_ns:
            next_check = n + max(n // 10, 1)
            if target > 0:
                width = median_ci_rel_width(sorted(samples), rules.confidence)
                if width <= target:
                    reason = "target_precision"
                    break
    if reason != "target_precision" and len(samples) >= 2:
        width = median_ci_rel_width(sorted(samples), rules.confidence)
    return LoopResult(samples, reason, clock() - start, start, width)


def concurrent_loop(runs: Sequence[Callable[[], Any]], rules: RunRules,
                    clock: Clock = time.perf_counter_ns,
                    betweens: Sequence[Callable[[], Any] | None] | None = None) -> LoopResult:
    """The concurrent scenario: one thread per stream, each calling its own session back to back.

    It runs for ``max_seconds``, or until the streams together have started ``max_iterations`` inferences. There
    is no early stop on precision: checking it means sorting every sample while the streams run, and holding
    the GIL for that delays each stream coming back from its runtime, which shows in the very latencies being
    measured. The latencies come back in the order the inferences finished; ``elapsed_ns`` runs from the
    common start to the last one to finish, so throughput is ``iterations x batch / elapsed``. An exception in
    any stream stops them all and is raised here.
    """
    finished: list[list[tuple[int, int]]] = [[] for _ in runs]  # per stream: (end_ns, latency_ns)
    stop = threading.Event()
    start_line = threading.Barrier(len(runs) + 1)
    tickets = itertools.count()  # next() is atomic: exactly max_iterations inferences start, over all streams
    errors: list[BaseException] = []

    def stream(run: Callable[[], Any], out: list[tuple[int, int]], between: Callable[[], Any] | None) -> None:
        append = out.append
        try:
            start_line.wait()
            while not stop.is_set() and next(tickets) < rules.max_iterations:
                t0 = clock()
                run()
                t1 = clock()
                append((t1, t1 - t0))
                if between is not None:
                    between()
        except threading.BrokenBarrierError:  # the loop was abandoned before it started
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            errors.append(exc)
        stop.set()

    hooks = list(betweens) if betweens is not None else [None] * len(runs)
    threads = [threading.Thread(target=stream, args=(run, out, hook), name=f"edgebench-stream-{i}", daemon=True)
               for i, (run, out, hook) in enumerate(zip(runs, finished, hooks))]
    max_ns = int(rules.max_seconds * 1e9)
    try:
        for thread in threads:
            thread.start()
        start = clock()
        start_line.wait()
        # Sleep until max_seconds (the clock counts real nanoseconds) rather than waking to poll, which would take
        # the GIL from the streams; a stream that ends (max_iterations, an error) sets ``stop``, which wakes it.
        while not stop.wait(min((max_ns - (clock() - start)) / 1e9, threading.TIMEOUT_MAX)):
            if clock() - start >= max_ns:
                reason = "max_seconds"
                break
        else:  # an error is raised below, whatever the reason
            reason = "max_iterations"
    finally:  # however this ends (an error, Ctrl-C), no stream is left running or waiting
        stop.set()
        start_line.abort()
        for thread in threads:
            if thread.is_alive():
                thread.join()
    if errors:
        raise errors[0]
    merged = sorted(sample for out in finished for sample in out)
    samples = [latency for _, latency in merged]
    width = median_ci_rel_width(sorted(samples), rules.confidence) if len(samples) >= 2 else None
    elapsed = (merged[-1][0] - start) if merged else clock() - start
    return LoopResult(samples, reason, elapsed, start, width, [len(out) for out in finished])

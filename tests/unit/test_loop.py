"""The timed loop's stopping rules, driven by a fake clock (no timing noise, no sleeping); the concurrent
loop's streams, which are real threads, sleep 1 ms per call."""

from __future__ import annotations

import pytest

from edgebench.wire import RunRules
from edgebench.worker.loop import timed_loop, warm_up


class FakeClock:
    """Advances by ``step_ns`` at every read, so each inference takes exactly ``step_ns``."""

    def __init__(self, step_ns: int = 1000) -> None:
        self.now = 0
        self.step_ns = step_ns

    def __call__(self) -> int:
        self.now += self.step_ns
        return self.now


def noop() -> None:
    return None


def test_stops_at_min_iterations_once_precise():
    rules = RunRules(min_iterations=50, min_seconds=0, max_seconds=10, target_ci_rel_width=0.01)
    result = timed_loop(noop, rules, FakeClock())
    assert (len(result.latency_ns), result.stop_reason) == (50, "target_precision")
    assert set(result.latency_ns) == {1000}
    assert result.ci_rel_width == 0


def test_min_seconds_holds_the_loop_after_min_iterations():
    # 2000 ns per iteration (two clock reads): 1e5 ns of loop needs 50 iterations
    rules = RunRules(min_iterations=10, min_seconds=1e-4, max_seconds=10, target_ci_rel_width=0.01)
    result = timed_loop(noop, rules, FakeClock())
    assert (len(result.latency_ns), result.stop_reason) == (50, "target_precision")


def test_max_seconds_caps_an_imprecise_loop():
    rules = RunRules(min_iterations=10, min_seconds=0, max_seconds=1e-3, target_ci_rel_width=0.0)
    result = timed_loop(noop, rules, FakeClock())
    # start = 1000; iteration k ends at 1000 + 2000 k >= 1000 + 1e6 when k = 500
    assert (len(result.latency_ns), result.stop_reason) == (500, "max_seconds")


def test_max_iterations():
    rules = RunRules(min_iterations=10, min_seconds=1, max_seconds=100, max_iterations=25)
    assert len(timed_loop(noop, rules, FakeClock()).latency_ns) == 25


def test_noisy_samples_run_until_the_interval_is_narrow():
    clock = FakeClock(step_ns=0)
    durations = iter([1000, 3000] * 100_000)

    def run() -> None:  # the inference itself takes 1000 or 3000 ns, alternately
        clock.now += next(durations)

    rules = RunRules(min_iterations=10, min_seconds=0, max_seconds=0.01, target_ci_rel_width=0.01)
    result = timed_loop(run, rules, clock)
    # half the samples are 1000 ns, half 3000 ns: the median's interval straddles both -> never narrow
    assert result.stop_reason == "max_seconds"
    assert sorted(set(result.latency_ns)) == [1000, 3000]
    assert result.ci_rel_width == 1.0  # (3000 - 1000) / 2000


def test_sustained_runs_for_its_duration_ignoring_precision():
    rules = RunRules(min_iterations=10, min_seconds=0, max_seconds=1e-6, target_ci_rel_width=0.5)
    result = timed_loop(noop, rules, FakeClock(), duration_s=1e-4)
    assert (len(result.latency_ns), result.stop_reason) == (50, "duration")


def test_warm_up_count_and_seconds():
    assert len(warm_up(noop, RunRules(warmup_iterations=5, warmup_seconds=0), FakeClock())) == 5
    # 1e-5 s = 10000 ns; each warm-up iteration costs 3 clock reads (3000 ns) -> 4 iterations
    assert len(warm_up(noop, RunRules(warmup_iterations=1, warmup_seconds=1e-5), FakeClock())) == 4


def test_concurrent_loop_runs_every_stream_and_counts_them_together():
    import time

    from edgebench.worker.loop import concurrent_loop

    calls = [0, 0, 0]

    def stream(i):
        def run():
            calls[i] += 1
            time.sleep(0.001)  # releases the GIL, as a runtime's native inference does
        return run

    rules = RunRules(min_iterations=30, min_seconds=0.05, max_seconds=0.5, target_ci_rel_width=0.0)
    result = concurrent_loop([stream(i) for i in range(3)], rules)
    assert result.stop_reason == "max_seconds"
    assert len(result.stream_iterations) == 3 and min(result.stream_iterations) > 0
    assert result.stream_iterations == calls  # every call timed, none lost at the stop
    assert sum(result.stream_iterations) == len(result.latency_ns) >= 30
    assert min(result.latency_ns) >= 1_000_000  # each sample spans one call's sleep
    assert result.elapsed_ns >= 0.5e9  # to the last inference to finish, past max_seconds


@pytest.mark.timeout(60)
def test_concurrent_loop_raises_what_a_stream_raised():
    import time

    from edgebench.worker.loop import concurrent_loop

    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("the delegate gave up")

    # max_seconds an hour away: only the error can end this loop (else the test's timeout fails it)
    rules = RunRules(min_iterations=10, min_seconds=0.0, max_seconds=3600.0, target_ci_rel_width=0.0)
    with pytest.raises(RuntimeError, match="the delegate gave up"):
        concurrent_loop([lambda: time.sleep(0.001), failing], rules)


def test_concurrent_loop_starts_exactly_max_iterations():
    import time

    from edgebench.worker.loop import concurrent_loop

    rules = RunRules(min_iterations=10, min_seconds=0.0, max_seconds=3600.0, max_iterations=100)
    result = concurrent_loop([lambda: time.sleep(0.0005)] * 3, rules)
    assert (len(result.latency_ns), result.stop_reason) == (100, "max_iterations")
    assert sum(result.stream_iterations) == 100


def test_between_runs_after_each_inference_outside_the_timed_region():
    """Feeding the next data sample costs 5000 ns of the fake clock's time; no latency sample includes it."""
    clock = FakeClock()
    calls: list[int] = []

    def between() -> None:
        calls.append(clock.now)
        clock.now += 5000

    rules = RunRules(warmup_iterations=3, warmup_seconds=0, min_iterations=20, min_seconds=0, max_seconds=10,
                     target_ci_rel_width=0.01)
    assert warm_up(noop, rules, clock, between) == [1000] * 3
    result = timed_loop(noop, rules, clock, between=between)
    assert set(result.latency_ns) == {1000} and len(result.latency_ns) == 20
    assert len(calls) == 3 + 20

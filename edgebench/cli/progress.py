"""What the terminal shows while a run runs: a case counter, the elapsed time and an ETA.

On a terminal one live line is redrawn (with ``rich`` where it is installed, else a plain ``\\r`` line) and
each finished case is printed above it, all cut to the terminal's width; anywhere else (a pipe, a CI log)
each finished case is one plain line with no escape codes.

The ETA is said only when there is a basis for it: at least one case has run to its end. Each remaining case
is estimated as the time its run rules ask for (warm-up + ``min_seconds``, or a sustained case's
``duration_s``) plus the mean time the finished cases took beyond what their rules asked for (starting the
worker, loading the model, the sensors' idle window, a loop that ran on past ``min_seconds``).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable, Mapping, Sequence

from edgebench.cli.output import terminal_width

Clock = Callable[[], float]


def rules_seconds(case: Any) -> float:
    """The least time the case's run rules ask for: its warm-up and timed loop (not loading or starting), once per
    worker process (``processes``)."""
    rules = getattr(case, "rules", None)
    if rules is None:
        return 0.0
    duration_s = getattr(case, "duration_s", None)
    loop_s = float(duration_s) if duration_s is not None else float(rules.min_seconds)
    return (float(rules.warmup_seconds) + loop_s) * int(getattr(rules, "processes", 1) or 1)


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``: short enough for a status line."""
    whole = max(int(round(seconds)), 0)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class Eta:
    """Counts cases and estimates the time left, from the planned cases' run rules and the finished ones.

    Thread-safe: rich redraws the live line (and asks for the time left) from its own thread while the
    transport reports cases (a farm, from several)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._lock = threading.RLock()
        self.clock = clock
        self.started_at = clock()
        self.total = 0
        self.done = 0
        self._waiting: dict[str, float] = {}  # case id -> the seconds its rules ask for; not started yet
        self._skips: set[str] = set()  # planned cases that will be skipped, not yet reported
        self._running: dict[str, tuple[float, float]] = {}  # case id -> (start time, rules seconds)
        self._beyond_rules: list[float] = []  # per measured case: its wall time minus its rules' time
        self._parallel = 1

    def plan(self, cases: Sequence[Any]) -> None:
        """The cases the run will go through (skipped ones included: they count, and take no time)."""
        with self._lock:
            self.total = len(cases)
            self._waiting = {c.case_id: rules_seconds(c) for c in cases if not getattr(c, "skip_reason", None)}
            self._skips = {c.case_id for c in cases if getattr(c, "skip_reason", None)}

    def start(self, case: Any) -> None:
        with self._lock:
            self._waiting.pop(case.case_id, None)
            self._running[case.case_id] = (self.clock(), rules_seconds(case))
            self._parallel = max(self._parallel, len(self._running))

    def finish(self, case: Any, ran: bool) -> None:
        """``ran``: the case went through a worker (not skipped before it started)."""
        with self._lock:
            self.done += 1
            self._waiting.pop(case.case_id, None)
            self._skips.discard(case.case_id)
            started = self._running.pop(case.case_id, None)
            if ran and started is not None:
                self._beyond_rules.append(self.clock() - started[0] - started[1])

    def elapsed_s(self) -> float:
        return self.clock() - self.started_at

    def remaining_s(self) -> float | None:
        """Seconds left, or None while no case has finished (no basis for an estimate yet)."""
        with self._lock:
            if not self._beyond_rules:
                return None
            extra = sum(self._beyond_rules) / len(self._beyond_rules)
            now = self.clock()
            left = sum(max(rules_s + extra, 0.0) for rules_s in self._waiting.values())
            unknown = max(self.total - self.done - len(self._waiting) - len(self._running) - len(self._skips), 0)
            if unknown:  # cases the plan did not list (no plan given): as long as the finished ones took on average
                mean_rules = sum(s for _, s in self._running.values()) / len(self._running) if self._running else 0.0
                left += unknown * max(mean_rules + extra, 0.0)
            for started, rules_s in self._running.values():
                left += max(rules_s + extra - (now - started), 0.0)
            return left / self._parallel


def status_text(eta: Eta) -> str:
    """``[3/40] 1m02s, ETA 2m10s``: the counter counts the case now running."""
    current = min(eta.done + 1, eta.total) if eta.total else eta.done + 1
    text = f"[{current}/{eta.total}] {format_duration(eta.elapsed_s())}"
    left = eta.remaining_s()
    return text + (f", ETA {format_duration(left)}" if left is not None else "")


def case_detail(record: Mapping[str, Any] | None) -> tuple[str, str]:
    """(status, what to say about it): the median latency and sample count, or the error."""
    from edgebench.record import CaseRecord

    case = CaseRecord.from_json(record or {})
    status = case.status or "skipped"
    latency = case.latency
    if status == "ok" and latency and latency.p50_ns is not None:
        return status, f"p50 {latency.p50_ns / 1e6:.3g} ms  n={latency.n}"
    return status, case.error or ""


def fit(text: str, width: int) -> str:
    """One line of at most ``width`` characters; what is cut is marked with an ellipsis."""
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


def fit_middle(text: str, width: int) -> str:
    """``text`` in ``width`` characters, cut in the middle: a case id keeps its model and its scenario."""
    if len(text) <= width:
        return text
    if width < 5:
        return fit(text, width)
    tail = (width - 1) // 2
    return text[:width - 1 - tail] + "…" + text[len(text) - tail:]


def case_line(counter: str, status: str, case_id: str, detail: str, width: int | None = None) -> str:
    """``[3/40] ok      CASE_ID  p50 0.176 ms  n=5332``; with ``width``, the case id is cut to fit it."""
    head, tail = f"{counter} {status:7s} ", f"  {detail}" if detail else ""
    if width is not None:
        case_id = fit_middle(case_id, max(width - len(head) - len(tail), 20))
        return fit(head + case_id + tail, width)
    return head + case_id + tail


class ProgressPrinter:
    """The run's progress callback (``runner.execute``): a live line on a terminal, plain lines otherwise."""

    def __init__(self, stream: Any = None, clock: Clock = time.monotonic, use_rich: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.eta = Eta(clock)
        self._lock = threading.Lock()
        self._current = ""
        self._rich: Any = None
        #: rich draws the live line where it is installed; it starts with the first case, not before
        self._want_rich = self.tty and use_rich is not False

    def plan(self, cases: Sequence[Any]) -> None:
        self.eta.plan(cases)

    def __call__(self, event: str, case: Any, record: dict[str, Any] | None) -> None:
        with self._lock:
            if self._want_rich:
                self._want_rich = False
                self._rich = _RichLine.create(self.stream, self.eta)
            if event == "start":
                self.eta.start(case)
                self._current = case.case_id
                self._draw()
                return
            self.eta.finish(case, ran=event != "skipped")
            if case.case_id == self._current:
                self._current = ""
            status, detail = case_detail(record if event != "skipped" else {"status": "skipped", **(record or {})})
            self._finished(status, case.case_id, detail)

    def _finished(self, status: str, case_id: str, detail: str) -> None:
        counter = f"[{self.eta.done:>{len(str(self.eta.total))}}/{self.eta.total}]"  # [ 9/16] lines up with [10/16]
        if not self.tty:  # a log: every word, and the time so far
            left = self.eta.remaining_s()
            timing = f"{format_duration(self.eta.elapsed_s())}" + (
                f", ETA {format_duration(left)}" if left is not None and self.eta.done < self.eta.total else "")
            self.stream.write(f"{case_line(counter, status, case_id, detail)}  ({timing})\n")
            self.stream.flush()
            return
        if self._rich is not None:
            self._rich.print_above(case_line(counter, status, case_id, detail, self._rich.console.width))
            return
        line = case_line(counter, status, case_id, detail, terminal_width(self.stream) - 1)
        self.stream.write(f"\r\x1b[K{line}\n")
        self._draw()

    def _draw(self) -> None:
        if not self.tty:
            return
        if self._rich is not None:
            self._rich.update(self._current)
            return
        status = status_text(self.eta)
        room = terminal_width(self.stream) - 1 - len(status) - 2
        self.stream.write("\r\x1b[K" + fit(f"{status}  {fit_middle(self._current, max(room, 8))}".rstrip(),
                                             terminal_width(self.stream) - 1))
        self.stream.flush()

    def close(self) -> None:
        """Take the live line off the terminal (before the table is printed)."""
        with self._lock:
            self._want_rich = False
            if self._rich is not None:
                self._rich.stop()
                self._rich = None
            elif self.tty:
                self.stream.write("\r\x1b[K")
                self.stream.flush()


class _RichLine:
    """The live line drawn by rich: a bar, the counter, the elapsed time and the ETA, ticking on their own."""

    BAR_WIDTH = 10

    def __init__(self, progress: Any, task: Any, console: Any, eta: Eta) -> None:
        self.progress = progress
        self.task = task
        self.console = console
        self.eta = eta

    @classmethod
    def create(cls, stream: Any, eta: Eta) -> _RichLine | None:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn
            from rich.text import Text
        except ImportError:
            return None

        class StatusColumn(ProgressColumn):
            def render(self, task: Any) -> Any:
                return Text(status_text(eta), no_wrap=True, overflow="ellipsis")

        console = Console(file=stream, width=terminal_width(stream) - 1, highlight=False)
        progress = Progress(BarColumn(bar_width=cls.BAR_WIDTH), StatusColumn(),
                            TextColumn("{task.description}", markup=False), console=console,
                            transient=True, refresh_per_second=2, expand=False)
        task = progress.add_task("", total=eta.total or None)
        progress.start()
        return cls(progress, task, console, eta)

    def update(self, current: str) -> None:
        # the room the case id has: the line less the bar, the status (with room for the ETA to grow) and gaps
        room = self.console.width - self.BAR_WIDTH - len(status_text(self.eta)) - 8
        self.progress.update(self.task, description=fit_middle(current, max(room, 8)), total=self.eta.total or None,
                             completed=self.eta.done)

    def print_above(self, line: str) -> None:
        self.progress.update(self.task, completed=self.eta.done, description="")
        self.console.print(line, markup=False, highlight=False, no_wrap=True,
                           overflow="ellipsis", crop=True)

    def stop(self) -> None:
        self.progress.stop()

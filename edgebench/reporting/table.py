"""A plain-text table of a run's cases, for the terminal.

Given a width (the terminal's), the table is made to fit it, one step at a time until it does: the columns
that say the same thing in every row move to one line above the table, long names are abbreviated
(``single_stream`` -> ``single``), then the least needed figures are hidden (n, p99, p90), then model names
are cut. A last line says what was hidden; report.md and ``edgebench show RUN --wide`` keep every column.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from edgebench.reporting.values import format_value

COLUMNS = (
    ("device", "device"), ("model", "model"), ("precision", "prec"), ("backend", "backend"), ("threads", "thr"),
    ("scenario", "scenario"), ("batch", "b"), ("concurrency", "streams"), ("status", "status"), ("n", "n"),
    ("latency_p50_ms", "p50 ms"), ("latency_p90_ms", "p90 ms"), ("latency_p99_ms", "p99 ms"),
    ("throughput_ips", "inf/s"), ("peak_rss_mb", "peak MiB"), ("power_avg_w", "W"),
    ("energy_per_inference_mj", "mJ/inf"),
)
#: columns that name a case (the rest are its status and figures)
IDENTITY = ("device", "model", "precision", "backend", "threads", "scenario", "batch", "concurrency")
TEXT_COLUMNS = ("device", "model", "precision", "backend", "scenario", "status")
#: shorter names for a narrow terminal
ABBREVIATIONS = {
    "scenario": {"single_stream": "single", "concurrent": "concur", "sustained": "sustain"},
    "backend": {"onnxruntime": "onnxrt"},
}
#: the figures hidden first when the table is still too wide, in this order
HIDE_ORDER = ("n", "latency_p99_ms", "latency_p90_ms", "energy_per_inference_mj")
#: hidden only when cutting model names was not enough
LAST_RESORT = ("throughput_ips", "power_avg_w", "peak_rss_mb")
MIN_MODEL_WIDTH = 8
GAP = "  "


@dataclass
class _Layout:
    columns: list[tuple[str, str]]
    cells: list[list[str]]
    caption: list[str]
    hidden: list[str]

    def widths(self) -> list[int]:
        return [max([len(h)] + [len(c[i]) for c in self.cells]) for i, (_, h) in enumerate(self.columns)]

    def width(self) -> int:
        widths = self.widths()
        return sum(widths) + len(GAP) * (len(widths) - 1)

    def drop(self, key: str) -> None:
        index = [k for k, _ in self.columns].index(key)
        del self.columns[index]
        for row in self.cells:
            del row[index]


def render_table(rows: Sequence[Mapping[str, Any]], width: int | None = None, problems: bool = True) -> str:
    """The table of ``rows`` (summary.csv rows); ``width``: the most characters a line may take (None: any);
    ``problems``: end with one line per case that did not end ok (its status and error)."""
    columns = [(k, h) for k, h in COLUMNS if any(r.get(k) not in (None, "") for r in rows) or k in
               ("model", "backend", "status")]
    if all(r.get("concurrency") in (None, "", 1) for r in rows):  # no concurrent case: no streams column
        columns = [(k, h) for k, h in columns if k != "concurrency"]
    if len({r.get("device") for r in rows}) < 2:  # one device (the header names it): a farm run lists each
        columns = [(k, h) for k, h in columns if k != "device"]
    layout = _Layout(columns, [[format_value(r.get(k)) for k, _ in columns] for r in rows], [], [])
    if width is not None:
        _fit(layout, width)
    widths = layout.widths()
    numeric = [k not in TEXT_COLUMNS for k, _ in layout.columns]

    def line(values: Sequence[str]) -> str:
        return GAP.join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = []
    if layout.caption:
        out.append(wrap_line("every case: " + ", ".join(layout.caption), width))
    out += [line([h for _, h in layout.columns]), line(["-" * w for w in widths])]
    out += [line(c) for c in layout.cells]
    if layout.hidden:
        out.append(wrap_line(f"({', '.join(layout.hidden)} hidden to fit {width} columns; all of them: report.md, "
                             f"show --wide)", width))
    if problems:
        bad = [r for r in rows if r.get("status") not in ("ok",) and r.get("error")]
        if bad:
            out.append("")
            out += [wrap_line(problem_line(r), width) for r in bad]
    return "\n".join(out)


def problem_line(row: Mapping[str, Any]) -> str:
    """``failed: CASE_ID: error`` (or ``skipped: ...: reason``), one line."""
    error = " ".join(str(row.get("error") or "").split())
    return f"{row.get('status')}: {row.get('case_id')}: {error}"


def wrap_line(text: str, width: int | None) -> str:
    if width is None or len(text) <= width:
        return text
    # a case id is one word: it moves to the next line whole rather than being cut
    return "\n".join(textwrap.wrap(text, width, subsequent_indent="    ", break_on_hyphens=False,
                                   break_long_words=False))


def _fit(layout: _Layout, width: int) -> None:
    """Make ``layout`` at most ``width`` wide, in the steps the module docstring lists."""
    if layout.width() <= width:
        return
    if layout.cells:
        for key, title in list(layout.columns):
            index = [k for k, _ in layout.columns].index(key)
            values = {row[index] for row in layout.cells}
            if key in IDENTITY and len(values) == 1:
                value = values.pop()
                if value != "-":
                    layout.caption.append(value if key in ("model", "backend", "scenario") else f"{title} {value}")
                layout.drop(key)
    for key, names in ABBREVIATIONS.items():
        if layout.width() <= width:
            return
        keys = [k for k, _ in layout.columns]
        if key in keys:
            index = keys.index(key)
            for row in layout.cells:
                row[index] = names.get(row[index], row[index])
    _hide(layout, width, HIDE_ORDER)
    keys = [k for k, _ in layout.columns]
    if layout.width() > width and "model" in keys:
        index = keys.index("model")
        room = layout.widths()[index] - (layout.width() - width)
        room = max(room, MIN_MODEL_WIDTH, len("model"))
        for row in layout.cells:
            if len(row[index]) > room:
                row[index] = row[index][:room - 1] + "…"
    _hide(layout, width, LAST_RESORT)


def _hide(layout: _Layout, width: int, keys: Sequence[str]) -> None:
    for key in keys:
        if layout.width() <= width:
            return
        titles = dict(layout.columns)
        if key in titles:
            layout.hidden.append(titles[key])
            layout.drop(key)

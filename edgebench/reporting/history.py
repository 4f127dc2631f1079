"""``edgebench history``'s report: one series per case of a statistic across runs, its steps, as Markdown and
as an HTML page with a trend plot per case.

A series is the case's figure in every run that measured it, oldest first (by ``created_at``); a step
(``analysis.steps``) is named by the two runs around it: the commit range a bisect starts from.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import Any, List, Sequence

from edgebench.analysis.steps import Step, detect_steps
from edgebench.results.frame import Statistic


@dataclass
class Point:
    run_id: str
    git_commit: str | None
    created_at: float
    value: float


@dataclass
class CaseHistory:
    case_id: str
    statistic: Statistic
    points: List[Point]
    steps: List[Step] = field(default_factory=list)

    def worse(self, step: Step) -> bool:
        return (step.change > 0) == self.statistic.higher_is_worse


def build_histories(frame: Any, statistic: Statistic, **step_options: Any) -> list[CaseHistory]:
    """The series of each case in ``frame`` (``results.frame``'s DataFrame), with its steps. Runs where the case
    has no positive figure (failed, skipped, not measured) are left out of its series. A case measured on two
    devices is two series (``case_id on device``): one device's figures are no step from the other's."""
    column = statistic.column
    usable = frame[(frame["status"] == "ok") & (frame[column] > 0) & frame["created_at"].notna()]
    several_devices = usable["case_device"].nunique() > 1
    usable = usable.sort_values(["created_at", "run_id"], kind="stable")
    import pandas as pd  # the frame is a DataFrame: pandas is there

    seconds = (usable["created_at"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    usable = usable.assign(_seconds=seconds)
    histories = []
    for (case_id, device), rows in usable.groupby(["case_id", "case_device"], sort=True, dropna=False):
        commits = [c if isinstance(c, str) else None for c in rows["git_commit"].tolist()]
        points = [Point(str(run_id), commit, float(when), float(value)) for run_id, commit, when, value in
                  zip(rows["run_id"].tolist(), commits, rows["_seconds"].tolist(), rows[column].tolist())]
        label = str(case_id)
        if several_devices and not label.endswith(f"@{device}"):
            label = f"{label} on {device}"
        history = CaseHistory(label, statistic, points)
        history.steps = detect_steps([p.value for p in points], **step_options)
        histories.append(history)
    return histories


def _commit(point: Point) -> str:
    return (point.git_commit or "?")[:10]


def _when(point: Point) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(point.created_at))


def _value(value: float) -> str:
    return f"{value:.4g}"


def step_rows(histories: Sequence[CaseHistory]) -> list[dict[str, str]]:
    """One row per step of every case: what the Markdown table and the HTML table show."""
    rows = []
    for history in histories:
        unit = history.statistic.unit
        for step in history.steps:
            before, after = history.points[step.last_before], history.points[step.index]
            rows.append({
                "case": history.case_id, "statistic": history.statistic.name,
                "change": f"{step.change * 100:+.1f}% ({'worse' if history.worse(step) else 'better'})",
                "level": f"{_value(step.before)} -> {_value(step.after)} {unit}",
                "commits": f"{_commit(before)}..{_commit(after)}",
                "runs": f"{before.run_id} ({_when(before)}) .. {after.run_id} ({_when(after)})",
            })
    return rows


def render_markdown(histories: Sequence[CaseHistory], runs: int) -> str:
    if not histories:
        return "# History\n\nNo case has this statistic in these runs.\n"
    statistic = histories[0].statistic
    rows = step_rows(histories)
    lines = [f"# History: {statistic.name} ({statistic.what}, {statistic.unit})", "",
             f"{runs} runs, {len(histories)} cases, {len(rows)} step{'s' * (len(rows) != 1)} found.", ""]
    if rows:
        keys = list(rows[0])
        lines += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(row[k].replace("|", "\\|") for k in keys) + " |" for row in rows]
    else:
        lines.append("No step: every case held its level.")
    return "\n".join(lines) + "\n"


# -- HTML --------------------------------------------------------------------------------------------------
#: figure width in inches: drawn 390 px wide (a 412 px screen less the margins), a 10 pt label is
#: 10 * 390 / (72 * 4.8) = 11.3 px
PLOT_WIDTH_IN = 4.8
FONT_PT = 10


def trend_plot(history: CaseHistory) -> str | None:
    """The series (dots), its levels (lines) and its steps (dashed marks), as inline SVG; None without
    matplotlib."""
    from edgebench.optional import MissingDependency
    from edgebench.reporting.plots import _figure, to_svg

    values = [p.value for p in history.points]
    edges = [0, *(s.index for s in history.steps), len(values)]
    try:
        with _figure(PLOT_WIDTH_IN, 2.6) as fig:
            ax = fig.add_subplot()
            ax.plot(range(len(values)), values, "o", ms=3, color="tab:blue")
            for start, stop in zip(edges, edges[1:]):
                level = sorted(values[start:stop])[(stop - start) // 2]
                ax.hlines(level, start - 0.4, stop - 0.6, color="tab:orange", lw=1.6)
            for step in history.steps:
                ax.axvline(step.index - 0.5, color="tab:red" if history.worse(step) else "tab:green", ls="--", lw=1)
            ax.set_xlabel("run, oldest to newest", fontsize=FONT_PT)
            ax.set_ylabel(f"{history.statistic.name} ({history.statistic.unit})", fontsize=FONT_PT)
            ax.tick_params(labelsize=FONT_PT)
            return to_svg(fig)
    except MissingDependency:
        return None


_STYLE = """body{font-family:system-ui,sans-serif;margin:0.8em;font-size:15px;line-height:1.4}
li{margin-bottom:0.4em;overflow-wrap:anywhere}
.plot{width:100%;max-width:760px;height:auto}
h2{font-size:15px;overflow-wrap:anywhere}"""


def render_html(histories: Sequence[CaseHistory], runs: int) -> str:
    esc = html.escape
    statistic = histories[0].statistic if histories else None
    title = f"edgebench history: {statistic.name}" if statistic else "edgebench history"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>", f"<h1>{esc(title)}</h1>"]
    rows = step_rows(histories)
    parts.append(f"<p>{runs} runs, {len(histories)} cases, {len(rows)} step{'s' * (len(rows) != 1)} found.</p>")
    if rows:  # a list, not a table: a long case id and six columns do not fit a phone's 412 px
        parts.append("<ul>")
        parts += [f"<li><b>{esc(row['case'])}</b>: {esc(row['change'])}, {esc(row['level'])}; commits "
                  f"<code>{esc(row['commits'])}</code>; runs {esc(row['runs'])}</li>" for row in rows]
        parts.append("</ul>")
    for history in histories:
        parts.append(f"<h2>{esc(history.case_id)}</h2>")
        svg = trend_plot(history)
        parts.append(svg if svg else "<p>(no plot: matplotlib is not installed)</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

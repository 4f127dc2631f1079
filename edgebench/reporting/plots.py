"""Plots as inline SVG strings, drawn with matplotlib's SVG backend (no pyplot, no global backend switch).

Text stays text (``svg.fonttype = none``: small files, fast to write, rendered in the page's sans-serif font),
escaped by matplotlib's SVG writer like any XML text; math text is off, so a ``$`` in a name is just a dollar.
``svg.hashsalt`` makes the ids stable.
matplotlib is imported inside the functions: ``edgebench --help`` does not pay for it.

Sized for a phone: the HTML scales each plot to the page's width (at most ``MAX_WIDTH_PX``), so text is drawn in
SVG units that become pixels times (rendered width / figure width). Every figure is ``FIGURE_WIDTH_IN`` wide
(360 units) and no text is smaller than ``MIN_FONT``, so at the 400 px a 412 px phone leaves for a plot, the
smallest text is 10 px; long names go into legends below the axes or are wrapped, never squeezed.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Sequence

from edgebench.analysis.declared import RecordChannels
from edgebench.optional import require
from edgebench.sensors.channels import (
    BITMASK,
    CLOCK,
    CLOCK_TO_MHZ,
    COUNTER,
    ENERGY_COUNTER,
    ENERGY_TO_MJ,
    LEVEL,
    POWER_TO_MW,
    POWER_TOTAL,
    RAIL,
    TEMPERATURE,
    THROTTLE_FLAG,
)

#: what needs matplotlib, in the one line that says it is missing
PLOTS = "plotting"

PHASE_MARKS = {"loop_start", "loop_end", "idle_start", "idle_end", "load_start"}
#: every figure's width (inches: 72 SVG units each) and the smallest font (SVG units); see the module docstring
FIGURE_WIDTH_IN = 5.0
MIN_FONT = 9.5
#: the widest a plot is drawn in the page (px): text stays at most 1.7x its size on a wide screen
MAX_WIDTH_PX = 600
#: the most characters of a label on one line (about the width of the figure at MIN_FONT)
MAX_LABEL = 56
RC: dict[str, Any] = {"svg.fonttype": "none", "svg.hashsalt": "edgebench", "text.parse_math": False,
                      "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": MIN_FONT,
                      "ytick.labelsize": MIN_FONT, "legend.fontsize": MIN_FONT, "figure.titlesize": 10,
                      "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False}


@contextmanager
def _figure(width: float, height: float, layout: Any = "constrained") -> Iterator[Any]:
    matplotlib = require("matplotlib", PLOTS)
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        fig = Figure(figsize=(width, height), layout=layout)
        yield fig


def missing_note(where: str) -> str | None:
    """One line for stderr when ``where`` (an HTML report) is written without plots, because matplotlib is
    not installed; None when it is."""
    from edgebench.optional import MissingDependency, missing

    if not missing("matplotlib"):
        return None
    return f"edgebench: note: {where} has no plots: {MissingDependency('matplotlib', PLOTS)}"


def to_svg(fig: Any) -> str:
    """The figure as an SVG element to inline in HTML (no XML declaration or DOCTYPE)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    svg = text[start:]
    # scale with the page: drop the fixed size, keep the viewBox
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="plot" role="img"', svg, count=1)


def _wrap(label: str, width: int = MAX_LABEL, lines: int = 2) -> str:
    """``label`` on at most ``lines`` lines of ``width`` characters, broken after a separator (a case id has
    no spaces: ``kws.fp32.onnxruntime.threads=1``), the last line cut with an ellipsis when it is still longer."""
    out: list[str] = []
    rest = label
    while rest and len(out) < lines - 1 and len(rest) > width:
        cut = max(rest.rfind(sep, 0, width) for sep in (" ", ".", ":", ",", "/", "_", "-"))
        cut = cut + 1 if cut > 0 else width
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    out.append(_short_to(rest, width))
    return "\n".join(out)


def _short_to(label: str, width: int) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def numbered_front(points: Sequence[Any]) -> list[tuple[int, Any]]:
    """The Pareto-optimal points numbered 1, 2, ...: model by model (in the order seen), fastest first. The
    plot marks each point with its number and the HTML report lists the numbers with their cases."""
    models: list[str] = []
    for p in points:
        if p.model not in models:
            models.append(p.model)
    front = [p for m in models for p in sorted((q for q in points if q.model == m and q.optimal),
                                               key=lambda q: q.latency_p50_ms)]
    return list(enumerate(front, 1))


def latency_distribution(cases: Sequence[tuple[str, Sequence[float]]]) -> str | None:
    """Box plot per case: box q1..q3, line at the median, whiskers p1..p99, dot at the mean (ms).
    Drawn with one collection per element (not one artist per box), so a hundred cases stay fast."""
    import numpy as np

    labels, rows = [], []
    for label, samples_ns in cases:
        if not len(samples_ns):
            continue
        ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
        rows.append([*np.percentile(ms, [1, 25, 50, 75, 99]), float(ms.mean())])
        labels.append(label)
    if not rows:
        return None
    p1, q1, med, q3, p99, mean = np.array(rows[::-1]).T
    labels = [_wrap(t) for t in labels[::-1]]
    # each case its own row: its name above its box (a name beside the axis would leave a phone no room)
    lines = [t.count("\n") + 1 for t in labels]
    heights = [0.24 + 0.17 * n for n in lines]  # inches (the axes are as tall): box, then the name's lines
    y = np.cumsum([0.0, *heights[:-1]]) + 0.12  # each box's middle
    height = 0.85 + sum(heights)
    with _figure(FIGURE_WIDTH_IN, height, layout=None) as fig:
        fig.subplots_adjust(left=0.04, right=0.97, top=1 - 0.1 / height, bottom=0.75 / height)
        ax = fig.add_subplot()
        ax.hlines(y, p1, p99, color="0.25", lw=1)
        ax.vlines(np.concatenate([p1, p99]), np.tile(y - 0.05, 2), np.tile(y + 0.05, 2), color="0.25", lw=1)
        ax.barh(y, q3 - q1, left=q1, height=0.14, color="#f5deb3", edgecolor="0.2", lw=0.8)
        ax.vlines(med, y - 0.07, y + 0.07, color="tab:orange", lw=1.6)
        ax.scatter(mean, y, s=6, color="black", zorder=3)
        ax.set_yticks([])
        ax.set_ylim(-0.05, sum(heights))
        for row, text in zip(y, labels):
            ax.annotate(text, (0.01, row + 0.08), xycoords=("axes fraction", "data"), fontsize=MIN_FONT,
                        va="bottom", ha="left", linespacing=1.1)
        ax.grid(axis="y", visible=False)
        if p1.min() > 0 and p99.max() / p1.min() > 20:
            from matplotlib.ticker import FuncFormatter, NullFormatter

            ax.set_xscale("log")  # plain tick labels: math text is off, so no 10^{k} notation
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("latency (ms): box q1-q3, line median,\nwhiskers p1-p99, dot mean")
        return to_svg(fig)


def pareto(points: Sequence[Any], axis: str) -> str | None:
    """Latency p50 against energy per inference (or power); the front of each model joined by a line."""
    if not points:
        return None
    ylabel = "energy per inference (mJ)" if axis == "energy_per_inference_mj" else "average power (W)"
    numbers = {id(p): n for n, p in numbered_front(points)}
    with _figure(FIGURE_WIDTH_IN, 4.2) as fig:
        ax = fig.add_subplot()
        models: list[str] = []
        for p in points:
            if p.model not in models:
                models.append(p.model)
        for index, model in enumerate(models):
            color = f"C{index % 10}"
            mine = [p for p in points if p.model == model]
            ax.scatter([p.latency_p50_ms for p in mine], [p.cost for p in mine], color=color, alpha=0.5, s=18)
            front = sorted((p for p in mine if p.optimal), key=lambda p: p.latency_p50_ms)
            ax.plot([p.latency_p50_ms for p in front], [p.cost for p in front], "-o", color=color,
                    label=_short_to(model, MAX_LABEL), markersize=5)
            for p in front:  # its number; the table under the plot names the case
                ax.annotate(str(numbers[id(p)]), (p.latency_p50_ms, p.cost), fontsize=MIN_FONT, xytext=(4, 4),
                            textcoords="offset points")
        ax.set_xlabel("latency p50 (ms)")
        ax.set_ylabel(ylabel)
        ax.set_title("Pareto front: lower-left is better")
        fig.legend(loc="outside lower center", ncols=2 if len(models) > 1 else 1, frameon=False)
        return to_svg(fig)


def throughput_scaling(entries: Sequence[Any]) -> str | None:
    """Throughput against threads and against batch, one line per (device, model, backend, ...)."""
    panels = []
    for dim in ("threads", "batch"):
        series: dict[str, list[tuple[float, float]]] = {}
        for e in entries:
            ips = e.values.get("throughput_ips")
            try:
                x = float(e.dims[dim])
            except ValueError:
                continue
            if e.status != "ok" or ips is None or not e.runs_a_model:  # the null backend: no model, no scaling
                continue
            other = [e.dims[d] for d in ("device", "model", "backend", "precision", "settings", "scenario")
                     if e.dims[d]]
            other += [f"threads={e.dims['threads']}" if dim == "batch" else f"b{e.dims['batch']}"]
            series.setdefault(" ".join(other), []).append((x, ips))
        series = {k: sorted(v) for k, v in series.items() if len({x for x, _ in v}) > 1}
        if series:
            panels.append((dim, series))
    if not panels:
        return None
    lines = sum(min(len(series), 12) for _, series in panels)
    with _figure(FIGURE_WIDTH_IN, 2.8 * len(panels) + 0.3 * lines) as fig:
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        for ax, (dim, series) in zip(axes, panels):
            for index, (label, pts) in enumerate(list(series.items())[:12]):
                ax.plot([x for x, _ in pts], [y for _, y in pts], "-o", markersize=4, label=_wrap(label),
                        color=f"C{index % 10}")
            ax.set_xlabel(dim)
            ax.set_ylabel("inferences/s")
            # below the axes: the names are long, the plot narrow
            ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.22), frameon=False, borderaxespad=0)
        return to_svg(fig)


def server_curves(curves: Sequence[Any]) -> str | None:
    """The server search of each case: target QPS against the latency percentile, one panel per case (at most
    8), filled markers for trials that met the bound, the bound as a dashed line."""
    shown = [c for c in curves if any(t.latency_ms is not None for t in c.trials)][:8]
    if not shown:
        return None
    with _figure(FIGURE_WIDTH_IN, 3.0 * len(shown)) as fig:
        axes = fig.subplots(len(shown), 1, squeeze=False)[:, 0]
        for ax, curve in zip(axes, shown):
            points = sorted((t.target_qps, t.latency_ms, t.passed) for t in curve.trials if t.latency_ms is not None)
            ax.plot([p[0] for p in points], [p[1] for p in points], "-", color="C0", alpha=0.5)
            for passed in (True, False):
                pts = [p for p in points if p[2] is passed]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o", color="C0" if passed else "C3",
                        fillstyle="full" if passed else "none", label="met the bound" if passed else "over")
            ax.axhline(curve.bound_ms, linestyle="--", color="0.4", linewidth=1)
            if curve.served_qps is not None:
                ax.axvline(curve.served_qps, linestyle=":", color="C2", linewidth=1)
            ax.set_title(_wrap(curve.label), fontsize=MIN_FONT)
            ax.set_xlabel("target QPS")
            ax.set_ylabel(f"p{curve.percentile * 100:g} latency ms")
            ax.legend()
        return to_svg(fig)


def _power_series_w(t_ns: Sequence[int], channels: Mapping[str, Sequence[Any]],
                    declared: RecordChannels) -> dict[str, list[Any]]:
    """Power in W of every declared power channel, and of every energy counter (from its deltas); the channels
    that can stand for the total first, at most 6."""
    out: dict[str, list[Any]] = {}
    totals: set[str] = set()
    for e in declared.series(POWER_TOTAL, RAIL, ENERGY_COUNTER):
        values, unit = channels.get(e.key), e.channel.unit
        if values is None:
            continue
        if unit in POWER_TO_MW:
            label, per_w = e.key, 1e3 / POWER_TO_MW[unit]
            out[label] = [None if v is None else v / per_w for v in values]
        elif unit in ENERGY_TO_MJ and sum(v is not None for v in values) > 1:
            scale = ENERGY_TO_MJ[unit] / 1e3  # to J
            series: list[Any] = [None]
            for k in range(1, len(values)):
                a, b = values[k - 1], values[k]
                dt = (t_ns[k] - t_ns[k - 1]) / 1e9
                series.append(None if a is None or b is None or b < a or dt <= 0 else (b - a) * scale / dt)
            label = e.key.rsplit("_", 1)[0] + " (from counter)"
            out[label] = series
        else:
            continue
        if e.channel.rank is not None:
            totals.add(label)
    ranked = sorted(out, key=lambda n: (0 if n in totals else 1, n))
    return {n: out[n] for n in ranked[:6]}


def _throttle_spans(t_s: Sequence[float], channels: Mapping[str, Sequence[Any]],
                    declared: RecordChannels) -> list[tuple[float, float, str]]:
    """Time spans where a throttle flag was set: flags on while set, a bitmask's slowdown bits, a counter's steps."""
    flagged: list[tuple[int, str]] = []
    for e in declared.series(THROTTLE_FLAG):
        values, short, how = channels.get(e.key) or (), e.channel.name, e.channel.signal
        for k, v in enumerate(values):
            if v is None:
                continue
            if how == LEVEL and v:
                flagged.append((k, short))
            elif how == BITMASK and int(v) & e.channel.slowdown_mask:
                flagged.append((k, f"{e.sensor} slowdown"))
            elif how == COUNTER and k and values[k - 1] is not None and v > values[k - 1]:
                flagged.append((k, short))
    spans = []
    for k, why in flagged:
        end = t_s[k + 1] if k + 1 < len(t_s) else t_s[k]
        spans.append((t_s[k - 1] if k else t_s[k], end, why))
    return spans


def _clock_series_mhz(channels: Mapping[str, Sequence[Any]], declared: RecordChannels,
                      length: int) -> dict[str, list[Any]]:
    """Clocks in MHz: a group's (a CPU's cores) as its fastest member, first; then each other clock."""
    groups: dict[str, list[tuple[str, float]]] = {}
    lone: dict[str, list[Any]] = {}
    for e in declared.series(CLOCK):
        if e.key not in channels or e.channel.unit not in CLOCK_TO_MHZ:
            continue
        per = 1 / CLOCK_TO_MHZ[e.channel.unit]
        if e.channel.group:
            groups.setdefault(e.channel.group, []).append((e.key, per))
        else:
            lone[e.key] = list(channels[e.key]) if per == 1.0 else [None if v is None else v / per
                                                                    for v in channels[e.key]]
    clocks: dict[str, list[Any]] = {}
    for group, members in groups.items():
        fastest = [max((channels[n][k] for n, _ in members if channels[n][k] is not None), default=None)
                   for k in range(length)]
        per = members[0][1]
        clocks[f"{group} fastest core"] = [None if v is None else v / per for v in fastest]
    return {**clocks, **lone}


def sensor_timeline(raw: Mapping[str, Any], title: str) -> str | None:
    """Power, temperature and clocks of one case against time, loop window shaded, throttle events in red."""
    sensors = raw.get("sensors") or {}
    t_ns = sensors.get("t_ns") or []
    channels = sensors.get("channels") or {}
    if len(t_ns) < 2 or not channels:
        return None
    t0 = t_ns[0]
    t_s = [(t - t0) / 1e9 for t in t_ns]
    declared = RecordChannels.from_record(channels, sensors.get("sensors"))
    power = _power_series_w(t_ns, channels, declared)
    temps = {e.key: channels[e.key] for e in declared.series(TEMPERATURE) if e.key in channels}
    clocks = _clock_series_mhz(channels, declared, len(t_ns))
    panels = [(label, unit, data) for label, unit, data in (
        ("power", "W", power), ("temperature", "°C", dict(list(temps.items())[:6])),
        ("clocks", "MHz", dict(list(clocks.items())[:6]))) if data]
    if not panels:
        return None
    marks = sensors.get("marks") or []
    phase = {e: (t - t0) / 1e9 for e, t in marks if e in PHASE_MARKS}
    events = [(e, (t - t0) / 1e9) for e, t in marks if e not in PHASE_MARKS]
    spans = _throttle_spans(t_s, channels, declared)
    columns = {label: 2 if all(len(n) <= 22 for n in data) else 1 for label, _, data in panels}
    legend_rows = sum(-(-len(data) // columns[label]) for label, _, data in panels)
    with _figure(FIGURE_WIDTH_IN, 1.2 + 2.0 * len(panels) + 0.2 * legend_rows) as fig:
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        for ax, (label, unit, data) in zip(axes, panels):
            for index, (name, values) in enumerate(data.items()):
                xs = [t for t, v in zip(t_s, values) if v is not None and not isinstance(v, bool)]
                ys = [v for v in values if v is not None and not isinstance(v, bool)]
                ax.plot(xs, ys, lw=1.2, label=_short_to(name, MAX_LABEL), color=f"C{index % 10}")
            ax.set_ylabel(f"{label} ({unit})")
            if "loop_start" in phase and "loop_end" in phase:
                ax.axvspan(phase["loop_start"], phase["loop_end"], color="0.85", alpha=0.5, lw=0)
            if "idle_start" in phase and "idle_end" in phase:
                ax.axvspan(phase["idle_start"], phase["idle_end"], color="tab:blue", alpha=0.08, lw=0)
            for start, end, _ in spans:
                ax.axvspan(start, end, color="tab:red", alpha=0.25, lw=0)
            for _, t in events:
                ax.axvline(t, color="tab:red", lw=1, ls="--")
            # above the panel, two names a row: inside it they would hide the lines on a phone
            ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=columns[label], frameon=False,
                      borderaxespad=0.2, handlelength=1.2, columnspacing=1.0)
        # the events by name under the time axis (written across the panels, they would hide the lines)
        named = [f"{t:.2f} s: {_short_to(name, MAX_LABEL - 9)}" for name, t in events[:3]]
        more = [f"and {len(events) - 3} more events"] if len(events) > 3 else []
        axes[-1].set_xlabel("\n".join(["time (s); grey: timed loop, blue: idle baseline,",
                                       "red: throttle events" + (":" if named else ""), *named, *more]))
        fig.suptitle(_wrap(title), fontsize=10)
        return to_svg(fig)

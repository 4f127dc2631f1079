"""Plots as inline SVG strings, drawn with matplotlib's SVG backend (no pyplot, no global backend switch).

Text stays text (``svg.fonttype = none``: small files, fast to write, rendered in the page's sans-serif font),
escaped by matplotlib's SVG writer like any XML text; math text is off, so a ``$`` in a name is just a dollar.
``svg.hashsalt`` makes the ids stable.
matplotlib is imported inside the functions: ``edgebench --help`` does not pay for it.
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
    LEVEL,
    POWER_TOTAL,
    RAIL,
    TEMPERATURE,
    THROTTLE_FLAG,
)

#: what needs matplotlib, in the one line that says it is missing
PLOTS = "plotting"

PHASE_MARKS = {"loop_start", "loop_end", "idle_start", "idle_end", "load_start"}
MAX_LABEL = 60
RC: dict[str, Any] = {"svg.fonttype": "none", "svg.hashsalt": "edgebench", "text.parse_math": False, "font.size": 9,
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


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


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
        labels.append(_short(label))
    if not rows:
        return None
    p1, q1, med, q3, p99, mean = np.array(rows[::-1]).T
    labels = labels[::-1]
    y = np.arange(len(labels))
    width, height = 8.0, 1.2 + 0.28 * len(labels)
    with _figure(width, height, layout=None) as fig:
        # margins by hand: a constrained layout would draw a hundred labels twice
        label_in = max(len(t) for t in labels) * 7 * 0.55 / 72 + 0.15
        fig.subplots_adjust(left=min(0.6, label_in / width), right=0.97, top=1 - 0.25 / height,
                            bottom=0.75 / height)
        ax = fig.add_subplot()
        ax.hlines(y, p1, p99, color="0.25", lw=1)
        ax.vlines(np.concatenate([p1, p99]), np.tile(y - 0.15, 2), np.tile(y + 0.15, 2), color="0.25", lw=1)
        ax.barh(y, q3 - q1, left=q1, height=0.6, color="#f5deb3", edgecolor="0.2", lw=0.8)
        ax.vlines(med, y - 0.3, y + 0.3, color="tab:orange", lw=1.6)
        ax.scatter(mean, y, s=6, color="black", zorder=3)
        ax.set_yticks(y, labels, fontsize=7)
        ax.set_ylim(-0.7, len(labels) - 0.3)
        if p1.min() > 0 and p99.max() / p1.min() > 20:
            from matplotlib.ticker import FuncFormatter, NullFormatter

            ax.set_xscale("log")  # plain tick labels: math text is off, so no 10^{k} notation
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("latency (ms): box q1-q3, line median, whiskers p1-p99, dot mean")
        return to_svg(fig)


def pareto(points: Sequence[Any], axis: str) -> str | None:
    """Latency p50 against energy per inference (or power); the front of each model joined by a line."""
    if not points:
        return None
    ylabel = "energy per inference (mJ)" if axis == "energy_per_inference_mj" else "average power (W)"
    with _figure(7.0, 4.5) as fig:
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
            ax.plot([p.latency_p50_ms for p in front], [p.cost for p in front], "-o", color=color, label=model,
                    markersize=5)
            for p in front[:8]:
                ax.annotate(_short(p.label), (p.latency_p50_ms, p.cost), fontsize=6, xytext=(3, 3),
                            textcoords="offset points")
        ax.set_xlabel("latency p50 (ms)")
        ax.set_ylabel(ylabel)
        ax.set_title("Pareto front: lower-left is better")
        ax.legend(fontsize=7)
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
            if e.status != "ok" or ips is None:
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
    with _figure(7.0, 3.6 * len(panels)) as fig:
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        for ax, (dim, series) in zip(axes, panels):
            for index, (label, pts) in enumerate(list(series.items())[:12]):
                ax.plot([x for x, _ in pts], [y for _, y in pts], "-o", markersize=4, label=_short(label),
                        color=f"C{index % 10}")
            ax.set_xlabel(dim)
            ax.set_ylabel("inferences/s")
            ax.legend(fontsize=6)
        return to_svg(fig)


def server_curves(curves: Sequence[Any]) -> str | None:
    """The server search of each case: target QPS against the latency percentile, one panel per case (at most
    8), filled markers for trials that met the bound, the bound as a dashed line."""
    shown = [c for c in curves if any(t.latency_ms is not None for t in c.trials)][:8]
    if not shown:
        return None
    with _figure(7.0, 2.8 * len(shown)) as fig:
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
            ax.set_title(_short(curve.label), fontsize=8)
            ax.set_xlabel("target QPS")
            ax.set_ylabel(f"p{curve.percentile * 100:g} latency ms")
            ax.legend(fontsize=6)
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
        if unit in _PER_W:
            label = e.key
            out[label] = [None if v is None else v / _PER_W[unit] for v in values]
        elif unit in _J_SCALE and sum(v is not None for v in values) > 1:
            scale = _J_SCALE[unit]
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


#: power units -> per W, energy units -> to J
_PER_W = {"mW": 1000.0, "uW": 1e6, "W": 1.0}
_J_SCALE = {"uJ": 1e-6, "mJ": 1e-3, "J": 1.0}


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
        if e.channel.group:
            groups.setdefault(e.channel.group, []).append((e.key, _PER_MHZ[e.channel.unit]))
        else:
            per = _PER_MHZ[e.channel.unit]
            lone[e.key] = list(channels[e.key]) if per == 1.0 else [None if v is None else v / per
                                                                    for v in channels[e.key]]
    clocks: dict[str, list[Any]] = {}
    for group, members in groups.items():
        fastest = [max((channels[n][k] for n, _ in members if channels[n][k] is not None), default=None)
                   for k in range(length)]
        per = members[0][1]
        clocks[f"{group} fastest core"] = [None if v is None else v / per for v in fastest]
    return {**clocks, **lone}


#: clock units -> per MHz
_PER_MHZ = {"MHz": 1.0, "kHz": 1000.0, "Hz": 1e6}


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
    with _figure(8.0, 1.0 + 2.0 * len(panels)) as fig:
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        for ax, (label, unit, data) in zip(axes, panels):
            for index, (name, values) in enumerate(data.items()):
                xs = [t for t, v in zip(t_s, values) if v is not None and not isinstance(v, bool)]
                ys = [v for v in values if v is not None and not isinstance(v, bool)]
                ax.plot(xs, ys, lw=1.2, label=_short(name), color=f"C{index % 10}")
            ax.set_ylabel(f"{label} ({unit})")
            if "loop_start" in phase and "loop_end" in phase:
                ax.axvspan(phase["loop_start"], phase["loop_end"], color="0.85", alpha=0.5, lw=0)
            if "idle_start" in phase and "idle_end" in phase:
                ax.axvspan(phase["idle_start"], phase["idle_end"], color="tab:blue", alpha=0.08, lw=0)
            for start, end, _ in spans:
                ax.axvspan(start, end, color="tab:red", alpha=0.25, lw=0)
            for _, t in events:
                ax.axvline(t, color="tab:red", lw=1, ls="--")
            ax.legend(fontsize=6, loc="upper left")
        top = axes[0]
        for name, t in events:
            top.annotate(_short(name), (t, 1.0), xycoords=("data", "axes fraction"), fontsize=6, color="tab:red",
                         rotation=90, va="top", ha="right")
        axes[-1].set_xlabel("time (s); grey: timed loop, blue: idle baseline, red: throttle events")
        fig.suptitle(_short(title), fontsize=9)
        return to_svg(fig)

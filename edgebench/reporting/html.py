"""HTML: one self-contained file (no script, no network, no CDN), plots inline as SVG, readable on a phone
(tables scroll sideways, plots scale to the width). Every name from a run goes through ``html.escape``."""

from __future__ import annotations

import json
from html import escape
from typing import Any, Sequence

from edgebench.reporting.model import ReportModel
from edgebench.reporting.selection_table import (
    SELECTION_NOTE,
    SERVED_QPS_NOTE,
    budget_title,
    devices_table,
    hardware_note,
    hardware_table,
    selection_table,
    served_qps_table,
)
from edgebench.reporting.values import format_ratio, format_time, format_value

#: at most this many sensor timelines (one per case with sensor series) per report
MAX_TIMELINES = 24

CSS = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1b1f24;
       background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 12px; overflow-wrap: anywhere; }
h1 { font-size: 1.5em; margin: 0.4em 0; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.4em; }
.meta { color: #555; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; font-size: 0.9em; min-width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e5e5e5; white-space: nowrap; }
th { background: #f6f8fa; text-align: left; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { font-weight: 700; background: #e6f4ea; }
tr.ref td:first-child::after { content: " (ref)"; color: #666; font-weight: 400; }
.ratio { color: #666; font-size: 0.85em; margin-left: 4px; }
.failed { color: #b3261e; }
ul.warnings { padding-left: 1.2em; } ul.warnings li { margin: 0.3em 0; }
.kind { display: inline-block; font-size: 0.8em; padding: 0 6px; border-radius: 8px; background: #fff4ce;
        border: 1px solid #e0c060; margin-right: 4px; }
svg.plot { width: 100%; max-width: 600px; height: auto; display: block; }
img, svg { max-width: 100%; }
figure { margin: 0.8em 0; } figcaption { color: #555; font-size: 0.9em; }
details { margin: 0.5em 0; } summary { cursor: pointer; }
.note { color: #555; font-style: italic; }
@media (max-width: 600px) { body { font-size: 14px; } main { padding: 6px; } th, td { padding: 3px 5px; } }
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], row_classes: Sequence[str] | None = None) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = []
    for index, cells in enumerate(rows):
        cls = f' class="{row_classes[index]}"' if row_classes and row_classes[index] else ""
        body.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _names_escaped(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> str:
    """A table of plain-text cells: the names escaped, the figures as they are (right-aligned)."""
    return _table(header, [[_td(c if n else escape(c), n) for c, n in zip(r, numeric)] for r in rows])


def _td(text: str, numeric: bool = False, extra: str = "") -> str:
    classes = " ".join(c for c in ("num" if numeric else "", extra) if c)
    return f'<td class="{classes}">{text}</td>' if classes else f"<td>{text}</td>"


def _figure(svg: str | None, caption: str) -> str:
    if not svg:
        return ""
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _plot(build: Any, *args: Any) -> tuple[str | None, str | None]:
    """(svg, problem): a plot that fails costs that plot and says why, never the report."""
    try:
        return build(*args), None
    except ImportError as exc:  # edgebench.optional.MissingDependency: the line that names the extra
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - one broken plot must not lose the tables
        return None, f"plot failed: {type(exc).__name__}: {exc}"


def render_html(model: ReportModel) -> str:
    from edgebench.reporting import plots

    parts = [f"<h1>edgebench report</h1><p class=\"meta\">Generated {escape(model.generated_at)} by edgebench "
             f"{escape(model.version)} · compared by <b>{escape(model.by)}</b>"
             + (f" · reference <b>{escape(str(model.reference))}</b>" if model.reference is not None else "")
             + "</p>"]
    parts.append("<h2>Runs</h2>" + _table(
        ["run", "device", "cpu", "suite", "cases", "created", "edgebench", "commit"],
        [[_td(escape(r.label)), _td(escape(r.device)), _td(escape(r.cpu or "-")), _td(escape(r.suite)),
          _td(str(r.cases), True), _td(escape(format_time(r.created_at))), _td(escape(r.edgebench_version)),
          _td(escape((r.git_commit or "-")[:12]))] for r in model.runs]))
    if len(model.devices) > 1:  # several devices (a farm run, or several runs): each one, and where it ran
        parts.append("<h2>Devices</h2>" + _names_escaped(*devices_table(model)))
    if model.warnings:
        items = "".join(f'<li><span class="kind">{escape(w.kind)}</span>{escape(w.text)}</li>' for w in model.warnings)
        parts.append(f'<h2>Warnings</h2><ul class="warnings">{items}</ul>')

    metrics = model.shown_metrics
    parts.append(f"<h2>Results</h2><p>Best of each column highlighted; ×N is the ratio to the reference "
                 f"({escape(model.by)} {escape(str(model.reference))}) with the same settings (else the first "
                 f"reference row).</p>")
    for group in model.groups:
        rows, classes = [], []
        for row in group.rows:
            cells = [_td(escape(row.by_value))]
            cells += [_td(escape(row.entry.dims["device"]))] if model.device_column else []
            cells.append(_td(escape(row.variant or "-")))
            if row.entry.status != "ok":
                cells.append(f'<td class="failed" colspan="{len(metrics)}">'
                             f'{escape(row.entry.status)}: {escape(row.entry.error)}</td>')
            else:
                for m in metrics:
                    text = escape(format_value(row.entry.values.get(m.key)))
                    ratio = row.ratios.get(m.key)
                    if ratio is not None and not row.is_reference:
                        text += f'<span class="ratio">{escape(format_ratio(ratio))}</span>'
                    cells.append(_td(text, True, "best" if m.key in row.best else ""))
            rows.append(cells)
            classes.append("ref" if row.is_reference else "")
        parts.append(f"<h3>{escape(group.title)}</h3>"
                     + _table([escape(model.by), *(["device"] if model.device_column else []), "settings",
                               *[escape(m.title) for m in metrics]], rows, classes))

    parts.append(_hardware(model, plots))
    from edgebench.reporting import study

    parts += [study.render_html(studied) for studied in model.studies()]
    parts.append(_selection(model))
    samples, series = _load_raw(model)
    parts.append(_distributions(samples, plots))
    parts.append(_timelines(series, plots))
    body = "\n".join(p for p in parts if p)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>edgebench report</title><style>{CSS}</style></head>\n"
            f"<body><main>\n{body}\n</main></body></html>\n")


def _hardware(model: ReportModel, plots: Any) -> str:
    out = ["<h2>Hardware selection</h2>"]
    if model.hardware:
        out.append(f"<p>{escape(hardware_note(model))}</p>")
        header, rows = hardware_table(model)
        out.append(_table([escape(h) for h in header],
                          [[_td(escape(c), k >= 3) for k, c in enumerate(r)] for r in rows]))
    else:
        out.append('<p class="note">No finished case with a throughput figure.</p>')
    out.append(_served_qps(model, plots))
    if model.pareto_axis is None:
        out.append('<p class="note">No Pareto chart: no case has power or energy readings.</p>')
    else:
        svg, problem = _plot(plots.pareto, model.pareto, model.pareto_axis)
        axis = "energy per inference" if model.pareto_axis == "energy_per_inference_mj" else "average power"
        out.append(f"<h3>Pareto front: latency p50 against {axis}</h3>")
        out.append(_figure(svg, f"Latency p50 against {axis}; the line joins each model's Pareto front, its "
                                f"points numbered as in the table below."))
        if problem:
            out.append(f'<p class="note">{escape(problem)}</p>')
        unit = "mJ" if model.pareto_axis == "energy_per_inference_mj" else "W"
        out.append(_table(["#", "model", "case", "p50 ms", f"{axis} {unit}"],
                          [[_td(str(n), True), _td(escape(p.model)), _td(escape(p.label)),
                            _td(format_value(p.latency_p50_ms), True), _td(format_value(p.cost), True)]
                           for n, p in plots.numbered_front(model.pareto)]))
    svg, problem = _plot(plots.throughput_scaling, model.entries)
    if svg:
        out.append("<h3>Throughput against threads and batch</h3>" + _figure(svg, "Inferences per second."))
    elif problem:
        out.append(f'<p class="note">{escape(problem)}</p>')
    return "".join(out)


def _selection(model: ReportModel) -> str:
    """``report --budget-ms``: per model, the combinations that meet the budget, ranked."""
    selection = model.selection
    if selection is None:
        return ""
    out = [f"<h2>{escape(budget_title(selection))}</h2><p>{escape(SELECTION_NOTE)}</p>"]
    if not selection.models:
        out.append('<p class="note">No finished case with a latency figure.</p>')
    for name in selection.models:
        header, rows = selection_table(selection.of(name), selection.budget.stat)
        out.append(f"<h3>{escape(name)}</h3>")
        if rows:
            out.append(_table([escape(h) for h in header],
                              [[_td(escape(c), k == 0 or 3 <= k < len(r) - 1) for k, c in enumerate(r)]
                               for r in rows]))
        else:
            out.append('<p class="note">No combination meets the budget.</p>')
        missed = selection.rejected.get(name, 0)
        if missed:
            out.append(f"<p>{missed} other combination(s) missed the budget.</p>")
    return "".join(out)


def _served_qps(model: ReportModel, plots: Any) -> str:
    """The LoadGen server scenario: served QPS per device and model, and each case's QPS-against-latency curve."""
    out = []
    if model.has_served_qps:
        out.append(f"<p>{escape(SERVED_QPS_NOTE)}</p>")
        out.append(_names_escaped(*served_qps_table(model)))
    if model.server_curves:
        svg, problem = _plot(plots.server_curves, model.server_curves)
        out.append("<h3>Server search: QPS against latency</h3>" + _figure(
            svg, "Each trial of the search: its target QPS against the latency percentile LoadGen measured; "
                 "filled: met the bound; the dashed line is the bound."))
        if problem:
            out.append(f'<p class="note">{escape(problem)}</p>')
        for curve in model.server_curves:
            if curve.served_qps is None:
                out.append(f'<p class="note">{escape(curve.label)}: INVALID: '
                           f'{escape(curve.invalid_reason or "no valid run")}</p>')
    return "".join(out)


_LATENCY_KEY = b'"latency_ns":['


def _read_case(store: Any, case_id: str) -> tuple[Any, dict[str, Any] | None]:
    """(latency samples as an array, sensor block or None) of one case. The worker writes compact JSON, so
    the samples are parsed by numpy straight from the text (twice as fast as json for 100,000 integers);
    the whole document goes through json only when it has sensor series or an unexpected layout."""
    import gzip

    import numpy as np

    data = gzip.decompress(store.raw_path(case_id).read_bytes())
    start = data.find(_LATENCY_KEY)
    if start >= 0 and b'"sensors":' not in data:
        begin = start + len(_LATENCY_KEY)
        end = data.find(b"]", begin)
        body = data[begin:end].decode("ascii")  # np.fromstring with sep= parses text (not deprecated)
        return np.fromstring(body, dtype=np.int64, sep=",").astype(np.float64), None  # int64: 8x faster
    raw = json.loads(data)
    return np.asarray(raw.get("latency_ns") or [], dtype=np.float64), raw.get("sensors")


def _load_raw(model: ReportModel) -> tuple[list[tuple[str, Any]], list[tuple[Any, str, dict[str, Any]]]]:
    """Read each finished case's raw file once: its latency samples and its sensor series."""
    samples, series = [], []
    for e in model.entries:
        if e.status != "ok":
            continue
        try:
            latency, sensors = _read_case(model.stores[e.run], e.case_id)
        except Exception:  # noqa: BLE001 - a missing or unreadable raw file costs its plots, not the report
            continue
        label = f"{model.runs[e.run].label}: {e.case_id}" if len(model.runs) > 1 else e.case_id
        samples.append((label, latency))
        if sensors and sensors.get("t_ns"):
            series.append((e, label, {"sensors": sensors}))
    return samples, series


def _distributions(samples: list[tuple[str, Any]], plots: Any) -> str:
    svg, problem = _plot(plots.latency_distribution, samples)
    out = "<h2>Latency distribution</h2>"
    if svg:
        out += _figure(svg, "Per case: box from the first to the third quartile, whiskers p1 to p99.")
    else:
        out += f'<p class="note">{escape(problem or "No latency samples.")}</p>'
    return out


def _timelines(series: list[tuple[Any, str, dict[str, Any]]], plots: Any) -> str:
    out = ["<h2>Sensors</h2>"]
    shown = 0
    for e, title, raw in series:
        if shown >= MAX_TIMELINES:
            out.append(f'<p class="note">Timelines of the first {MAX_TIMELINES} cases only.</p>')
            break
        svg, problem = _plot(plots.sensor_timeline, raw, title)
        if svg:
            shown += 1
            flags = "; ".join(e.throttle_flags)
            caption = f"{title}: power, temperature and clocks" + (f"; throttled: {flags}" if flags else "")
            opened = " open" if shown <= 3 else ""
            out.append(f"<details{opened}><summary>{escape(title)}</summary>{_figure(svg, caption)}</details>")
        elif problem:
            out.append(f'<p class="note">{escape(problem)}</p>')
            break
    if shown == 0:
        out.append('<p class="note">No sensor series in these runs: no power, temperature or clock timeline. '
                   "See <code>edgebench sensors</code> for what this device can read.</p>")
    return "".join(out)

"""The optimisation study of a run: per model, one table of its variants (recipe, file size, load time, p50, p99,
peak memory, energy per inference, fidelity), the speed-vs-fidelity and size-vs-fidelity Pareto fronts, and the
per-operator comparison of each profiled variant with the reference.

Rendered into report.md and report.html (and, shorter, by ``edgebench show``) when a run has fidelity figures or
per-operator profiles; a run without either gets nothing from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any, Mapping, Sequence

from edgebench.analysis.op_profile import compare_op_types
from edgebench.record import CaseRecord, CaseSummary
from edgebench.reporting.model import dominates
from edgebench.reporting.values import format_value


@dataclass
class StudyRow:
    case_id: str
    precision: str
    backend: str
    status: str
    recipe: str
    file_bytes: int | None
    load_ms: float | None
    p50_ms: float | None
    p99_ms: float | None
    peak_mib: float | None
    energy_mj: float | None
    cosine: float | None
    snr_db: float | None
    top1: float | None
    exact: bool = False
    op_profile: Mapping[str, Any] = field(default_factory=dict)
    #: on the speed-vs-fidelity / size-vs-fidelity Pareto front of its model
    fast_front: bool = False
    small_front: bool = False


@dataclass
class ModelStudy:
    model: str
    reference: str | None
    rows: list[StudyRow]
    #: (reference row, other row, per-op-type comparison) for each profiled variant against the reference
    op_comparisons: list[tuple[StudyRow, StudyRow, list[dict[str, Any]]]]


def _row(case: CaseRecord) -> StudyRow:
    summary = case.summary or CaseSummary()
    latency = case.latency
    fidelity = summary.fidelity
    variant = case.variant
    recipe = "source" if variant.get("tool") == "none" else "-"
    if variant.get("tool") and variant.get("tool") != "none":
        recipe = f"{variant['tool']} {variant.get('tool_version') or ''}".rstrip()
    calibration = variant.get("calibration") or {}
    if calibration.get("source"):
        origin = "data" if calibration["source"] == "data files" else "seeded"
        recipe += f", calibrated on {calibration.get('samples')} {origin} inputs"
    return StudyRow(
        case_id=case.case_id, precision=case.precision, backend=case.backend, status=case.status, recipe=recipe,
        file_bytes=variant.get("file_bytes"), load_ms=summary.load_ms,
        p50_ms=latency.ms("p50_ns") if latency else None, p99_ms=latency.ms("p99_ns") if latency else None,
        peak_mib=summary.peak_rss_mb, energy_mj=summary.sensors.energy_per_inference_mj,
        cosine=fidelity.get("cosine"), snr_db=fidelity.get("snr_db"), top1=fidelity.get("top1_agreement"),
        exact=bool(fidelity.get("exact")), op_profile=summary.op_profile)


def _front(rows: Sequence[StudyRow], cost: str) -> None:
    """Mark the rows no other row beats on both ``cost`` (lower is better) and cosine (higher is better)."""
    usable = [r for r in rows if getattr(r, cost) is not None and r.cosine is not None]
    for row in usable:
        dominated = any(dominates((getattr(o, cost), -o.cosine), (getattr(row, cost), -row.cosine))  # type: ignore
                        for o in usable if o is not row)
        setattr(row, "fast_front" if cost == "p50_ms" else "small_front", not dominated)


def build_study(store: Any) -> list[ModelStudy]:
    cases = store.cases()
    precisions: dict[str, set] = {}
    for c in cases:
        precisions.setdefault(c.model, set()).add(c.precision)
    # a study: variants, per-operator profiles, or a model measured in several precisions with fidelity figures
    # (how far they drift); a plain run's fidelity (each case exact against itself) is in summary.csv
    compared = any(c.summary and c.summary.fidelity.get("cosine") is not None for c in cases)
    if not any((c.summary and c.summary.op_profile) or c.variant for c in cases) \
            and not (compared and any(len(p) > 1 for p in precisions.values())):
        return []
    reference = store.run_info.reference
    studies = []
    for model in precisions:  # in the order seen
        rows = [_row(c) for c in cases if c.model == model]
        ok = [r for r in rows if r.status == "ok"]
        _front(ok, "p50_ms")
        _front(ok, "file_bytes")
        ref_ids = {c.summary.fidelity.get("reference") for c in cases if c.model == model and c.summary} - {None}
        ref_row = next((r for r in rows if r.case_id in ref_ids), None)
        if ref_row is None:
            ref_row = next((r for r in ok if r.precision == reference.get("precision")
                            and r.backend == reference.get("backend")), None)
        comparisons = []
        if ref_row is not None and ref_row.op_profile.get("op_types"):
            for row in ok:
                if row is not ref_row and row.op_profile.get("op_types"):
                    comparisons.append((ref_row, row, compare_op_types(ref_row.op_profile, row.op_profile)))
        studies.append(ModelStudy(model, ref_row.case_id if ref_row else None, rows, comparisons))
    return studies


SHORT_BACKENDS = {"onnxruntime": "onnxrt"}
#: operator types the bar chart names; the others are summed as "other"
TOP_OPS = 9

HEADER = ["variant", "backend", "built with", "size KiB", "load ms", "p50 ms", "p99 ms", "peak MiB", "mJ/inf",
          "cosine", "SNR dB", "top-1 agr.", "front"]


def _cells(row: StudyRow) -> list[str]:
    backend = SHORT_BACKENDS.get(row.backend, row.backend)
    if row.status != "ok":
        return [row.precision, backend, row.recipe, row.status] + ["-"] * (len(HEADER) - 4)
    fronts = "/".join(name for name, on in (("speed", row.fast_front), ("size", row.small_front)) if on)
    return [row.precision, backend, row.recipe,
            format_value(row.file_bytes / 1024 if row.file_bytes else None), format_value(row.load_ms),
            format_value(row.p50_ms), format_value(row.p99_ms), format_value(row.peak_mib),
            format_value(row.energy_mj),
            "1 (exact)" if row.exact else (f"{row.cosine:.6f}" if row.cosine is not None else "-"),
            "exact" if row.exact else format_value(row.snr_db),
            format_value(row.top1), fronts or "-"]


def _table(rows: Sequence[StudyRow]) -> tuple[list[str], list[list[str]]]:
    """The header and cells, without the columns no measured row has a value in (energy without a power sensor,
    top-1 agreement without class scores)."""
    cells = [_cells(row) for row in rows]
    measured = [c for row, c in zip(rows, cells) if row.status == "ok"]
    keep = [i for i, title in enumerate(HEADER)
            if i < 4 or title == "front" or any(c[i] not in ("-", "") for c in measured)]
    return [HEADER[i] for i in keep], [[c[i] if i < len(c) else "" for i in keep] for c in cells]


# -- Markdown ------------------------------------------------------------------------------------------------
def render_markdown(studies: Sequence[ModelStudy]) -> list[str]:
    if not studies:
        return []
    lines = ["## Optimisation study", "",
             "Each variant of a model against its reference (fidelity: outputs on fixed inputs, untimed). "
             "`front`: on the Pareto front of p50 against cosine (speed) or file size against cosine (size).", ""]
    for study in studies:
        lines += [f"### {study.model}", "", f"Reference: `{study.reference or 'none ran ok'}`", ""]
        header, cells = _table(study.rows)
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        lines.append("")
        for base, other, rows in study.op_comparisons:
            lines += [f"Per operator type, µs per inference: `{base.precision}` against `{other.precision}` "
                      f"({other.backend})", "",
                      "| op type | " + base.precision + " | " + other.precision + " | change |", "|---|---|---|---|"]
            for entry in rows[:12]:
                lines.append(f"| {entry['op']} | {format_value(entry['base_us'])} | {format_value(entry['other_us'])} "
                             f"| {entry['delta_us']:+.1f} |")
            lines.append("")
    return lines


# -- HTML ----------------------------------------------------------------------------------------------------
def render_html(studies: Sequence[ModelStudy]) -> str:
    if not studies:
        return ""
    parts = ["<h2>Optimisation study</h2><p>Each variant of a model against its reference (fidelity: outputs on "
             "fixed inputs, untimed). <i>front</i>: on the Pareto front of p50 against cosine (speed) or file size "
             "against cosine (size).</p>"]
    for study in studies:
        header, cells = _table(study.rows)
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        narrow = header.index("built with")  # the long text wraps, the figures stay in view

        body = "".join("<tr>" + "".join(_td(c, i == narrow) for i, c in enumerate(row)) + "</tr>" for row in cells)
        parts.append(f"<h3>{escape(study.model)}</h3><p class=\"meta\">Reference: "
                     f"<code>{escape(study.reference or 'none ran ok')}</code></p>"
                     f"<div class=\"scroll\"><table style=\"font-size:85%\"><thead><tr>{head}</tr></thead>"
                     f"<tbody>{body}</tbody></table></div>")
        svg = _pareto_svg(study)
        if svg:
            parts.append(f"<figure>{svg}<figcaption>{escape(study.model)}: speed and size against fidelity"
                         f"</figcaption></figure>")
        svg = _op_types_svg(study)
        if svg:
            parts.append(f"<figure>{svg}<figcaption>{escape(study.model)}: time per inference by operator type "
                         f"(onnxruntime profiler, untimed pass)</figcaption></figure>")
        for base, other, rows in study.op_comparisons:
            head = "".join(f"<th>{escape(h)}</th>" for h in ("op type", base.precision, other.precision, "change"))
            body = "".join(f"<tr><td>{escape(e['op'])}</td><td>{escape(format_value(e['base_us']))}</td>"
                           f"<td>{escape(format_value(e['other_us']))}</td><td>{e['delta_us']:+.1f}</td></tr>"
                           for e in rows[:12])
            parts.append(f"<p>Per operator type, µs per inference: <code>{escape(base.precision)}</code> against "
                         f"<code>{escape(other.precision)}</code> ({escape(other.backend)})</p><div class=\"scroll\">"
                         f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
    return "\n".join(parts)


def _td(text: str, narrow: bool) -> str:
    style = ' style="max-width:15em;white-space:normal"' if narrow else ""
    return f"<td{style}>{escape(text)}</td>"


def _pareto_svg(study: ModelStudy) -> str | None:
    from edgebench.optional import missing

    rows = [r for r in study.rows if r.status == "ok" and r.cosine is not None]
    if missing("matplotlib") or len(rows) < 2:
        return None
    from matplotlib.ticker import FuncFormatter, NullFormatter

    from edgebench.reporting.plots import _figure, to_svg

    with _figure(9, 3.2) as fig:
        for axis, cost, label, front in ((fig.add_subplot(1, 2, 1), "p50_ms", "p50 latency (ms)", "fast_front"),
                                         (fig.add_subplot(1, 2, 2), "file_bytes", "file size (KiB)", "small_front")):
            points = [r for r in rows if getattr(r, cost) is not None and r.cosine is not None]
            scale = 1 / 1024 if cost == "file_bytes" else 1.0
            for r in points:
                on = getattr(r, front)
                gap = 1 - float(r.cosine or 0) + 1e-9
                axis.scatter(getattr(r, cost) * scale, gap, marker="o" if on else "x",
                             color="C0" if r.backend == "onnxruntime" else "C1")
                axis.annotate(f"{r.precision} {r.backend[:4]}", (getattr(r, cost) * scale, gap),
                              fontsize=7, xytext=(3, 3), textcoords="offset points")
            axis.set_yscale("log")
            axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0e}"))
            axis.yaxis.set_minor_formatter(NullFormatter())
            axis.set_xlabel(label)
            axis.set_ylabel("1 - cosine (exact: 1e-09)")
        return to_svg(fig)


def _op_types_svg(study: ModelStudy) -> str | None:
    from edgebench.optional import missing

    profiled = [r for r in study.rows if r.status == "ok" and r.op_profile.get("op_types")]
    if missing("matplotlib") or not profiled:
        return None
    from edgebench.reporting.plots import _figure, to_svg

    totals: dict[str, float] = {}
    for row in profiled:
        for entry in row.op_profile["op_types"]:
            totals[entry["op"]] = totals.get(entry["op"], 0.0) + (entry["share"] or 0.0)
    ops = sorted(totals, key=lambda op: -totals[op])[:TOP_OPS]  # the rest is one bar segment, "other"

    def time_of(row: StudyRow, op: str | None) -> float:
        entries = row.op_profile["op_types"]
        chosen = [e for e in entries if (e["op"] == op if op else e["op"] not in ops)]
        return float(sum(e["per_inference_us"] or 0.0 for e in chosen))

    with _figure(9, 0.8 + 0.32 * len(profiled)) as fig:
        axis = fig.add_subplot(1, 1, 1)
        labels = [f"{r.precision} {r.backend}" for r in profiled]
        left = [0.0] * len(profiled)
        for index, op in enumerate([*ops, None]):
            widths = [time_of(r, op) for r in profiled]
            axis.barh(labels, widths, left=left, label=op or "other", color=f"C{index % 10}" if op else "0.75")
            left = [a + b for a, b in zip(left, widths)]
        axis.set_xlabel("µs per inference")
        axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return to_svg(fig)


# -- the terminal (edgebench show) ---------------------------------------------------------------------------
def render_text(studies: Sequence[ModelStudy]) -> list[str]:
    lines = []
    for study in studies:
        lines.append(f"{study.model}: fidelity against {study.reference or '(no reference ran ok)'}")
        for row in study.rows:
            if row.status != "ok":
                continue
            fid = ("exact" if row.exact else
                   f"cosine {row.cosine:.6f}, SNR {format_value(row.snr_db)} dB" if row.cosine is not None else "-")
            ops = ", ".join(f"{e['op']} {e['share'] * 100:.0f}%" for e in (row.op_profile.get("op_types") or [])[:3]
                            if e.get("share") is not None)
            lines.append(f"  {row.precision:<17} {row.backend:<12} {fid}" + (f"; top ops: {ops}" if ops else ""))
    return lines

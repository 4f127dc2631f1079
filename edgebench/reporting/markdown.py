"""Markdown: the report of N runs and the verdict of a comparison, for pull-request comments and
``$GITHUB_STEP_SUMMARY``. Names are escaped so a model called ``a|b`` cannot break a table."""

from __future__ import annotations

from typing import Any, Sequence

from edgebench.analysis.compare import VERDICTS
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

_MD_SPECIAL = "\\`*_[]<>|#"
VERDICT_MARK = {"worse": "❌ worse", "better": "✅ better", "same": "same", "incomparable": "⚠️ incomparable",
                "undecidable": "❔ undecidable"}


def md(text: Any) -> str:
    """Escape text for a Markdown table cell or line."""
    out = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in str(text))
    return out.replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> list[str]:
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _names_escaped(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> list[str]:
    """A table of plain-text cells: the names escaped, the figures as they are."""
    return _table(header, [[c if n else md(c) for c, n in zip(r, numeric)] for r in rows], numeric)


def render_report(model: ReportModel) -> str:
    lines = ["# edgebench report", ""]
    ref = f" · reference **{md(model.reference)}**" if model.reference is not None else ""
    lines += [f"Generated {md(model.generated_at)} by edgebench {md(model.version)} · compared by "
              f"**{md(model.by)}**{ref}", ""]
    lines += ["## Runs", ""]
    lines += _table(["run", "device", "cpu", "suite", "cases", "created", "edgebench", "commit"],
                    [[md(r.label), md(r.device), md(r.cpu or "-"), md(r.suite), str(r.cases),
                      format_time(r.created_at), md(r.edgebench_version), md((r.git_commit or "-")[:12])]
                     for r in model.runs], [False] * 4 + [True] + [False] * 3)
    lines.append("")
    if len(model.devices) > 1:  # several devices (a farm run, or several runs): each one, and where it ran
        lines += ["## Devices", ""]
        lines += _names_escaped(*devices_table(model))
        lines.append("")
    if model.warnings:
        lines += ["## Warnings", ""]
        lines += [f"- **{md(w.kind)}**: {md(w.text)}" for w in model.warnings]
        lines.append("")
    metrics = model.shown_metrics
    lines += ["## Results", "",
              f"Best of each column in **bold**; ×N is the ratio to the reference "
              f"({md(model.by)} {md(model.reference)}) with the same settings (else the first reference row).", ""]
    for group in model.groups:
        lines += [f"### {md(group.title)}", ""]
        device = ["device"] if model.device_column else []
        header = [md(model.by), *device, "settings", *[m.title for m in metrics]]
        body = []
        for row in group.rows:
            cells = [md(row.by_value) + (" (ref)" if row.is_reference else "")]
            cells += [md(row.entry.dims["device"])] if model.device_column else []
            cells.append(md(row.variant or "-"))
            if row.entry.status != "ok":
                cells += [md(f"{row.entry.status}: {row.entry.error}".rstrip(": "))] + [""] * (len(metrics) - 1)
                body.append(cells)
                continue
            for m in metrics:
                text = format_value(row.entry.values.get(m.key))
                if m.key in row.best:
                    text = f"**{text}**"
                ratio = row.ratios.get(m.key)
                if ratio is not None and not row.is_reference:
                    text += f" {format_ratio(ratio)}"
                cells.append(text)
            body.append(cells)
        lines += _table(header, body, [False] * (2 + len(device)) + [True] * len(metrics))
        lines.append("")
    lines += render_hardware(model)
    from edgebench.reporting import study

    for studied in model.studies():  # runs with variants, fidelity or per-operator profiles
        lines += study.render_markdown(studied)
    lines += render_selection(model)
    return "\n".join(lines).rstrip("\n") + "\n"


def render_hardware(model: ReportModel) -> list[str]:
    lines = ["## Hardware selection", ""]
    if not model.hardware:
        return lines + ["No finished case with a throughput figure.", ""]
    lines += [md(hardware_note(model)), ""]
    header, rows = hardware_table(model)
    lines += _table(header, [[md(c) if k < 3 else c for k, c in enumerate(r)] for r in rows],
                    [False] * 3 + [True] * (len(header) - 3))
    lines.append("")
    lines += render_served_qps(model)
    if model.pareto_axis is None:
        lines += ["No Pareto chart: no case has power or energy readings.", ""]
        return lines
    axis = "energy per inference (mJ)" if model.pareto_axis == "energy_per_inference_mj" else "average power (W)"
    lines += [f"### Pareto front: latency p50 against {axis}", "",
              "Cases no other case of the same model beats on both.", ""]
    rows = [[md(p.model), md(p.label), format_value(p.latency_p50_ms), format_value(p.cost)]
            for p in model.pareto if p.optimal]
    lines += _table(["model", "case", "p50 ms", axis], rows, [False, False, True, True])
    lines.append("")
    return lines


def render_selection(model: ReportModel) -> list[str]:
    """``report --budget-ms``: per model, the combinations that meet the budget, ranked."""
    selection = model.selection
    if selection is None:
        return []
    lines = [f"## {md(budget_title(selection))}", "", md(SELECTION_NOTE), ""]
    if not selection.models:
        return lines + ["No finished case with a latency figure.", ""]
    for name in selection.models:
        header, rows = selection_table(selection.of(name), selection.budget.stat)
        missed = selection.rejected.get(name, 0)
        lines += [f"### {md(name)}", ""]
        if rows:
            lines += _table(header, [[md(c) for c in r] for r in rows],
                            [True, False, False] + [True] * (len(header) - 4) + [False])
            lines.append("")
        else:
            lines += ["No combination meets the budget.", ""]
        if missed:
            lines += [f"{missed} other combination(s) missed the budget.", ""]
    return lines


def render_served_qps(model: ReportModel) -> list[str]:
    """The LoadGen server scenario: served QPS per device and model, then each case's search, trial by trial."""
    lines: list[str] = []
    if model.has_served_qps:
        lines += [md(SERVED_QPS_NOTE), ""]
        lines += _names_escaped(*served_qps_table(model))
        lines.append("")
    for curve in model.server_curves:
        pct = f"p{curve.percentile * 100:g}"
        verdict = (f"served {format_value(curve.served_qps)} QPS" if curve.served_qps is not None
                   else f"INVALID: {curve.invalid_reason or 'no valid run'}")
        lines += [f"### Server search: {md(curve.label)}", "",
                  f"{pct} <= {format_value(curve.bound_ms)} ms: {md(verdict)}"
                  + (" (shortened run: not comparable with published MLPerf figures)" if curve.shortened else ""), ""]
        rows = [[str(i + 1), format_value(t.target_qps), format_value(t.latency_ms),
                 "yes" if t.passed else "no", "VALID" if t.valid else "INVALID"] for i, t in enumerate(curve.trials)]
        lines += _table(["trial", "target QPS", f"{pct} ms", "met the bound", "LoadGen"], rows,
                        [True, True, True, False, False])
        lines.append("")
    return lines


def render_comparison(comparison: Any) -> str:
    """The verdict of ``edgebench compare`` as Markdown (a compare.Comparison)."""
    outcome = {"pass": "✅ pass", "regression": "❌ regression", "incomparable": "⚠️ incomparable"}[comparison.outcome]
    lines = [f"## edgebench compare: {outcome}", "",
             f"Baseline `{md(comparison.baseline_label)}` → current `{md(comparison.current_label)}`; a case is "
             f"worse only when the change passes the rule's threshold and is significant (alpha "
             f"{comparison.alpha:g}, test {md(comparison.test)}); undecidable checks do not fail the gate.", ""]
    lines += [", ".join(f"{comparison.count(v)} {v}" for v in VERDICTS), ""]
    for note in comparison.notes:
        lines.append(f"> {md(note)}")
    summary = comparison.noise_summary()
    if summary:
        lines.append(f"> {md(summary)}")
    for line in comparison.noise:
        lines.append(f"> noisy: {md(line)}")
    if comparison.notes or comparison.noise or summary:
        lines.append("")
    rows = []
    for c in comparison.sorted_checks():
        change = "-" if c.change is None else f"{100 * c.change:+.1f}%"
        rows.append([VERDICT_MARK[c.verdict], md(c.case_id), md(c.rule), format_value(c.baseline),
                     format_value(c.current), change, md(c.detail)])
    lines += _table(["verdict", "case", "rule", "baseline", "current", "change", "why"], rows,
                    [False, False, False, True, True, True, False])
    if comparison.new_cases:
        lines += ["", f"New cases (not in the baseline, not gated): {md(', '.join(comparison.new_cases))}"]
    return "\n".join(lines) + "\n"

"""A comparison (``edgebench.analysis.compare.Comparison``) as the plain text ``edgebench compare`` prints: one line
per check that changed, the notes, and the verdict with its exit status (Markdown and JUnit are in their own
modules)."""

from __future__ import annotations

from typing import Any


def render_text(comparison: Any, verbose: bool = False) -> str:
    """``verbose`` lists the unchanged checks too; otherwise one line counts them."""
    from edgebench.analysis.compare import VERDICTS
    from edgebench.reporting.values import format_value

    lines = []
    for c in comparison.sorted_checks():
        if c.verdict == "same" and not verbose:
            continue
        change = "" if c.change is None else f"{100 * c.change:+.1f}%"
        lines.append(f"{c.verdict.upper():12s} {c.case_id}  {c.rule}  {format_value(c.baseline)} -> "
                     f"{format_value(c.current)} {c.unit} {change}  ({c.detail})")
    for note in comparison.notes:
        lines.append(f"note: {note}")
    summary = comparison.noise_summary()
    if summary:
        lines.append(summary)
    for line in comparison.noise:
        lines.append(f"noisy: {line}")
    if comparison.new_cases:
        lines.append(f"new cases, not gated: {', '.join(comparison.new_cases)}")
    if not verbose and comparison.count("same"):
        lines.append(f"{comparison.count('same')} checks unchanged (-v lists them)")
    counts = ", ".join(f"{comparison.count(v)} {v}" for v in VERDICTS)
    lines.append(f"\nedgebench compare: {comparison.outcome.upper()} ({counts}); exit {comparison.exit_code}")
    if comparison.count("undecidable"):
        lines.append("(undecidable checks do not fail the gate; their lines say what would decide them)")
    return "\n".join(lines)

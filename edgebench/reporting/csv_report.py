"""CSV: one line per row of the comparison table, with ratios to the reference and the best-of-column marks."""

from __future__ import annotations

import csv
import io

from edgebench.reporting.model import METRICS, ReportModel
from edgebench.results.summary import format_cell

DIMS = ("model", "precision", "scenario", "batch", "device", "backend", "threads", "settings", "run")


#: with a budget (``report --budget-ms``): the case's rank among its model's combinations that meet it (empty:
#: it does not), and the Pareto fronts it is on
BUDGET_COLUMNS = ("budget_rank", "pareto_energy", "pareto_price")


def columns(budget: bool = False) -> list[str]:
    ranked = [m.key for m in METRICS if m.better]
    return ["group", "by", "by_value", "reference", "variant", *DIMS, "host", "case_id", "status",
            *[m.key for m in METRICS], *[f"ratio_{k}" for k in ranked], "best",
            *(BUDGET_COLUMNS if budget else ()), "error"]


def render_csv(model: ReportModel) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = columns(model.selection is not None)
    writer.writerow(header)
    chosen = {(c.run, c.case_id): c for c in model.selection.candidates} if model.selection else {}
    for group in model.groups:
        for row in group.rows:
            e = row.entry
            cells = {"group": group.title, "by": model.by, "by_value": row.by_value,
                     "reference": row.is_reference, "variant": row.variant, **{d: e.dims[d] for d in DIMS},
                     "host": e.host, "case_id": e.case_id, "status": e.status, **e.values,
                     **{f"ratio_{k}": v for k, v in row.ratios.items()},
                     "best": ";".join(m.key for m in METRICS if m.key in row.best), "error": e.error}
            candidate = chosen.get((model.runs[e.run].label, e.case_id))
            if candidate is not None:
                cells.update(budget_rank=candidate.rank, pareto_energy=candidate.pareto_energy,
                             pareto_price=candidate.pareto_price)
            writer.writerow([format_cell(cells.get(c)) for c in header])
    return buffer.getvalue()

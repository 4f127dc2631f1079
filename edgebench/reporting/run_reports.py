"""The reports ``edgebench run`` writes into every run directory: report.md and report.html."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPORT_MD = "report.md"
REPORT_HTML = "report.html"


def write_run_reports(run_dir: Path) -> Any:
    """Write report.md and report.html of one run, compared by backend, and return their ReportModel (its
    warnings end ``run``'s output). A report that cannot be built is a warning on stderr and None: the
    measurements are already stored and must not be lost to a plotting problem."""
    from edgebench.files import atomic_write
    from edgebench.reporting.html import render_html
    from edgebench.reporting.markdown import render_report
    from edgebench.reporting.model import build_model, open_runs
    from edgebench.reporting.plots import missing_note

    run_dir = Path(run_dir)
    try:
        model = build_model(open_runs([run_dir]), by="backend")
        atomic_write(run_dir / REPORT_MD, render_report(model).encode())
        atomic_write(run_dir / REPORT_HTML, render_html(model).encode())
        note = missing_note(str(run_dir / REPORT_HTML))
        if note:
            print(note, file=sys.stderr)
        return model
    except Exception as exc:  # noqa: BLE001 - see the docstring
        print(f"edgebench: warning: {run_dir}: reports not written: {type(exc).__name__}: {exc}; "
              f"retry with: edgebench report {run_dir} --format html -o {run_dir / REPORT_HTML}", file=sys.stderr)
        return None

"""How long building the reports takes as runs grow: 100 cases x 100,000 latency samples each.

    python bench/report_speed.py [--cases 100] [--samples 100000] [--keep DIR]

Builds a synthetic run directory (not timed), then times what `edgebench run` does at its end,
write_run_reports (report.md + report.html with every plot), and the md/csv/json renderings on their own.
Target: under 10 s for the run reports.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from synthetic_runs import case_specs, run_header

TARGET_S = 10.0


def build_run(directory: Path, cases: int, samples: int) -> None:
    import numpy as np

    from edgebench.results.store import RunStore

    rng = np.random.default_rng(0)
    specs = case_specs(cases)
    header = run_header({"price_usd": 100.0, "tdp_w": 10.0}, None)
    store = RunStore.create(directory, header, specs)
    for k, spec in enumerate(specs):
        latency = (rng.lognormal(np.log(1e6 * (1 + k % 7)), 0.15, samples)).astype(np.int64).tolist()
        store.write_case({"case_id": spec["case_id"], "status": "ok", "batch": 1, "latency_ns": latency,
                          "load_ns": 1_000_000, "peak_rss_bytes": 100 * 2**20,
                          "runtime": {"name": "onnxruntime", "version": "1.17.1",
                                      "intra_op_threads": spec["settings"]["threads"]}})
    store.finish()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build the run here and keep it")
    args = parser.parse_args(argv)

    from edgebench.reporting.csv_report import render_csv
    from edgebench.reporting.json_report import render_json
    from edgebench.reporting.markdown import render_report
    from edgebench.reporting.model import build_model, open_runs
    from edgebench.reporting.run_reports import write_run_reports

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.keep or Path(tmp) / "run"
        t0 = time.perf_counter()
        build_run(run_dir, args.cases, args.samples)
        print(f"built {args.cases} cases x {args.samples} samples in {time.perf_counter() - t0:.1f} s (not timed)")
        import matplotlib  # noqa: F401 - import once, so the first timing is not the import

        t0 = time.perf_counter()
        write_run_reports(run_dir)
        elapsed = time.perf_counter() - t0
        t0 = time.perf_counter()
        model = build_model(open_runs([run_dir]), by="threads")
        text = render_report(model) + render_csv(model) + render_json(model)
        tables = time.perf_counter() - t0
        size = (run_dir / "report.html").stat().st_size
        print(f"md+csv+json from run.json: {tables:.2f} s ({len(text)} characters)")
        print(f"report build time (report.md + report.html with plots, {args.cases} cases x {args.samples} "
              f"samples): {elapsed:.2f} s (target < {TARGET_S:g} s); report.html {size / 1e6:.1f} MB")
    return 0 if elapsed < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

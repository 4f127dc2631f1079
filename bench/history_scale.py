"""How long `edgebench history` takes over a long history: 1,000 runs x 50 cases.

    python bench/history_scale.py [--runs 1000] [--cases 50] [--keep DIR] [--jobs 4]

Writes synthetic run directories through the real store (RunStore.create + write_case, 100 latency samples per
case, run.json flushed once per run rather than once per case: not timed), then times, in one process each:

* cold: the first history, which parses every run.json into a new SQLite index;
* warm: the next one, which finds every run.json unchanged (a stat per run) and reads the index;
* one changed: after one run.json is rewritten, which reads that run again;
* the same for the DataFrame alone (edgebench.results.load) and the HTML page (a plot per case).

Target: under 2 s for a warm history (index refresh, DataFrame, step detection on every case, Markdown).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from synthetic_runs import case_specs, run_header

TARGET_S = 2.0
START = 1_790_000_000.0


def write_run(args: tuple[Path, int, int]) -> None:
    import numpy as np

    from edgebench.results.store import RunStore

    directory, k, cases = args
    rng = np.random.default_rng(k)
    specs = case_specs(cases)
    header = run_header({}, f"{k:08x}" * 5)
    store = RunStore.create(directory, header, specs)
    store.flush = lambda: None  # type: ignore[method-assign]  # run.json once at the end, not once per case
    for c, spec in enumerate(specs):
        base = 1e6 * (1 + c % 7) * (1.1 if c == 0 and k >= 700 else 1.0)  # case 0 steps up at run 700
        latency = rng.lognormal(np.log(base), 0.1, 100).astype(np.int64).tolist()
        store.write_case({"case_id": spec["case_id"], "status": "ok", "batch": 1, "latency_ns": latency,
                          "iterations": len(latency), "runtime": {"name": "onnxruntime", "intra_op_threads": 1}})
    store.document["created_at"] = START + 3600 * k
    store.document["state"] = "complete"
    store.document["finished_at"] = START + 3600 * k + 60
    RunStore.flush(store)


def timed(label: str, action: Any) -> Any:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    print(f"{label:58s} {elapsed:7.2f} s")
    return result, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=4, help="processes writing the run directories")
    parser.add_argument("--keep", type=Path, help="write the runs here and keep them (default: a temp dir)")
    args = parser.parse_args()

    from edgebench.reporting.history import build_histories, render_html, render_markdown
    from edgebench.results.frame import STATISTICS, load_with_refresh
    from edgebench.results.store import RunStore

    root = args.keep or Path(tempfile.mkdtemp(prefix="edgebench-history-"))
    runs = [root / f"run{k:04d}" for k in range(args.runs)]
    todo = [(d, k, args.cases) for k, d in enumerate(runs) if not (d / "run.json").exists()]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        list(pool.map(write_run, todo, chunksize=8))
    print(f"wrote {len(todo)} run directories of {args.cases} cases in {time.perf_counter() - started:.1f} s "
          f"({root})")
    index = root / "index.sqlite"
    index.unlink(missing_ok=True)

    def history() -> tuple[str, int]:
        frame, done = load_with_refresh(runs, index=index)
        histories = build_histories(frame, STATISTICS["p50"])
        return render_markdown(histories, int(frame["run_dir"].nunique())), done.read

    (markdown, read), _ = timed(f"cold history ({args.runs} runs parsed into a new index)", history)
    (_, read), warm_s = timed("warm history (index reused)", history)
    assert read == 0, read
    store = RunStore.open(runs[len(runs) // 2])
    store.flush()
    (_, read), _ = timed("history after one run.json changed", history)
    assert read == 1, read
    (frame, _), _ = timed("DataFrame alone (edgebench.results.load, warm)",
                          lambda: load_with_refresh(runs, index=index))
    print(f"  {len(frame)} rows x {len(frame.columns)} columns")
    histories = build_histories(frame, STATISTICS["p50"])
    timed(f"HTML page ({len(histories)} trend plots)", lambda: render_html(histories, args.runs))
    print(markdown.splitlines()[2])
    print(f"warm history: {warm_s:.2f} s (target {TARGET_S:.0f} s): {'ok' if warm_s < TARGET_S else 'SLOW'}")
    return 0 if warm_s < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

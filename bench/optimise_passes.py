"""What do the optimisation study's untimed passes cost, beside the timed loop?

After its timed loop each case runs the fidelity pass (K = 8 fixed inputs, outputs kept) and, with
``profile_ops``, the per-operator pass (a second session under onnxruntime's profiler, 21 inferences). Neither
is inside the timed samples; they add wall time to the case. This prints, per case of a run directory, the
timed loop's wall time and each pass's time, absolute and relative to the loop.

    python bench/optimise_passes.py RUN_DIR              # a run of suites/optimise.toml, say
    python bench/optimise_passes.py                      # runs suites/optimise.toml here first (about 4 min)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from edgebench.results.store import RunStore

REPO = Path(__file__).resolve().parents[1]


def ratio(value: float | None, loop_ms: float) -> str:
    return f"{value / loop_ms:6.3f}" if value is not None and loop_ms else "-".rjust(6)


def ms(value: float | None, width: int) -> str:
    return f"{value:{width}.1f}" if value is not None else "-".rjust(width)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", nargs="?", type=Path)
    args = parser.parse_args()
    run_dir = args.run_dir
    if run_dir is None:
        run_dir = Path(tempfile.mkdtemp(prefix="edgebench-optimise-")) / "run"
        subprocess.run([sys.executable, "-m", "edgebench", "run", "--profile", "local", "--suite",
                        str(REPO / "suites" / "optimise.toml"), "--out", str(run_dir)], check=False)
    store = RunStore.open(run_dir)
    print(f"{'case':<62} {'loop ms':>8} {'fidelity ms':>11} {'ratio':>6} {'per-op ms':>9} {'ratio':>6}")
    for record in store.records():
        if record.get("status") != "ok":
            continue
        raw = store.load_raw(record["case_id"])
        loop_ms = (raw.get("loop_elapsed_ns") or 0) / 1e6
        passes = (record.get("summary") or {}).get("untimed_pass_ms") or {}
        fid, ops = passes.get("outputs"), passes.get("op_profile")

        print(f"{record['case_id'][:62]:<62} {loop_ms:8.0f} {ms(fid, 11)} {ratio(fid, loop_ms)} {ms(ops, 9)} "
              f"{ratio(ops, loop_ms)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What each transport costs per case, and what a second Dask worker buys.

    python bench/transport_overhead.py [--cases 8] [--seconds 0.2]

Runs the same null-backend suite (``busy_wait_us``, no runtime, a fixed loop time per case):
  local          a worker subprocess per case on this machine
  ssh            over SSH to a throw-away sshd on 127.0.0.1 (needs /usr/sbin/sshd)
  dask x1        through a Dask scheduler with one ``edgebench agent`` for the profile
  dask x2        the same with two agents offering the same profile (two devices of one kind)
and prints, per transport, the wall time per case, the overhead per case (wall minus the time the worker spent
in the case), both as ratios to local, and the speed-up of two Dask workers over one. Only loopback is used.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from edgebench.config.profile import load_profile  # noqa: E402
from edgebench.config.suite import load_suite  # noqa: E402
from edgebench.harness import runner  # noqa: E402
from edgebench.transports import make_transport  # noqa: E402
from tests.integration.conftest import DaskCluster, Sshd, null_suite, profile  # noqa: E402


def timed(store_cases: tuple, transport) -> tuple[float, float]:
    store, cases = store_cases
    started = time.perf_counter()
    runner.execute(store, cases, transport)
    wall = time.perf_counter() - started
    records = store.records()
    assert all(r["status"] == "ok" for r in records), [r["error"] for r in records if r["status"] != "ok"]
    inside = sum(r["finished_at"] - r["started_at"] for r in records)
    return wall, inside, max_concurrent(records)


def max_concurrent(records: list[dict]) -> int:
    """The most cases that ran at the same time (from the recorded start and end times)."""
    events = sorted([(r["started_at"], 1) for r in records] + [(r["finished_at"], -1) for r in records])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=8, help="cases in the suite (even; default 8)")
    parser.add_argument("--seconds", type=float, default=0.2, help="timed loop per case (default 0.2)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="edgebench-bench-"))
    threads = "[" + ", ".join(str(i + 1) for i in range(max(1, args.cases // 2))) + "]"
    suite = load_suite(null_suite(work / "suite", busy=100, threads=threads, min_seconds=args.seconds,
                                  max_seconds=args.seconds))
    options = runner.RunOptions()
    figures: dict[str, tuple[float, float, int]] = {}

    local = load_profile(profile(work, "bench-local", '[transport]\nkind = "local"'))
    with make_transport(local) as transport:
        figures["local"] = timed(runner.start_run(suite, local, work / "run-local", options, transport), transport)

    sshd = Sshd(work / "sshd")
    sshd.start()
    try:
        remote = load_profile(profile(work, "bench-ssh", sshd.transport_table()))
        with make_transport(remote) as transport:
            figures["ssh"] = timed(runner.start_run(suite, remote, work / "run-ssh", options, transport), transport)
    finally:
        sshd.kill()

    cluster = DaskCluster(work)
    cluster.start()
    try:
        from edgebench.transports.dask_farm import DaskTransport

        device_path = profile(work, "devA", '[transport]\nkind = "local"')
        device = load_profile(device_path)
        cluster.start_agent(device_path, "agent1")
        for label in ("dask x1", "dask x2"):
            if label == "dask x2":
                cluster.start_agent(device_path, "agent2")
            with DaskTransport(device, scheduler=cluster.address, profiles=[device]) as transport:
                out = work / f"run-{label.replace(' ', '')}"
                store, cases, _ = runner.start_farm(suite, [device], out, options, transport)
                transport.run_cases(cases[:1], lambda c: None, lambda c, r: None)  # warm: models cached
                figures[label] = timed((store, cases), transport)
    finally:
        cluster.stop()

    n = len(suite.backends[0].settings["threads"]) * 2
    base_wall, base_inside, _ = figures["local"]
    base_over = (base_wall - base_inside) / n
    print(f"{n} cases, {args.seconds:g} s timed loop each (null backend, busy_wait_us=100)\n")
    print(f"{'transport':10s} {'wall/case s':>12s} {'overhead/case s':>16s} {'wall vs local':>14s} "
          f"{'overhead vs local':>18s} {'max parallel':>12s}")
    result = {"cases": n, "seconds": args.seconds, "transports": {}}
    for label, (wall, inside, peak) in figures.items():
        over = (wall - inside) / n if not label.endswith("x2") else None
        ratio = f"{over / base_over:18.2f}" if over is not None else f"{'(parallel)':>18s}"
        print(f"{label:10s} {wall / n:12.3f} {over if over is not None else float('nan'):16.3f} "
              f"{wall / base_wall:14.2f} {ratio} {peak:12d}")
        result["transports"][label] = {"wall_per_case_s": wall / n, "overhead_per_case_s": over,
                                       "wall_ratio_vs_local": wall / base_wall,
                                       "overhead_ratio_vs_local": over / base_over if over is not None else None,
                                       "max_parallel_cases": peak}
    speedup = figures["dask x1"][0] / figures["dask x2"][0]
    result["dask_two_workers_speedup"] = speedup
    print(f"\nspeed-up of two Dask workers over one: {speedup:.2f}x (on {os.cpu_count()} CPU cores shared by "
          f"both workers, the scheduler and this client: on a farm each worker is its own device)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What the concurrent scenario shows: throughput of N streams against one stream, on the real runtimes.

For a few shipped models on onnxruntime and LiteRT (1 thread per session), each round runs single_stream and
concurrent at each N through the real local transport (fresh worker processes), alternating so that drift on
a shared machine hits all alike. It prints, per model and backend, the median throughput of each N as a ratio
to one stream, and the p90 latency ratio: on a machine with C free cores, N <= C streams should scale nearly
N-fold if the runtime releases the GIL during inference, and N > C streams only queue (latency up, throughput
flat).

    python bench/concurrency_scaling.py [--seconds 1.5] [--rounds 2] [--streams 2,4] [--only kws]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from edgebench.config.profile import load_profile  # noqa: E402
from edgebench.results.summary import case_summary  # noqa: E402
from edgebench.transports.local import LocalTransport  # noqa: E402
from edgebench.wire import Case, RunRules  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from shipped import shipped_cases  # noqa: E402

MODELS = ("kws_dscnn_int8", "vww_mobilenetv1_025_fp32", "ic_resnet8_fp32")


def measure(transport: LocalTransport, case: Case) -> tuple[float, float]:
    result = transport.run_case(case)
    if result.get("status") != "ok":
        raise SystemExit(f"{case.case_id}: {result.get('error')}")
    summary = case_summary(result)
    return summary["throughput_ips"], summary["latency"]["p90_ns"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--streams", default="2,4", help="comma-separated stream counts (default: 2,4)")
    parser.add_argument("--only", default="", help="only model files containing this text")
    args = parser.parse_args()
    streams = [int(n) for n in args.streams.split(",")]
    rules = RunRules(warmup_iterations=10, warmup_seconds=0.2, min_iterations=50, min_seconds=args.seconds,
                     max_seconds=args.seconds, target_ci_rel_width=0.0)
    transport = LocalTransport(load_profile("local"))
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} cores; 1 thread per session; {args.seconds} s loops; {args.rounds} rounds; medians")
    header = "".join(f"{f'x{n} inf/s':>12s}{f'x{n} p90':>9s}" for n in streams)
    print(f"{'model':28s} {'backend':12s} {'x1 inf/s':>9s}{header}")
    for entry, shipped in shipped_cases(rules, args.only):
        stem = entry["file"].rsplit(".", 1)[0]
        if stem not in MODELS:
            continue
        backend = shipped.backend
        base = replace(shipped, case_id=stem)
        cases = [base] + [Case(**{**base.__dict__, "scenario": "concurrent", "concurrency": n}) for n in streams]
        results: dict[int, list[tuple[float, float]]] = {case.concurrency: [] for case in cases}
        for _ in range(args.rounds):
            for case in cases:
                results[case.concurrency].append(measure(transport, case))
        one_ips = statistics.median(r[0] for r in results[1])
        one_p90 = statistics.median(r[1] for r in results[1])
        cells = "".join(f"{statistics.median(r[0] for r in results[n]) / one_ips:11.2f}x"
                        f"{statistics.median(r[1] for r in results[n]) / one_p90:8.2f}x" for n in streams)
        print(f"{entry['name'] + ' ' + entry['precision']:28s} {backend:12s} {one_ips:9.0f}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

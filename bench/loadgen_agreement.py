"""Does edgebench's single_stream agree with MLPerf LoadGen's SingleStream, and with a bare loop?

For every shipped model and backend (1 thread, batch 1), each round runs three fresh processes for the same
number of seconds: edgebench's single_stream (the worker, through the local transport), the same case through
LoadGen's SingleStream (``loadgen = true``: LoadGen issues each query when the previous one completed and
times it itself), and a bare ``perf_counter_ns`` loop (bench/harness_vs_plain.py's). It prints the p50 of each
and the ratios edgebench / bare, LoadGen / bare and LoadGen / edgebench.

Where LoadGen's extra time comes from: its query latency runs from the moment its issue thread decides to
issue the query to the moment ``QuerySamplesComplete`` reaches it, so it also holds the call from C++ into the
Python issue callback (taking the GIL), building the response object, the call back into C++, and LoadGen's
own bookkeeping and timestamps. The null backend (no model) shows that cost alone, per query, next to
edgebench's own per-inference overhead.

Needs MLPerf LoadGen (``pip install 'edgebench[loadgen]'``).

    python bench/loadgen_agreement.py [--seconds 2.0] [--rounds 2] [--only kws]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from harness_vs_plain import plain  # noqa: E402
from shipped import shipped_cases  # noqa: E402

from edgebench.config.loadgen_settings import LoadgenSettings  # noqa: E402
from edgebench.config.profile import load_profile  # noqa: E402
from edgebench.transports.local import LocalTransport  # noqa: E402
from edgebench.wire import Case, RunRules  # noqa: E402


def _run(transport: LocalTransport, case: Case) -> dict:
    result = transport.run_case(case)
    if result["status"] != "ok":
        raise SystemExit(f"{case.case_id}: {result['error']}")
    return result


def _p50(samples: list) -> float:
    return float(sorted(samples)[len(samples) // 2])


def measure(transport: LocalTransport, case: Case, seconds: float) -> tuple[float, float, float]:
    """(edgebench single_stream p50, LoadGen SingleStream query p50, service p50 inside LoadGen), in ns."""
    ours = _p50(_run(transport, case)["latency_ns"])
    settings = LoadgenSettings("single_stream", min_duration_s=seconds, min_query_count=1, latency_percentile=0.9)
    through = _run(transport, replace(case, case_id=case.case_id + ".loadgen", loadgen=settings.to_json()))
    loadgen_p50 = through["loadgen"]["result"]["latency_ns"]["p50_ns"]
    return ours, float(loadgen_p50), _p50(through["latency_ns"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    try:
        import mlperf_loadgen  # noqa: F401
    except ImportError:
        raise SystemExit("needs MLPerf LoadGen: pip install 'edgebench[loadgen]'") from None
    transport = LocalTransport(load_profile("local"))
    rules = RunRules(warmup_iterations=10, warmup_seconds=0, min_iterations=10, min_seconds=args.seconds,
                     max_seconds=args.seconds, target_ci_rel_width=0.0)
    print(f"{'model':28s} {'backend':12s} {'edgebench':>10s} {'LoadGen':>8s} {'bare':>8s} {'eb/bare':>8s} "
          f"{'LG/bare':>8s} {'LG/eb':>7s} {'svc/eb':>7s} {'LG-svc':>8s}   (p50 us)")
    rows = []
    for entry, case in shipped_cases(rules, args.only):
        backend, path = case.backend, case.model_path
        ours, theirs, inside, bare = [], [], [], []
        for _ in range(args.rounds):  # alternate, so drift on a shared machine hits all alike
            edgebench_p50, loadgen_p50, service_p50 = measure(transport, case, args.seconds)
            ours.append(edgebench_p50)
            theirs.append(loadgen_p50)
            inside.append(service_p50)
            bare.append(plain(path, backend, args.seconds))
        a, b, c = statistics.median(ours), statistics.median(theirs), statistics.median(bare)
        d = statistics.median(inside)
        rows.append((a / c, b / c, b / a, d / a))
        print(f"{entry['name'] + ' ' + entry['precision']:28s} {backend:12s} {a / 1e3:10.1f} {b / 1e3:8.1f} "
              f"{c / 1e3:8.1f} {a / c:8.3f} {b / c:8.3f} {b / a:7.3f} {d / a:7.3f} {(b - d) / 1e3:8.1f}")
    if rows:
        print("svc/eb: the inference's own p50 inside LoadGen over edgebench's (LoadGen's threads on the same cores); "
              "LG-svc: LoadGen's query p50 minus that inference p50 (its per-query cost), us")
        names = ("edgebench / bare", "LoadGen / bare", "LoadGen / edgebench", "inference in LoadGen / edgebench")
        for index, name in enumerate(names):
            values = [r[index] for r in rows]
            print(f"{name:33s} over {len(values)} cases: median {statistics.median(values):.3f} "
                  f"(min {min(values):.3f}, max {max(values):.3f})")
    null = Case(case_id="null", model="none", precision="fp32", format="none", model_path="", model_sha256="",
                backend="null", settings={}, scenario="single_stream", rules=rules)
    ours_null, loadgen_null, service_null = measure(transport, null, args.seconds)
    print(f"null backend (no model), p50: edgebench {ours_null:.0f} ns per inference; LoadGen {loadgen_null:.0f} ns "
          f"per query, of which {service_null:.0f} ns in the (empty) inference: LoadGen's per-query cost is "
          f"{loadgen_null - service_null:.0f} ns (issue callback into Python, response, completion, bookkeeping)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

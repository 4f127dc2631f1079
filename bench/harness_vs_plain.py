"""Does edgebench measure what a plain loop measures? And what does the harness itself cost?

For every shipped model and backend (1 thread, batch 1), each round runs the model three times, in fresh
processes: through edgebench's worker (the real local transport), and twice in a plain loop of
``session.run`` / ``invoke`` timed with ``perf_counter_ns``, for the same number of seconds. It prints the
ratio of the medians harness / plain, and plain / plain: two identical plain processes differ too (memory
layout, scheduling on a shared machine), and that second ratio is the noise floor the first is read against.
Then the null backend gives the harness's own overhead per inference.

    python bench/harness_vs_plain.py [--seconds 1.0] [--rounds 2] [--only kws]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from edgebench.config.profile import load_profile  # noqa: E402
from edgebench.transports.local import LocalTransport, worker_env  # noqa: E402
from edgebench.wire import Case, RunRules  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from shipped import shipped_cases  # noqa: E402

PLAIN = r'''
import json, sys, time
import numpy as np
path, backend, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
rng = np.random.default_rng(0)
def data(dtype, shape):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(-128, 128, size=shape).astype(dtype)
if backend == "onnxruntime":
    import onnxruntime as ort
    opts = ort.SessionOptions(); opts.intra_op_num_threads = 1; opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    feeds = {i.name: data({"tensor(float)": "float32", "tensor(int8)": "int8", "tensor(uint8)": "uint8"}[i.type],
                          [d if isinstance(d, int) else 1 for d in i.shape]) for i in sess.get_inputs()}
    names = [o.name for o in sess.get_outputs()]
    step = lambda: sess.run(names, feeds)
else:
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_path=path, num_threads=1)
    interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], data(d["dtype"], d["shape"]))
    step = interp.invoke
for _ in range(10):
    step()
samples, start = [], time.perf_counter_ns()
while time.perf_counter_ns() - start < seconds * 1e9:
    t0 = time.perf_counter_ns(); step(); samples.append(time.perf_counter_ns() - t0)
samples.sort()
print(json.dumps({"p50_ns": samples[len(samples) // 2], "n": len(samples)}))
'''

EMPTY = r'''
import json, time
def step(): return None
samples, start = [], time.perf_counter_ns()
while time.perf_counter_ns() - start < 1e9:
    t0 = time.perf_counter_ns(); step(); samples.append(time.perf_counter_ns() - t0)
samples.sort()
print(json.dumps({"p50_ns": samples[len(samples) // 2], "n": len(samples)}))
'''


def plain(path: str, backend: str, seconds: float) -> float:
    done = subprocess.run([sys.executable, "-c", PLAIN, path, backend, str(seconds)], capture_output=True,
                          text=True, check=True, env=worker_env())
    return json.loads(done.stdout.strip().splitlines()[-1])["p50_ns"]


def harness(transport: LocalTransport, case: Case) -> tuple[float, int]:
    result = transport.run_case(case)
    if result["status"] != "ok":
        raise SystemExit(f"{case.case_id}: {result['error']}")
    samples = sorted(result["latency_ns"])
    return samples[len(samples) // 2], len(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    transport = LocalTransport(load_profile("local"))
    rules = RunRules(warmup_iterations=10, warmup_seconds=0, min_iterations=10, min_seconds=args.seconds,
                     max_seconds=args.seconds, target_ci_rel_width=0.0)
    print(f"{'model':28s} {'backend':12s} {'harness p50 us':>15s} {'plain p50 us':>13s} {'ratio':>7s} "
          f"{'plain/plain':>11s}")
    ratios, floors = [], []
    for entry, case in shipped_cases(rules, args.only):
        backend, path = case.backend, case.model_path
        ours, theirs, again = [], [], []
        for _ in range(args.rounds):  # alternate, so drift on a shared machine hits all alike
            ours.append(harness(transport, case)[0])
            theirs.append(plain(path, backend, args.seconds))
            again.append(plain(path, backend, args.seconds))
        a, b, c = statistics.median(ours), statistics.median(theirs), statistics.median(again)
        ratios.append(a / b)
        floors.append(c / b)
        print(f"{entry['name'] + ' ' + entry['precision']:28s} {backend:12s} {a / 1e3:15.1f} {b / 1e3:13.1f} "
              f"{a / b:7.3f} {c / b:11.3f}")
    if ratios:
        def spread(values: list[float]) -> str:
            inside = sum(abs(v - 1) <= 0.03 for v in values)
            return (f"median {statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f}), "
                    f"{inside}/{len(values)} within 3%")
        print(f"harness/plain over {len(ratios)} cases: {spread(ratios)}")
        print(f"plain/plain   over {len(floors)} cases: {spread(floors)}")
    null_case = Case(case_id="null", model="none", precision="fp32", format="none", model_path="",
                     model_sha256="", backend="null", settings={}, scenario="single_stream",
                     rules=replace(rules, min_seconds=1.0, max_seconds=1.0))
    overhead, n = harness(transport, null_case)
    done = subprocess.run([sys.executable, "-c", EMPTY], capture_output=True, text=True, check=True)
    empty = json.loads(done.stdout)["p50_ns"]
    print(f"null backend through the harness: {overhead:.0f} ns per inference (p50, n={n}); "
          f"a bare perf_counter_ns loop around an empty call: {empty:.0f} ns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

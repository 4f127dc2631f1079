"""What a worker does after the timed loop, never mixed with its samples: the fidelity pass (the outputs on K
fixed inputs, for the host to compare with a reference) and the per-operator profiling pass.

Runs on the device (Python 3.8, numpy and the runtime only). The host side is analysis/fidelity.py and
analysis/op_profile.py.

Fidelity inputs: the model's data files where its inputs read them (their first K samples), else K seeded
inputs (seed ``suite seed + FIDELITY_SEED_OFFSET + k``), made the way the worker makes its other inputs, so every
case of one model (every variant, every runtime) sees the same K inputs. Outputs are kept as bytes (base64) up to
``MAX_KEPT_VALUES`` values per output; a larger output keeps a digest and summary statistics, which the host can
only compare for equality.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
import time
from typing import Any, Dict, List, Mapping, Sequence

FIDELITY_SEED_OFFSET = 7919
MAX_KEPT_VALUES = 1 << 18
#: the profiling pass: inferences under the profiler (the first is dropped by the host as a warm-up)
PROFILE_ITERATIONS = 21
PROFILE_MAX_SECONDS = 5.0


def fidelity_feeds(plans: Sequence[Any], batch: int, seed: int, source: str, count: int,
                   feeder: Any = None) -> tuple:
    """``count`` feeds and where they came from. ``feeder``: the case's own (its data files already read and
    checked), else one is built from the plans."""
    from edgebench.worker.feeds import Feeder

    if any(p.spec.data is not None for p in plans):
        feeder = feeder.fork() if feeder is not None else Feeder.build(plans, batch, seed, source)
        samples = max(len(v) for v in feeder.samples.values())
        return feeder.take(min(count, samples)), "data files"
    base = seed + FIDELITY_SEED_OFFSET
    return [Feeder.build(plans, batch, base + k, source).current() for k in range(count)], \
        f"seeded generated (seed {base} + k)"


def decode_output(output: Mapping[str, Any]) -> Any:
    """The array ``encode_output`` kept (None when only a digest and statistics were kept)."""
    import base64

    import numpy as np

    if "b64" not in output:
        return None
    data = base64.b64decode(output["b64"])
    return np.frombuffer(data, dtype=np.dtype(output["dtype"])).reshape(output["shape"])


def encode_output(value: Any, spec: Any) -> Dict[str, Any]:
    import numpy as np

    array = np.asarray(value)
    if getattr(spec, "scale", None) and array.dtype.kind in "iu":  # quantised output: compare real values
        array = (array.astype(np.float32) - float(spec.zero_point or 0)) * float(spec.scale)
    if array.dtype.kind == "f" and array.dtype != np.float32:
        array = array.astype(np.float32)
    array = np.ascontiguousarray(array)
    out: Dict[str, Any] = {"name": getattr(spec, "name", ""), "dtype": str(array.dtype), "shape": list(array.shape)}
    if array.dtype.kind not in "fiub":
        out["digest"] = hashlib.sha256(repr(array.tolist()).encode()).hexdigest()
        return out
    if array.size <= MAX_KEPT_VALUES:
        out["b64"] = base64.b64encode(array.tobytes()).decode("ascii")
        return out
    values = array.astype(np.float64)
    out.update({"digest": hashlib.sha256(array.tobytes()).hexdigest(), "mean": float(values.mean()),
                "std": float(values.std()), "min": float(values.min()), "max": float(values.max())})
    return out


def output_pass(session: Any, plans: Sequence[Any], batch: int, seed: int, source: str,
                count: int, feeder: Any = None) -> Dict[str, Any]:
    feeds, origin = fidelity_feeds(plans, batch, seed, source, count, feeder)
    samples: List[List[Dict[str, Any]]] = []
    for feed in feeds:
        session.prepare(feed)
        values = session.run()
        if values is None:
            values = session.output_values()
        samples.append([encode_output(v, spec) for v, spec in zip(values, session.outputs)])
    return {"source": origin, "inputs": len(feeds), "samples": samples}


# -- per-operator profiles -----------------------------------------------------------------------------------
def profile_pass(case: Any, backend: Any, settings: Dict[str, Any], shapes: Dict[str, Any],
                 feeds: Dict[str, Any]) -> Dict[str, Any]:
    """A separate session under the runtime's profiler. Returns ``{"skipped": reason}`` where it has none."""
    if case.backend == "onnxruntime":
        return _profile_onnxruntime(case, backend, settings, shapes, feeds)
    if case.backend == "tflite":
        # checked in ai_edge_litert 2.3.0: it ships the profile's protobuf schema (profiling_info_pb2) but neither
        # Interpreter nor CompiledModel lets Python start a profiler or read its events
        return {"skipped": "LiteRT's Python API (ai_edge_litert Interpreter and CompiledModel, tflite_runtime) "
                           "exposes no per-operator profiler; TFLite's benchmark_model --enable_op_profiling has one"}
    return {"skipped": f"backend {case.backend} has no per-operator profiler"}


def _profile_onnxruntime(case: Any, backend: Any, settings: Dict[str, Any], shapes: Dict[str, Any],
                         feeds: Dict[str, Any]) -> Dict[str, Any]:
    folder = tempfile.mkdtemp(prefix="edgebench-ops-")
    try:
        session = backend.load(case.model_path, dict(settings, enable_profiling=True,
                                                     profile_file_prefix=os.path.join(folder, "ort")))
        session.resize(shapes)
        session.prepare(feeds)
        deadline = time.perf_counter() + PROFILE_MAX_SECONDS
        runs = 0
        while runs < PROFILE_ITERATIONS and (runs < 2 or time.perf_counter() < deadline):
            session.run()
            runs += 1
        path = session.end_profiling()
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    trace = json.loads(text)
    events = [{"name": e.get("name"), "cat": e.get("cat"), "ts": e.get("ts"), "dur": e.get("dur"),
               "op": (e.get("args") or {}).get("op_name"), "provider": (e.get("args") or {}).get("provider")}
              for e in trace if isinstance(e, dict) and e.get("cat") in ("Node", "Session")
              and (e.get("cat") == "Session" and e.get("name") == "model_run"
                   or str(e.get("name", "")).endswith("_kernel_time"))]
    return {"tool": "onnxruntime SessionOptions.enable_profiling", "iterations": runs, "events": events,
            "trace_text": text}

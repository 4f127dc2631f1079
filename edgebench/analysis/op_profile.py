"""Per-operator profiles: the profiling pass's events aggregated per node and per operator type, and two cases
compared per operator type (fp32 against int8: where quantisation paid off, what Quantize/Dequantize cost).

The first profiled inference is a warm-up (allocations, first-touch) and is left out. Shares are of the time the
profiler attributes to operators (they sum to 100 %); ``covered`` says how much of the whole inference (the
runtime's ``model_run`` events) that is.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence


def summarize_profile(profile: Mapping[str, Any]) -> dict[str, Any]:
    if profile.get("skipped") or profile.get("error"):
        return {k: profile[k] for k in ("skipped", "error") if profile.get(k)}
    events = profile.get("events") or []
    runs = sorted((e for e in events if e.get("cat") == "Session"), key=lambda e: e.get("ts") or 0)
    start = (runs[0]["ts"] + runs[0]["dur"]) if len(runs) > 1 else None  # after the first (warm-up) run
    kept_runs = runs[1:] if len(runs) > 1 else runs
    nodes: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.get("cat") != "Node" or (start is not None and (event.get("ts") or 0) < start):
            continue
        name = str(event.get("name", "")).rsplit("_kernel_time", 1)[0]
        entry = nodes.setdefault(name, {"node": name, "op": event.get("op") or "?", "count": 0, "total_us": 0.0,
                                        "provider": event.get("provider")})
        entry["count"] += 1
        entry["total_us"] += float(event.get("dur") or 0)
    total_us = sum(n["total_us"] for n in nodes.values())
    ops: dict[str, dict[str, Any]] = {}
    for node in nodes.values():
        entry = ops.setdefault(node["op"], {"op": node["op"], "nodes": 0, "count": 0, "total_us": 0.0})
        entry["nodes"] += 1
        entry["count"] += node["count"]
        entry["total_us"] += node["total_us"]
    inferences = len(kept_runs)
    for group in (nodes.values(), ops.values()):
        for entry in group:
            entry["mean_us"] = entry["total_us"] / entry["count"] if entry["count"] else None
            entry["per_inference_us"] = entry["total_us"] / inferences if inferences else None
            entry["share"] = entry["total_us"] / total_us if total_us else None
    run_us = sum(float(r.get("dur") or 0) for r in kept_runs)
    return {
        "tool": profile.get("tool"),
        "inferences": inferences,
        "op_time_us": total_us,
        "inference_time_us": run_us,
        "covered": total_us / run_us if run_us else None,
        "op_types": sorted(ops.values(), key=lambda e: -e["total_us"]),
        "nodes": sorted(nodes.values(), key=lambda e: -e["total_us"]),
    }


def compare_op_types(base: Mapping[str, Any], other: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per operator type, time per inference in ``base`` and ``other`` (µs) and the difference; types only one
    has (QuantizeLinear, DequantizeLinear, ConvInteger) appear with None on the other side."""
    def table(summary: Mapping[str, Any]) -> dict[str, float]:
        return {e["op"]: e["per_inference_us"] for e in summary.get("op_types") or []}

    a, b = table(base), table(other)
    rows = []
    for op in sorted(set(a) | set(b), key=lambda o: -max(a.get(o) or 0, b.get(o) or 0)):
        rows.append({"op": op, "base_us": a.get(op), "other_us": b.get(op),
                     "delta_us": (b.get(op) or 0.0) - (a.get(op) or 0.0)})
    return rows


def top_op_types(summary: Mapping[str, Any], count: int = 3) -> Sequence[Mapping[str, Any]]:
    return (summary.get("op_types") or [])[:count]

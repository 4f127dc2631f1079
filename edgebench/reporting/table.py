"""A plain-text table of a run's cases, for the terminal."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from edgebench.reporting.values import format_value

COLUMNS = (
    ("model", "model"), ("precision", "prec"), ("backend", "backend"), ("threads", "thr"),
    ("scenario", "scenario"), ("batch", "b"), ("concurrency", "streams"), ("status", "status"), ("n", "n"),
    ("latency_p50_ms", "p50 ms"), ("latency_p90_ms", "p90 ms"), ("latency_p99_ms", "p99 ms"),
    ("throughput_ips", "inf/s"), ("peak_rss_mb", "peak MB"), ("power_avg_w", "W"),
    ("energy_per_inference_mj", "mJ/inf"),
)


def render_table(rows: Sequence[Mapping[str, Any]]) -> str:
    columns = [(k, h) for k, h in COLUMNS if any(r.get(k) not in (None, "") for r in rows) or k in
               ("model", "backend", "status")]
    if all(r.get("concurrency") in (None, "", 1) for r in rows):  # no concurrent case: no streams column
        columns = [(k, h) for k, h in columns if k != "concurrency"]
    cells = [[format_value(r.get(k)) for k, _ in columns] for r in rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, (_, h) in enumerate(columns)]
    numeric = [k not in ("model", "precision", "backend", "scenario", "status") for k, _ in columns]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line([h for _, h in columns]), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    problems = [r for r in rows if r.get("status") not in ("ok",) and r.get("error")]
    if problems:
        out.append("")
        out += [f"{r['status']}: {r['case_id']}: {r['error']}" for r in problems]
    return "\n".join(out)

"""Synthetic run directories for the benchmarks that time reading runs (report_speed, history_scale): case
specs of many models and thread counts, and a run.json header, written through the real store."""

from __future__ import annotations

from typing import Any


def case_specs(cases: int) -> list[dict[str, Any]]:
    """``cases`` pending onnxruntime cases: four thread counts (1-4) of models ``model_00``, ``model_01``, ..."""
    specs = []
    for k in range(cases):
        model, threads = f"model_{k // 4:02d}", 1 + k % 4
        specs.append({"case_id": f"{model}.fp32.onnxruntime.threads={threads}.single_stream.b1", "model": model,
                      "precision": "fp32", "format": "onnx", "model_sha256": "0" * 64, "backend": "onnxruntime",
                      "settings": {"threads": threads}, "scenario": "single_stream", "batch": 1, "status": "pending"})
    return specs


def run_header(device: dict[str, Any], git_commit: str | None) -> dict[str, Any]:
    """run.json's header for a run of the suite ``bench`` on ``bench-device`` (its ``device`` table as given)."""
    return {"edgebench_version": "bench", "suite": {"name": "bench", "rules": {"confidence": 0.95}},
            "profile": {"name": "bench-device", "device": device, "sensors": {}},
            "environment": {"cpu_model": "bench"}, "fast": False, "git_commit": git_commit}

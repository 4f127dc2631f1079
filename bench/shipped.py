"""The shipped models as single_stream cases, one per model file, for the benchmarks that compare edgebench's
timed loop with other ways of timing the same model (harness_vs_plain, loadgen_agreement, concurrency_scaling)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from edgebench.wire import Case, RunRules

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / "suites" / "models"


def shipped_cases(rules: RunRules, only: str = "") -> Iterator[tuple[dict[str, Any], Case]]:
    """(manifest entry, case) for every shipped model file whose name contains ``only``: one thread, the
    file's own runtime (``.onnx`` on onnxruntime, ``.tflite`` on tflite)."""
    manifest = json.loads((MODELS_DIR / "manifest.json").read_text())
    for entry in manifest["models"]:
        if only not in entry["file"]:
            continue
        backend = "onnxruntime" if entry["format"] == "onnx" else "tflite"
        yield entry, Case(case_id=f"{entry['name']}.{entry['precision']}.{backend}", model=entry["name"],
                          precision=entry["precision"], format=entry["format"],
                          model_path=str(MODELS_DIR / entry["file"]), model_sha256=entry["sha256"], backend=backend,
                          settings={"threads": 1}, scenario="single_stream", rules=rules)

"""JSON: the whole report model (runs, groups with values, ratios and best marks, hardware view, Pareto
points, warnings), with sorted keys so that the same runs give the same bytes."""

from __future__ import annotations

import json
import math
from typing import Any

from edgebench.reporting.model import ReportModel

#: 2: a hardware row's power is measured only (``power_source`` is gone; ``ips_per_tdp_w_estimate`` beside it),
#: ``devices`` lists each device with its host, each row has ``host``, and ``selection`` comes with a budget
FORMAT_VERSION = 2


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def render_json(model: ReportModel) -> str:
    document = {"format": "edgebench-report", "format_version": FORMAT_VERSION, **model.to_json()}
    return json.dumps(_clean(document), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

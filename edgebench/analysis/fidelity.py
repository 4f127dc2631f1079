"""Output fidelity: each case's outputs on the K fixed inputs of the untimed pass, against a reference case of
the same model (the suite's ``[reference]``: by default its fp32 source on onnxruntime).

Figures, over every output value of every input (outputs paired by position, since formats name them apart):
max and mean absolute error, cosine similarity, SNR in dB (10 log10 of the reference's energy over the error's;
None with ``exact`` when the error is zero), and top-1 agreement for class-score outputs (2-D, more than one
column): the share of rows whose argmax is the reference's.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

from edgebench.worker.untimed_passes import decode_output as decode

#: a case compared with itself, or an exact copy
EXACT = "exact"


def compare_outputs(reference: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The fidelity figures of ``current`` (a case's ``outputs`` record) against ``reference``'s."""
    import numpy as np

    ref_samples = reference.get("samples") or []
    cur_samples = current.get("samples") or []
    count = min(len(ref_samples), len(cur_samples))
    if count == 0:
        return {"error": "no outputs to compare"}
    refs, curs = [], []
    agree = rows = 0
    for ref_outputs, cur_outputs in zip(ref_samples[:count], cur_samples[:count]):
        if len(ref_outputs) != len(cur_outputs):
            return {"error": f"{len(cur_outputs)} outputs, the reference has {len(ref_outputs)}"}
        for ref_out, cur_out in zip(ref_outputs, cur_outputs):
            if list(ref_out["shape"]) != list(cur_out["shape"]):
                return {"error": f"output {cur_out.get('name')} has shape {cur_out['shape']}, the reference's "
                                 f"{ref_out.get('name')} {ref_out['shape']}"}
            a, b = decode(ref_out), decode(cur_out)
            if a is None or b is None:  # only digests kept: equal or not
                same = ref_out.get("digest") == cur_out.get("digest")
                return {"error": None if same else "outputs too large to keep: only their digests, which differ",
                        "digest_equal": same}
            a64, b64 = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
            refs.append(a64)
            curs.append(b64)
            if a.ndim == 2 and a.shape[1] > 1:
                agree += int((a.argmax(axis=1) == b.argmax(axis=1)).sum())
                rows += a.shape[0]
    ref = np.concatenate(refs)
    cur = np.concatenate(curs)
    err = cur - ref
    abs_err = np.abs(err)
    ref_norm, cur_norm = float(np.linalg.norm(ref)), float(np.linalg.norm(cur))
    if ref_norm == 0 and cur_norm == 0:
        cosine = 1.0
    elif ref_norm == 0 or cur_norm == 0:
        cosine = 0.0
    else:
        cosine = float(np.dot(ref, cur) / (ref_norm * cur_norm))
    noise = float(np.dot(err, err))
    signal = float(np.dot(ref, ref))
    if noise == 0:  # identical values: exactly 1, not 1 less a rounding error of the norms
        cosine = 1.0 if signal > 0 or cur_norm == 0 else cosine
    out: dict[str, Any] = {
        "inputs": count,
        "values": int(ref.size),
        "max_abs_err": float(abs_err.max()) if abs_err.size else 0.0,
        "mean_abs_err": float(abs_err.mean()) if abs_err.size else 0.0,
        "cosine": max(-1.0, min(1.0, cosine)),
        "snr_db": None if noise == 0 else (10 * math.log10(signal / noise) if signal > 0 else None),
        "exact": noise == 0 and bool(np.array_equal(ref, cur)),
        "top1_agreement": agree / rows if rows else None,
        "non_finite": int((~np.isfinite(cur)).sum()),
    }
    return out


def pick_reference(records: Sequence[Mapping[str, Any]], model: str, device: str | None,
                   reference: Mapping[str, str], batch: Any = 1) -> Mapping[str, Any] | None:
    """The record fidelity compares ``model``'s cases with on ``device``: the reference precision on the reference
    backend, ok; the same batch (the outputs' shapes), single_stream and the CPU provider preferred."""
    def rank(record: Mapping[str, Any]) -> tuple:
        providers = (record.get("settings") or {}).get("providers") or ["CPUExecutionProvider"]
        return (record.get("batch") != batch, record.get("scenario") != "single_stream", record.get("batch") != 1,
                providers[0] != "CPUExecutionProvider", record.get("case_id"))

    found = [r for r in records if r.get("model") == model and r.get("precision") == reference.get("precision")
             and r.get("backend") == reference.get("backend") and r.get("status") == "ok"
             and (device is None or (r.get("device") or None) == device)]
    return min(found, key=rank) if found else None


DEFAULT_REFERENCE = {"precision": "fp32", "backend": "onnxruntime"}


def fidelity_figures(records: Sequence[Mapping[str, Any]], outputs_of: Callable[[str], Any],
                     reference: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per case id, ``{"fidelity": figures}`` for every ok case that kept outputs, against its model's reference
    case (``reference``: the suite's ``[reference]``, else DEFAULT_REFERENCE). ``outputs_of(case_id)``: the outputs
    a case kept (its raw file's ``outputs``), or None. Recomputable from the run directory."""
    reference = reference or DEFAULT_REFERENCE
    out: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.get("status") != "ok" or not isinstance(record.get("summary"), dict):
            continue
        mine = outputs_of(record["case_id"])
        if not mine or mine.get("error") or not mine.get("samples"):
            continue
        ref = pick_reference(records, record["model"], record.get("device") or None, reference, record.get("batch"))
        if ref is None:
            figures: dict[str, Any] = {"error": f"no reference case ({reference.get('precision')} on "
                                                f"{reference.get('backend')}) for model {record['model']} ran ok"}
        else:
            ref_outputs = outputs_of(ref["case_id"])
            figures = compare_outputs(ref_outputs, mine) if ref_outputs else {"error": "the reference kept no outputs"}
            figures["reference"] = ref["case_id"]
        figures["source"] = mine.get("source")
        out[record["case_id"]] = {"fidelity": figures}
    return out

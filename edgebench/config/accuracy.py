"""``[models.accuracy]``: labelled data, so a run reports top-1 accuracy beside fidelity (MLPerf's accuracy mode).

    [models.accuracy]
    data = "data/val.npz"     # one array per input (named after it, axis 0: samples) and the labels
    labels = "labels"         # the labels' array in the file (default "labels"): one class index per sample
    output = 0                # which output holds the class scores (default the first)

The inputs' arrays become the inputs' ``data`` (unless ``[models.inputs]`` says otherwise), so the timed loop, the
fidelity pass and a device's copy all use them; the fidelity pass then runs every sample (at most
``MAX_SAMPLES``), and the host scores the outputs against the labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgebench.config.fields import Table
from edgebench.digest import sha256_of
from edgebench.worker.inputs import DataFile, InputSpec

MAX_SAMPLES = 1000


def parse_accuracy(table: Table, base_dir: Path, inputs: dict[str, InputSpec]) -> tuple[dict[str, Any],
                                                                                      dict[str, InputSpec]]:
    """The accuracy spec ({} when the model has none) and the inputs with the data file's arrays added."""
    if not table.data:
        return {}, inputs
    import numpy as np

    rel = table.get("data", str)
    labels_name = table.get("labels", str, "labels")
    output = table.integer("output", 0, 0, 1024)
    table.done()
    path = (base_dir / rel).resolve()
    if path.suffix.lower() != ".npz":
        raise table.error("data", f"expected an .npz holding the inputs and {labels_name!r}, got {rel!r}")
    try:
        with np.load(str(path), allow_pickle=False) as archive:
            names = list(archive.files)
            labels = archive[labels_name] if labels_name in names else None
    except FileNotFoundError:
        raise table.error("data", f"file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise table.error("data", f"cannot read {path}: {exc}") from None
    if labels is None:
        raise table.error("labels", f"{path} has no array {labels_name!r} (it has: {', '.join(names)})")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise table.error("labels", f"expected one integer class index per sample, got {labels.dtype} of shape "
                                    f"{list(labels.shape)}")
    data = DataFile(str(path), sha256_of(path), path.stat().st_size)
    merged = dict(inputs)
    for name in names:
        if name != labels_name and name not in merged:
            merged[name] = InputSpec(name, table.prefix, data=data)
    spec = {"data": str(path), "sha256": data.sha256, "labels": labels_name, "output": output,
            "samples": int(labels.shape[0]), "key": table.prefix}
    return spec, merged


def top1(labels_path: str, labels_name: str, output_index: int, samples: Any) -> dict[str, Any]:
    """Top-1 accuracy of the kept outputs (one list of outputs per sample, in order) against the labels."""
    import numpy as np

    from edgebench.worker.untimed_passes import decode_output as decode

    with np.load(labels_path, allow_pickle=False) as archive:
        labels = archive[labels_name]
    hits = counted = 0
    for index, outputs in enumerate(samples):
        if index >= len(labels) or output_index >= len(outputs):
            break
        scores = decode(outputs[output_index])
        if scores is None:
            return {"error": "the class-score output was too large to keep"}
        flat = np.asarray(scores).reshape(-1, np.asarray(scores).shape[-1])
        if flat.shape[0] != 1:
            return {"error": "top-1 accuracy is scored on batch 1 cases only"}
        hits += int(flat[0].argmax() == int(labels[index]))
        counted += 1
    return {"top1": hits / counted if counted else None, "samples": counted}

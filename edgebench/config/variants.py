"""A suite model's ``variants``: one ModelSpec per variant, its files built (or found in the cache) while the suite
is parsed, so every later step (matrix, shipping to a device, reports) sees ordinary model files."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from edgebench.config.fields import Table
from edgebench.config.models import ModelFile


def expand_variants(model: Any, variants: Sequence[Any], table: Table, seed: int) -> list[Any]:
    from edgebench.optimise.variants import RECIPES, VariantUnavailable, build_variant

    names: list[str] = []
    for index, name in enumerate(variants):
        key = f"variants[{index}]"
        if not isinstance(name, str) or name not in RECIPES:
            raise table.error(key, f"unknown variant {name!r} (known: {', '.join(RECIPES)})")
        if name in names:
            raise table.error(key, f"variant {name} named twice")
        names.append(name)
    out = []
    for name in names:
        files: list[ModelFile] = []
        input_names = {}
        for source in model.files:
            if source.problem:  # a source that cannot be measured: its variants fail with the same line
                files.append(source)
                continue
            try:
                built = build_variant(source.path, source.sha256, source.format, name, model.inputs, seed,
                                      table.source, model.key)
            except VariantUnavailable as exc:
                files.append(replace(source, unavailable=f"variant {name} of {source.path.name}: {exc}",
                                     variant={"recipe": name, "unavailable": str(exc)}))
                continue
            from edgebench.digest import sha256_of

            digest = source.sha256 if built.path == source.path else sha256_of(built.path)
            files.append(ModelFile(path=built.path, format=source.format, sha256=digest,
                                   size_bytes=built.path.stat().st_size, manifest=dict(source.manifest),
                                   variant=dict(built.record)))
            if str(source.path) in model.input_names:
                input_names[str(built.path)] = model.input_names[str(source.path)]
        out.append(replace(model, precision=name, files=tuple(files), input_names=input_names, variant=name))
    return out

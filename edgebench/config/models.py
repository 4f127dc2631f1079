"""Model files: local paths or URL + sha256 (cached under the user's cache dir), checked and described."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebench.digest import sha256_of
from edgebench.errors import ConfigError

MODEL_FORMATS = {".onnx": "onnx", ".tflite": "tflite"}


@dataclass(frozen=True)
class ModelFile:
    """One file of a model in one format, verified on disk."""

    path: Path
    format: str
    sha256: str
    size_bytes: int
    url: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)


def model_format(path_or_url: str, source: str, key: str) -> str:
    suffix = os.path.splitext(path_or_url.split("?", 1)[0])[1].lower()
    if suffix not in MODEL_FORMATS:
        known = ", ".join(sorted(MODEL_FORMATS))
        raise ConfigError(source, key, f"unsupported model file type {suffix or '(none)'!r} (known: {known})")
    return MODEL_FORMATS[suffix]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "edgebench" / "models"


def manifest_entry(path: Path) -> dict[str, Any]:
    """The entry for ``path`` in a ``manifest.json`` beside it, or {} when there is none."""
    manifest_path = path.parent / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    for entry in manifest.get("models", []):
        if entry.get("file") == path.name:
            return dict(entry)
    return {}


def resolve_local(path: Path, expected_sha256: str | None, source: str, key: str) -> ModelFile:
    if not path.is_file():
        raise ConfigError(source, key, f"file not found: {path}")
    fmt = model_format(path.name, source, key)
    digest = sha256_of(path)
    entry = manifest_entry(path)
    wanted = expected_sha256 or entry.get("sha256")
    if wanted and wanted.lower() != digest:
        origin = "suite" if expected_sha256 else f"{path.parent / 'manifest.json'}"
        raise ConfigError(
            source, key, f"sha256 mismatch for {path.name}: {origin} says {wanted.lower()}, file has {digest}"
        )
    return ModelFile(path=path, format=fmt, sha256=digest, size_bytes=path.stat().st_size, manifest=entry)


def resolve_url(url: str, sha256: str, source: str, key: str, cache_dir: Path | None = None) -> ModelFile:
    """Fetch ``url`` once into the cache (by sha256) and verify it; later runs use the cached copy."""
    fmt = model_format(url, source, key)
    cache = (cache_dir or default_cache_dir()) / sha256.lower()
    name = os.path.basename(url.split("?", 1)[0]) or f"model.{fmt}"
    target = cache / name
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(dir=cache, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                shutil.copyfileobj(response, out)
            digest = sha256_of(Path(tmp_name))
            if digest != sha256.lower():
                raise ConfigError(source, key, f"sha256 mismatch for {url}: suite says {sha256.lower()}, "
                                               f"download has {digest}")
            os.replace(tmp_name, target)
        except OSError as exc:
            raise ConfigError(source, key, f"cannot download {url}: {exc}") from None
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
    model = resolve_local(target, sha256, source, key)
    return ModelFile(model.path, model.format, model.sha256, model.size_bytes, url=url, manifest=model.manifest)

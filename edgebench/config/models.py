"""Model files: local paths or URL + sha256 (cached under the user's cache dir), checked and described.

A file that cannot be measured (missing, a directory, unreadable, not the model its extension names, a sha256
that differs from the suite's or the manifest's, a download that failed) does not stop the suite: its
``ModelFile`` carries ``problem``, one line naming the suite, the key and the file, and the cases that would load
it are recorded failed with that line (``harness.matrix``). Only an extension that names no format is a suite
error: it is in the suite's own text.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from edgebench.config.model_format import CONTENT_NAMES, EXTENSIONS, content_format, problem_of
from edgebench.digest import sha256_of
from edgebench.errors import ConfigError
from edgebench.files import cache_home

MODEL_FORMATS = {".onnx": "onnx", ".tflite": "tflite"}


@dataclass(frozen=True)
class ModelFile:
    """One file of a model in one format, verified on disk; or, with ``problem``, why it cannot be measured."""

    path: Path
    format: str
    #: empty when the file has a problem
    sha256: str
    size_bytes: int | None
    url: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    #: ``suite: key: what is wrong with the file``: its cases fail with this line
    problem: str | None = None
    #: a generated variant (edgebench.optimise.variants) the installed tools cannot build: its cases are skipped
    unavailable: str | None = None
    #: a generated variant: how it was made (recipe, tool and version, calibration, file size)
    variant: dict[str, Any] = field(default_factory=dict)


def model_format(path_or_url: str, source: str, key: str, local: Path | None = None) -> str:
    """The format the extension names; an unknown extension is a suite error, with what ``local`` holds."""
    suffix = os.path.splitext(path_or_url.split("?", 1)[0])[1].lower()
    if suffix not in MODEL_FORMATS:
        known = ", ".join(sorted(MODEL_FORMATS))
        problem = f"unsupported model file type {suffix or '(none)'!r} (known: {known})"
        found = content_format(local) if local is not None else None
        if local is not None and found is not None:
            problem += f"; {local} is {CONTENT_NAMES[found]}: rename it to " \
                       f"{local.with_suffix(EXTENSIONS[found]).name}"
        raise ConfigError(source, key, problem)
    return MODEL_FORMATS[suffix]


def default_cache_dir() -> Path:
    return cache_home() / "models"


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
    """``path`` checked by its content and its sha256 (the suite's, else the manifest's beside it)."""
    path = Path(os.path.abspath(path))  # not resolve(): a symlink loop is a problem to report, and the name
    fmt = model_format(path.name, source, key, path)  # given in the suite says the format, not a link target's
    entry = manifest_entry(path)
    problem = problem_of(path, fmt)
    if problem is not None:
        return ModelFile(path=path, format=fmt, sha256="", size_bytes=None, manifest=entry,
                         problem=str(ConfigError(source, key, problem)))
    digest = sha256_of(path)
    wanted = expected_sha256 or entry.get("sha256")
    if wanted and wanted.lower() != digest:
        origin = "suite" if expected_sha256 else f"{path.parent / 'manifest.json'}"
        problem = f"sha256 mismatch for {path}: {origin} says {wanted.lower()}, file has {digest}"
        return ModelFile(path=path, format=fmt, sha256="", size_bytes=path.stat().st_size, manifest=entry,
                         problem=str(ConfigError(source, key, problem)))
    return ModelFile(path=path, format=fmt, sha256=digest, size_bytes=path.stat().st_size, manifest=entry)


def resolve_url(url: str, sha256: str, source: str, key: str, cache_dir: Path | None = None) -> ModelFile:
    """Fetch ``url`` once into the cache (by sha256) and verify it; later runs use the cached copy. A download
    that fails or is not the suite's bytes is the file's problem (its cases fail), not the suite's."""
    fmt = model_format(url, source, key)
    cache = (cache_dir or default_cache_dir()) / sha256.lower()
    name = os.path.basename(url.split("?", 1)[0]) or f"model.{fmt}"
    target = cache / name
    if not target.is_file():
        problem = download(url, sha256, target)
        if problem is not None:
            return ModelFile(path=target, format=fmt, sha256="", size_bytes=None, url=url,
                             problem=str(ConfigError(source, key, problem)))
    return replace(resolve_local(target, sha256, source, key), url=url)


def download(url: str, sha256: str, target: Path) -> str | None:
    """Fetch ``url`` into ``target`` atomically when it has ``sha256``; else what went wrong, in one line."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        digest = sha256_of(Path(tmp_name))
        if digest != sha256.lower():
            return f"sha256 mismatch for {url}: suite says {sha256.lower()}, download has {digest}"
        os.replace(tmp_name, target)
    except (OSError, ValueError) as exc:
        return f"cannot download {url}: {exc}"
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return None

"""A file cache under outputs/cache, keyed by what was built, the code that built it and library versions."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from edgecloud import paths

KEYED_PACKAGES = ("torch", "onnx", "onnxruntime", "transformers", "scikit-learn")
KEYED_PACKAGES_OF_CODE = ("edgecloud.models",)  # every module in these packages builds or feeds models
KEYED_MODULES = ("edgecloud.runtimes.onnx_files",)


def keyed_files() -> list[Path]:
    """The source files whose changes invalidate cached models, found by import name (so moves cannot hide one)."""
    files = []
    for name in KEYED_MODULES:
        files.append(Path(importlib.util.find_spec(name).origin))
    for name in KEYED_PACKAGES_OF_CODE:
        folder = Path(importlib.util.find_spec(name).origin).parent
        files.extend(sorted(folder.glob("*.py")))
    return files


def code_hash() -> str:
    """Hash of the library modules whose changes invalidate cached models."""
    digest = hashlib.sha1()
    for path in keyed_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def key_of(parts: dict) -> str:
    versions = {p: metadata.version(p) for p in KEYED_PACKAGES}
    blob = json.dumps({"parts": parts, "code": code_hash(), "versions": versions}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def cached(parts: dict, suffix: str, build: Callable[[Path], None]) -> Path:
    """Return the cached file for parts, calling build(tmp_path) first when it is missing."""
    name = f"{parts.get('model', 'item')}-{parts.get('kind', 'file')}-{key_of(parts)}{suffix}"
    path = paths.cache_dir() / name
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        build(tmp)
        os.replace(tmp, path)
    return path

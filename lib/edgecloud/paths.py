"""Where things live: the project root is the nearest folder holding params/ and notebooks/."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The project folder: $EDGECLOUD_ROOT, else the nearest parent of cwd with params/ and notebooks/."""
    if env := os.environ.get("EDGECLOUD_ROOT"):
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "params").is_dir() and (folder / "notebooks").is_dir():
            return folder
    return Path(__file__).resolve().parents[2]


def outputs() -> Path:
    return project_root() / "outputs"


def cache_dir() -> Path:
    path = outputs() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def results_dir() -> Path:
    return outputs() / "results"


def artifact(name: str) -> Path:
    """A machine-readable output one notebook writes for the next ones."""
    path = outputs() / "artifacts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path

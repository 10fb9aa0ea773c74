"""How a model runs: one module per runtime (eager, ort, ...), found by `registry`, loaded through `Session`.

Adding a runtime is one new module here that defines RUNTIME (see `eager.py`), plus its tests. Names are loaded on
first use, so the params schema can read the registry without loading a framework."""

from __future__ import annotations

import importlib

_WHERE = {
    "combos": "registry",
    "names": "registry",
    "ParityError": "session",
    "Session": "session",
    "load_session": "session",
    "reference": "session",
}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


__all__ = sorted(_WHERE)

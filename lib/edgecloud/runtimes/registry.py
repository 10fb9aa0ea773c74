"""The runtimes by name: every module of this package that defines RUNTIME is one, found without a list to edit.

Importing this module is cheap (runtime modules import their frameworks only when a model is loaded), so the params
schema can check names against it."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import pkgutil
from pathlib import Path
from typing import Protocol

import numpy as np


class Handle(Protocol):
    """A model loaded by a runtime: what a Session needs to run it and to report its size."""

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray: ...

    def activate(self) -> None: ...

    def size_bytes(self) -> int: ...


class Runtime(Protocol):
    """How a model runs: its name, the precisions it offers, the packages it needs, and how it loads a model."""

    name: str
    precisions: tuple[str, ...]
    requires: tuple[str, ...]

    def load(self, model, precision: str, threads: int, calibration_samples: int, spin_wait: bool = True) -> Handle:
        """spin_wait=False: threads that sleep between operators instead of spinning, where the runtime has the
        choice (ONNX Runtime; torch's intra-op pool has none)."""


@functools.cache
def defined(attribute: str) -> dict[str, object]:
    """Every object a module of this package defines as attribute (RUNTIME, GENERATOR), by its name."""
    found = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        module = importlib.import_module(f"{__package__}.{info.name}")
        runtime = getattr(module, attribute, None)
        if runtime is not None:
            found[runtime.name] = runtime
    return dict(sorted(found.items()))


def _all() -> dict[str, Runtime]:
    """Every RUNTIME (a runtime of fixed-shape models) by name."""
    return defined("RUNTIME")


def names() -> tuple[str, ...]:
    """The registered runtimes' names."""
    return tuple(_all())


def generator_names() -> tuple[str, ...]:
    """The registered generative runtimes' names (modules defining GENERATOR; see `decoding`)."""
    return tuple(defined("GENERATOR"))


def checked(found: dict, name: str, what: str) -> object:
    """found[name]; ValueError naming the choices when it is unknown, or the packages it needs when they are missing."""
    if name not in found:
        raise ValueError(f"unknown {what} {name!r}; choose from {', '.join(found)}")
    missing = [p for p in found[name].requires if importlib.util.find_spec(p) is None]
    if missing:
        raise ValueError(f"{what} {name!r} needs {', '.join(missing)} installed")
    return found[name]


def get(name: str) -> Runtime:
    """The runtime called name (see `checked`)."""
    return checked(_all(), name, "runtime")


def combos() -> tuple[tuple[str, str], ...]:
    """Every (runtime, precision) pair the registered runtimes offer, in a stable order."""
    return tuple((name, p) for name, runtime in _all().items() for p in runtime.precisions)


def check(runtime: str, precision: str) -> None:
    """ValueError unless runtime is registered and offers precision."""
    offered = get(runtime).precisions
    if precision not in offered:
        raise ValueError(f"runtime {runtime!r} offers {', '.join(offered)}, not {precision!r}")

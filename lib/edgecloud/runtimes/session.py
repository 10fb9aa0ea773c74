"""A model loaded by a registered runtime, checked against fp32 on load: the one way experiments run a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from edgecloud.machine import usable_cores
from edgecloud.runtimes import registry
from edgecloud.runtimes.eager import torch_forward
from edgecloud.runtimes.onnx_files import export_onnx
from edgecloud.runtimes.ort import ort_session
from edgecloud.timing import wilson

if TYPE_CHECKING:  # the models import torch: the registry imports this module to list runtimes, cheaply
    from edgecloud.models.families import ZooModel

FP32_TOLERANCE = 1e-4  # max |Δ| allowed per unit of output scale: max(1, max |reference|)
AGREEMENTS = ("top1_agreement", "decision_agreement")  # proportions of inputs, so they get a Wilson interval
# the check's inputs run in slices of this many: one eager call on 240 images is 4× slower per image than slices of 8
# on this CPU (the activations of a large batch of depthwise convolutions outgrow the caches)
CHECK_SLICE = 8


class ParityError(AssertionError):
    """An fp32 runtime disagrees with eager PyTorch beyond FP32_TOLERANCE (scaled to the output's magnitude)."""


@dataclass
class Session:
    """A model loaded by one runtime at one precision and thread count, checked against fp32 on load."""

    model: ZooModel
    runtime: str
    precision: str
    threads: int
    handle: registry.Handle = field(repr=False)
    parity: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.model.name}/{self.runtime}-{self.precision}/{self.threads}t"

    @property
    def path(self):
        """The model file this session runs, when the runtime loads one."""
        return getattr(self.handle, "path", None)

    def activate(self) -> Session:
        """Apply process-wide settings (e.g. PyTorch's thread count) once before timing, not per call."""
        self.handle.activate()
        return self

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """One inference on a batch of preprocessed inputs; returns the first output. A model whose file fixes its
        batch size runs a larger batch in slices of that size."""
        sliced = in_slices(self.run, inputs, self.model.max_batch)
        return self.handle.run(inputs) if sliced is None else sliced

    def size_bytes(self) -> int:
        """Bytes of the serialized model this session runs (the model file, or the fp32 weights)."""
        return self.handle.size_bytes()


def in_slices(run, inputs: dict[str, np.ndarray], limit: int | None) -> np.ndarray | None:
    """run over slices of at most `limit` samples, concatenated; None when the batch fits in one call."""
    batch = len(next(iter(inputs.values())))
    if not limit or batch <= limit:
        return None
    return np.concatenate([run({k: v[i : i + limit] for k, v in inputs.items()}) for i in range(0, batch, limit)])


def reference(model: ZooModel, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """fp32 reference outputs, in slices: eager PyTorch on every core this process may use, or ONNX Runtime fp32 for
    an ONNX-only user model."""
    from edgecloud.models.user import UserModel

    if isinstance(model, UserModel) and model.onnx_path:
        session = ort_session(export_onnx(model), 1)
        run = lambda x: session.run(None, x)[0]  # noqa: E731
    else:
        run = lambda x: torch_forward(model.module(), x, usable_cores())  # noqa: E731
    sliced = in_slices(run, inputs, min(model.max_batch or CHECK_SLICE, CHECK_SLICE))
    return run(inputs) if sliced is None else sliced


_REFERENCES: dict[tuple, np.ndarray] = {}


def _reference_once(model: ZooModel, n: int) -> np.ndarray:
    """fp32 reference outputs of the model's first n inputs, computed once per process (every runtime and thread
    count compares with the same ones)."""
    key = (model.name, model.seed, n, getattr(model, "onnx_path", None))
    if key not in _REFERENCES:
        _REFERENCES[key] = reference(model, model.inputs(n))
    return _REFERENCES[key]


def load_session(
    model: ZooModel,
    runtime: str,
    precision: str,
    threads: int,
    calibration_samples: int = 128,
    check_samples: int = 8,
    spin_wait: bool = True,
) -> Session:
    """Load a session through the runtime registry and check it against fp32 on check_samples real inputs
    (ParityError for fp32 drift, an agreement with its interval for lower precisions)."""
    registry.check(runtime, precision)
    handle = registry.get(runtime).load(model, precision, threads, calibration_samples, spin_wait)
    session = Session(model, runtime, precision, threads, handle).activate()
    n = min(check_samples, model.distinct_inputs or check_samples)
    inputs = model.inputs(n)
    ref = _reference_once(model, n)
    out = in_slices(session.run, inputs, CHECK_SLICE)
    out = session.run(inputs) if out is None else out
    if precision == "fp32":
        diff, scale = float(np.abs(ref - out).max()), max(1.0, float(np.abs(ref).max()))
        if diff > FP32_TOLERANCE * scale:
            raise ParityError(
                f"{session.label}: max |Δ| {diff:.2e} vs eager fp32 exceeds {FP32_TOLERANCE} × output scale {scale:.1f}"
            )
        session.parity = {"metric": "max_abs_diff", "value": diff, "n": n}
    else:
        metric, value = model.agreement(ref, out)
        ci = wilson(round(value * n), n) if metric in AGREEMENTS else None
        session.parity = {"metric": metric, "value": value, "n": n, "ci": ci, "more": model.fidelity(ref, out)}
    return session

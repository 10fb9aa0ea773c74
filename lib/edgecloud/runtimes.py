"""How a model runs: PyTorch eager, ONNX Runtime fp32 and ONNX Runtime int8, behind one interface."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from edgecloud.cache import cached
from edgecloud.machine import cpu_flags
from edgecloud.models.families import SentenceEmbedder, ZooModel
from edgecloud.models.user import UserModel
from edgecloud.timing import wilson

FP32_TOLERANCE = 1e-4  # max |Δ| allowed per unit of output scale: max(1, max |reference|)
RUNTIMES = (("eager", "fp32"), ("ort", "fp32"), ("ort", "int8"))


class ParityError(AssertionError):
    """An fp32 runtime disagrees with eager PyTorch beyond FP32_TOLERANCE (scaled to the output's magnitude)."""


@dataclass
class Session:
    """A model loaded by one runtime at one precision and thread count, checked against fp32 on load."""

    model: ZooModel
    runtime: str
    precision: str
    threads: int
    path: Path | None = None
    parity: dict = field(default_factory=dict)
    _impl: object = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.model.name}/{self.runtime}-{self.precision}/{self.threads}t"

    def activate(self) -> Session:
        """Give eager PyTorch this session's thread count (process-wide, so once before timing, not per call).

        ONNX Runtime sessions own their thread pools: nothing to do."""
        if self.runtime == "eager":
            torch.set_num_threads(self.threads)
        return self

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """One inference on a batch of preprocessed inputs; returns the first output. A model whose file fixes its
        batch size runs a larger batch in slices of that size."""
        sliced = in_slices(self.run, inputs, self.model.max_batch)
        if sliced is not None:
            return sliced
        if self.runtime == "eager":
            tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}
            with torch.no_grad():
                module = self.model.module()
                out = module(**tensors) if len(tensors) > 1 else module(*tensors.values())
            return out.numpy()
        return self._impl.run(None, inputs)[0]

    def size_bytes(self) -> int:
        """Bytes of the serialized model this session runs (the ONNX file, or the fp32 weights)."""
        if self.path:
            return self.path.stat().st_size
        return sum(p.numel() * p.element_size() for p in self.model.module().parameters())


def in_slices(run, inputs: dict[str, np.ndarray], limit: int | None) -> np.ndarray | None:
    """run over slices of at most `limit` samples, concatenated; None when the batch fits in one call."""
    batch = len(next(iter(inputs.values())))
    if not limit or batch <= limit:
        return None
    return np.concatenate([run({k: v[i : i + limit] for k, v in inputs.items()}) for i in range(0, batch, limit)])


def export_onnx(model: ZooModel) -> Path:
    """The model as one self-contained fp32 ONNX file (cached): exported with a dynamic batch dimension, or a
    user's file with its external data (the pinned exporter writes weights beside it) folded in."""
    if isinstance(model, UserModel) and model.onnx_path:
        import onnx

        def consolidate(path: Path) -> None:
            onnx.save(onnx.load(str(model.onnx_path)), str(path))

        return cached({"model": model.name, "kind": "user-fp32", "source": model.source_digest()}, ".onnx", consolidate)

    def build(path: Path) -> None:
        example = tuple(torch.from_numpy(v) for v in model.inputs(2).values())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model.module(),
                example,
                str(path),
                dynamo=False,
                opset_version=17,
                input_names=list(model.input_names),
                output_names=["output"],
                dynamic_axes=model.dynamic_axes(),
            )

    return cached({"model": model.name, "kind": "fp32", "seed": model.seed}, ".onnx", build)


class _Calibration:
    """ONNX Runtime calibration reader over real model inputs, one sample at a time."""

    def __init__(self, model: ZooModel, samples: int):
        self.batches = iter([model.calibration_inputs(i) for i in range(samples)])

    def get_next(self) -> dict | None:
        return next(self.batches, None)


def has_vnni() -> bool:
    return any("vnni" in flag for flag in cpu_flags())


def quantize_int8(model: ZooModel, calibration_samples: int, method: str = "auto") -> Path:
    """Int8 ONNX: static QDQ calibrated on real inputs; by default dynamic for transformers (`make bench` measures
    both on MiniLM: static loses most of the accuracy)."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    fp32 = export_onnx(model)
    dynamic = method == "dynamic" or (method == "auto" and isinstance(model, SentenceEmbedder))
    parts = {
        "model": model.name,
        "kind": "int8-dynamic" if dynamic else "int8-static",
        "seed": model.seed,
        "calibration": 0 if dynamic else calibration_samples,
        "source": str(fp32),
    }

    def build(path: Path) -> None:
        if dynamic:
            quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8)
            return
        prepared = path.with_name(path.name + ".pre.onnx")
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)  # fold and fuse before quantizing
        quantize_static(
            str(prepared),
            str(path),
            _Calibration(model, calibration_samples),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=not has_vnni(),
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        prepared.unlink()

    logging.getLogger().setLevel(logging.ERROR)  # the quantizer logs advice through the root logger
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cached(parts, ".onnx", build)


def ort_session(path: Path, threads: int) -> ort.InferenceSession:
    """An ONNX Runtime CPU session with its own intra-op thread count and all graph optimizations."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def reference(model: ZooModel, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """fp32 reference outputs: eager PyTorch, or ONNX Runtime fp32 for an ONNX-only user model."""
    if isinstance(model, UserModel) and model.onnx_path:
        session = ort_session(export_onnx(model), 1)
        run = lambda x: session.run(None, x)[0]  # noqa: E731
        sliced = in_slices(run, inputs, model.max_batch)
        return run(inputs) if sliced is None else sliced
    tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}
    with torch.no_grad():
        out = model.module()(**tensors) if len(tensors) > 1 else model.module()(*tensors.values())
    return out.numpy()


AGREEMENTS = ("top1_agreement", "decision_agreement")  # proportions of inputs, so they get a Wilson interval
_REFERENCES: dict[tuple, np.ndarray] = {}


def _reference_once(model: ZooModel, n: int) -> np.ndarray:
    """fp32 reference outputs of the model's first n inputs, computed once per process (every runtime and thread
    count compares with the same ones)."""
    key = (model.name, model.seed, n, getattr(model, "onnx_path", None))
    if key not in _REFERENCES:
        _REFERENCES[key] = reference(model, model.inputs(n))
    return _REFERENCES[key]


def load_session(
    model: ZooModel, runtime: str, precision: str, threads: int, calibration_samples: int = 128, check_samples: int = 8
) -> Session:
    """Load a session and check it against fp32 on check_samples real inputs (ParityError for fp32 drift)."""
    if (runtime, precision) not in RUNTIMES:
        raise ValueError(f"unsupported runtime/precision {runtime}/{precision}; choose from {RUNTIMES}")
    if runtime == "eager":
        if isinstance(model, UserModel) and model.onnx_path:
            raise ValueError(f"{model.name} is an ONNX file: the eager runtime needs a torch_factory model")
        session = Session(model, runtime, precision, threads).activate()
    else:
        path = export_onnx(model) if precision == "fp32" else quantize_int8(model, calibration_samples)
        session = Session(model, runtime, precision, threads, path, _impl=ort_session(path, threads))
    n = min(check_samples, model.distinct_inputs or check_samples)
    inputs = model.inputs(n)
    ref, out = _reference_once(model, n), session.run(inputs)
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

"""The ONNX files runtimes load: a model exported once (fp32), or quantized to int8, both cached."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from edgecloud.cache import cached
from edgecloud.machine import cpu_flags

if TYPE_CHECKING:  # the models import torch: the registry imports this module to list runtimes, cheaply
    from edgecloud.models.families import ZooModel


def export_onnx(model: ZooModel) -> Path:
    """The model as one self-contained fp32 ONNX file (cached): exported with a dynamic batch dimension, or a
    user's file with its external data (the pinned exporter writes weights beside it) folded in."""
    from edgecloud.models.user import UserModel

    if isinstance(model, UserModel) and model.onnx_path:
        import onnx

        def consolidate(path: Path) -> None:
            onnx.save(onnx.load(str(model.onnx_path)), str(path))

        return cached({"model": model.name, "kind": "user-fp32", "source": model.source_digest()}, ".onnx", consolidate)

    def build(path: Path) -> None:
        import torch

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


def top5_floor() -> float:
    """The share of held-out crops on which EfficientNet-Lite0's int8 top-1 must lie in fp32's top 5: 0.99 with 8-bit
    weights (VNNI), 0.95 with the 7-bit weights that AVX2 without VNNI needs (measured on an AVX2 EPYC: 0.971; keeping
    the stem and classifier in fp32 reached 0.983, calibrating by percentile 0.975)."""
    return 0.99 if has_vnni() else 0.95


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

    from edgecloud.models.families import SentenceEmbedder

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
            reduce_range=not has_vnni(),  # 7-bit weights where VPMADDUBSW could saturate (AVX2 without VNNI)
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        prepared.unlink()

    logging.getLogger().setLevel(logging.ERROR)  # the quantizer logs advice through the root logger
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cached(parts, ".onnx", build)

"""ONNX Runtime on the CPU (MLAS kernels), fp32 or int8: the one place where ONNX Runtime sessions are made."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


def ort_session(source: Path | bytes, threads: int, profile_prefix: Path | None = None, spin_wait: bool = True):
    """An ONNX Runtime CPU session on a file or serialized model, with its own intra-op thread count and all graph
    optimizations; with profile_prefix, ONNX Runtime's profiler writes its trace there; spin_wait=False keeps its
    threads from spinning between operators (for a CPU it shares with a server's other threads)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_wait else "0")
    if profile_prefix is not None:
        opts.enable_profiling = True
        opts.profile_file_prefix = str(profile_prefix)
    model = source if isinstance(source, bytes) else str(source)
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


@dataclass
class OrtHandle:
    """An ONNX file loaded in an ONNX Runtime session."""

    path: Path
    session: object

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return self.session.run(None, inputs)[0]

    def activate(self) -> None:
        """ONNX Runtime sessions own their thread pools: nothing to do."""

    def size_bytes(self) -> int:
        return self.path.stat().st_size


class OnnxRuntime:
    """The model exported to ONNX (fp32), or quantized to int8 (static QDQ, or dynamic for transformers)."""

    name = "ort"
    precisions = ("fp32", "int8")
    requires = ("onnxruntime", "onnx")

    def load(self, model, precision: str, threads: int, calibration_samples: int, spin_wait: bool = True) -> OrtHandle:
        from edgecloud.runtimes.onnx_files import export_onnx, quantize_int8

        path = export_onnx(model) if precision == "fp32" else quantize_int8(model, calibration_samples)
        return OrtHandle(path, ort_session(path, threads, spin_wait=spin_wait))


RUNTIME = OnnxRuntime()

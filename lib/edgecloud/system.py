"""The system under test: what the machine is, and the compute and memory ceilings it reaches."""

from __future__ import annotations

import json
import os
import platform
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import numpy as np
import psutil
import torch

from edgecloud import paths
from edgecloud.params import SystemSection, Timing
from edgecloud.timing import Measurement, measure

ISA_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512_vnni",
    "avx_vnni",
    "amx_int8",
    "amx_bf16",
    "neon",
    "asimd",
    "asimddp",
    "sve",
)
PACKAGES = (
    "torch",
    "onnxruntime",
    "onnx",
    "numpy",
    "mlserver",
    "mlcommons-loadgen",
    "transformers",
    "scikit-learn",
    "pandas",
    "pyarrow",
    "papermill",
    "pydantic",
)


def usable_cores() -> int:
    """CPUs this process may run on (what a container or taskset really gives)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    path = Path("/proc/cpuinfo")
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    return info


def describe() -> dict:
    """An MLPerf-style system description (no hostname)."""
    info = _cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    return {
        "cpu_model": info.get("model name") or platform.processor() or platform.machine(),
        "architecture": platform.machine(),
        "physical_cores": psutil.cpu_count(logical=False),
        "logical_cpus": psutil.cpu_count(logical=True),
        "usable_cpus": usable_cores(),
        "isa_flags": " ".join(f for f in ISA_FLAGS if f in flags),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "rapl_readable": rapl_path() is not None,
        **{f"version_{p}": _version(p) for p in PACKAGES},
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def rapl_path() -> Path | None:
    """The package-energy counter of Intel/AMD RAPL, if this process may read it."""
    path = Path("/sys/class/powercap/intel-rapl:0/energy_uj")
    try:
        path.read_text()
        return path
    except OSError:
        return None


@contextmanager
def torch_threads(n: int):
    """Run a block with n intra-op torch threads, restoring the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def gemm(size: int, threads: int, timing: Timing) -> Measurement:
    """Time an fp32 size×size MatMul in ONNX Runtime (MLAS), the kernel library that runs the models."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    b = numpy_helper.from_array(rng.random((size, size), dtype=np.float32), "B")
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [size, size]) for n in ("A", "C")]
    graph = helper.make_graph([helper.make_node("MatMul", ["A", "B"], ["C"])], "gemm", io[:1], io[1:], [b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    a = {"A": rng.random((size, size), dtype=np.float32)}
    return measure(
        lambda: session.run(None, a),
        f"gemm-{size}-{threads}t",
        timing,
        {"kernel": "gemm", "size": size, "threads": threads, "flop": 2 * size**3},
    )


def triad(mib: int, threads: int, timing: Timing) -> Measurement:
    """Time a STREAM triad a = b + s·c on fp32 arrays of mib MiB each."""
    n = mib * 2**20 // 4
    a, b, c = torch.empty(n), torch.rand(n), torch.rand(n)
    with torch_threads(threads):
        return measure(
            lambda: torch.add(b, c, alpha=3.0, out=a),
            f"triad-{mib}MiB-{threads}t",
            timing,
            {"kernel": "triad", "mib": mib, "threads": threads, "bytes": 3 * 4 * n},
        )


def timer_resolution_ns(tries: int = 10_000) -> float:
    """The smallest non-zero step between two perf_counter_ns readings."""
    steps = np.diff([time.perf_counter_ns() for _ in range(tries)])
    return float(steps[steps > 0].min())


def ceilings(section: SystemSection, threads: list[int], timing: Timing) -> list[Measurement]:
    """GEMM and triad measurements for each thread count, plus the empty-call overhead of measure()."""
    repeat = timing.model_copy(update={"min_count": max(timing.min_count, section.ceiling_repeats)})
    out: list[Measurement] = []
    for t in threads:
        out.append(gemm(section.gemm_size, t, repeat))
        out.append(triad(section.triad_mib, t, repeat))
    out.append(
        measure(
            lambda: None,
            "empty-call",
            timing.model_copy(update={"min_count": 1000}),
            {"kernel": "empty-call", "threads": 1},
        )
    )
    return out


def ceiling_table(measurements: list[Measurement]) -> list[dict]:
    """Rates from ceiling measurements: GFLOP/s for GEMM and GB/s for triad, at the median and its CI."""
    rows = []
    for m in measurements:
        kind = m.config["kernel"]
        if kind == "empty-call":
            continue
        work, unit = (m.config["flop"] / 1e9, "GFLOP/s") if kind == "gemm" else (m.config["bytes"] / 1e9, "GB/s")
        p50 = m.percentiles["p50"]
        rows.append(
            {
                "kernel": kind,
                "threads": m.config["threads"],
                "unit": unit,
                "rate": work / p50.value,
                "rate_low": work / p50.high,
                "rate_high": work / p50.low,
                "n": m.n,
                "warnings": "; ".join(m.warnings),
            }
        )
    return rows


CEILINGS_ARTIFACT = "ceilings.json"


def save_ceilings(measurements: list[Measurement], resolution_ns: float) -> dict:
    """Write the ceilings later notebooks need (peak GFLOP/s and GB/s per thread count) as JSON."""
    rows = ceiling_table(measurements)
    empty = next(m for m in measurements if m.config["kernel"] == "empty-call")
    out = {
        "gemm_gflops": {str(r["threads"]): r["rate"] for r in rows if r["kernel"] == "gemm"},
        "triad_gbs": {str(r["threads"]): r["rate"] for r in rows if r["kernel"] == "triad"},
        "timer_resolution_ns": resolution_ns,
        "measure_overhead_ns": empty.median * 1e9,
    }
    paths.artifact(CEILINGS_ARTIFACT).write_text(json.dumps(out, indent=1))
    return out


def load_ceilings() -> dict:
    """Ceilings measured by notebook 00, or a clear error saying to run it first."""
    return json.loads(paths.require(CEILINGS_ARTIFACT, "00-system-under-test").read_text())

"""The compute and memory ceilings this machine reaches (what the machine is: edgecloud.machine)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import psutil
import torch

from edgecloud.machine import cpu_flags
from edgecloud.params import SystemSection, Timing
from edgecloud.results.store import Config
from edgecloud.timing import Measurement, measure


@contextmanager
def torch_threads(n: int):
    """Run a block with n intra-op torch threads, restoring the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class Kernel:
    """A timed kernel and the work one call does: GFLOP for a GEMM, GB moved for the triad."""

    measurement: Measurement
    work_g: float

    def peak_rate(self) -> float:
        """Work per second of the fastest repeat: a ceiling is the best the machine did, not its typical run."""
        return self.work_g / float(np.min(self.measurement.samples))


def gemm(size: int, threads: int, timing: Timing) -> Kernel:
    """Time an fp32 size×size MatMul in ONNX Runtime (MLAS), the kernel library that runs the models."""
    from onnx import TensorProto, helper, numpy_helper

    from edgecloud.runtimes.ort import ort_session

    rng = np.random.default_rng(0)
    b = numpy_helper.from_array(rng.random((size, size), dtype=np.float32), "B")
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [size, size]) for n in ("A", "C")]
    graph = helper.make_graph([helper.make_node("MatMul", ["A", "B"], ["C"])], "gemm", io[:1], io[1:], [b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort_session(model.SerializeToString(), threads)
    a = {"A": rng.random((size, size), dtype=np.float32)}
    m = measure(lambda: session.run(None, a), Config(stage="gemm", input_size=size, threads=threads), timing)
    return Kernel(m, 2 * size**3 / 1e9)


def triad(mib: int, threads: int, timing: Timing) -> Kernel:
    """Time a STREAM triad a = b + s·c on fp32 arrays of mib MiB each."""
    n = mib * 2**20 // 4
    a, b, c = torch.empty(n), torch.rand(n), torch.rand(n)
    with torch_threads(threads):
        m = measure(lambda: torch.add(b, c, alpha=3.0, out=a), Config(stage="triad", threads=threads), timing)
    return Kernel(m, 3 * 4 * n / 1e9)


def timer_resolution_ns(tries: int = 10_000) -> float:
    """The smallest non-zero step between two perf_counter_ns readings."""
    steps = np.diff([time.perf_counter_ns() for _ in range(tries)])
    return float(steps[steps > 0].min())


def ceilings(section: SystemSection, threads: list[int], timing: Timing) -> list[Kernel]:
    """GEMM at several shapes and the triad, for each thread count."""
    repeat = timing.model_copy(update={"min_count": max(timing.min_count, section.ceiling_repeats)})
    out: list[Kernel] = []
    for t in threads:
        out.extend(gemm(size, t, repeat) for size in gemm_sizes(section.gemm_size))
        out.append(triad(section.triad_mib, t, repeat))
    return out


def loop_overhead(timing: Timing) -> Measurement:
    """What the timing loop itself costs: measure() around an empty call."""
    return measure(lambda: None, Config(stage="timing loop"), timing.model_copy(update={"min_count": 1000}))


def gemm_sizes(size: int) -> tuple[int, ...]:
    """The GEMM shapes tried: half, one and one and a half times the configured side (kernels peak at different
    sizes)."""
    return tuple(sorted({max(64, size // 2), size, size * 3 // 2}))


def theoretical_peak_gflops(threads: int) -> tuple[float, str] | None:
    """fp32 peak from the ISA: cores × maximum clock × FLOPs per cycle (two FMA units assumed), or None when the
    maximum clock or the vector width cannot be read (the current clock is no bound: boost exceeds it)."""
    flags = cpu_flags()
    freq = psutil.cpu_freq()
    width = 16 if "avx512f" in flags else 8 if "avx2" in flags and "fma" in flags else 0
    if not freq or not freq.max or not width:
        return None
    flops_per_cycle = width * 2 * 2  # lanes × 2 FLOPs per FMA × 2 FMA units
    return (
        threads * freq.max / 1e3 * flops_per_cycle,
        f"{threads} cores × {freq.max / 1e3:.2f} GHz maximum clock × {flops_per_cycle} FLOP/cycle "
        f"({'AVX-512' if width == 16 else 'AVX2'} FMA, two units assumed)",
    )

"""Notebook 00: the machine's compute and memory ceilings, the clock and the timing loop, recorded in the store."""

from __future__ import annotations

from edgecloud import notebooks, system
from edgecloud.params import Shared, SystemSection
from edgecloud.results.store import Config, Recorder

NOTEBOOK = notebooks.of_experiment(__name__)


def measure_ceilings(section: SystemSection, shared: Shared, rec: Recorder) -> None:
    """GEMM peak per shape and thread count, triad bandwidth, the ISA peak, clock resolution and loop overhead."""
    for k in system.ceilings(section, shared.threads, shared.timing):
        m, p50 = k.measurement, k.measurement.percentiles["p50"]
        metric, unit = ("gemm_rate", "GFLOP/s") if m.config.stage == "gemm" else ("triad_bandwidth", "GB/s")
        ci = (k.work_g / p50.high, k.work_g / p50.low)
        rec.add(metric, k.work_g / p50.value, unit, m.config, ci=ci, n=m.n, noisy=m.noisy)
        rec.add(f"{metric}_peak", k.peak_rate(), unit, m.config, n=m.n)
    loop = system.loop_overhead(shared.timing)
    rec.add("measure_overhead", loop.median * 1e9, "ns", loop.config, n=loop.n, noisy=loop.noisy)
    for t in shared.threads:
        peak = system.theoretical_peak_gflops(t)
        if peak:
            rec.add("isa_peak", peak[0], "GFLOP/s", Config(threads=t, stage="gemm"), "modeled", source=peak[1])
    rec.add("timer_resolution", system.timer_resolution_ns(), "ns", Config(stage="clock"))

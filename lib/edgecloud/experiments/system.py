"""Notebook 00: the machine's compute and memory ceilings, the clock and the timing loop, recorded in the store."""

from __future__ import annotations

from edgecloud import notebooks, system
from edgecloud.params import Shared, SystemSection
from edgecloud.results.store import Config, Recorder

NOTEBOOK = notebooks.of_experiment(__name__)


def measure_ceilings(section: SystemSection, shared: Shared, rec: Recorder) -> None:
    """GEMM peak per shape and thread count, triad bandwidth, the ISA peak, clock resolution and loop overhead."""
    for m in system.ceilings(section, shared.threads, shared.timing):
        kernel = m.config["kernel"]
        if kernel == "empty-call":
            rec.add("measure_overhead", m.median * 1e9, "ns", Config(stage="timing loop"), n=m.n, noisy=m.noisy)
            continue
        work = m.config["flop"] / 1e9 if kernel == "gemm" else m.config["bytes"] / 1e9
        p50 = m.percentiles["p50"]
        metric, unit = ("gemm_rate", "GFLOP/s") if kernel == "gemm" else ("triad_bandwidth", "GB/s")
        cfg = Config(threads=m.config["threads"], input_size=m.config.get("size"), stage=kernel)
        rec.add(metric, work / p50.value, unit, cfg, ci=(work / p50.high, work / p50.low), n=m.n, noisy=m.noisy)
        rec.add(f"{metric}_peak", system.peak_rate(m), unit, cfg, n=m.n)
    for t in shared.threads:
        peak = system.theoretical_peak_gflops(t)
        if peak:
            rec.add("isa_peak", peak[0], "GFLOP/s", Config(threads=t, stage="gemm"), "modeled", source=peak[1])
    rec.add("timer_resolution", system.timer_resolution_ns(), "ns", Config(stage="clock"))

"""Notebook 00: what the ceilings and the timing loop mean."""

from __future__ import annotations

import pandas as pd

from edgecloud.results import query, tables
from edgecloud.sentences import NEGLIGIBLE, escaped


@escaped
def ceilings(rows: pd.DataFrame, threads: list[int]) -> str:
    """The roofline in numbers: best GEMM and triad, thread scaling, ridge point, share of the ISA peak."""
    top, low = max(threads), min(threads)
    hi, lo = tables.ceiling(rows, top), tables.ceiling(rows, low)
    ridge = hi["gflops"] / hi["gbs"]
    text = (
        f"**Measured:** the best fp32 GEMM over shapes and repeats reaches **{hi['gflops']:.1f} GFLOP/s** at {top} "
        f"threads ({hi['gflops'] / lo['gflops']:.2f}× the {low}-thread rate), and the triad moves "
        f"**{hi['gbs']:.1f} GB/s**. The ridge point is **{ridge:.1f} FLOP/byte**: a layer doing fewer FLOPs per byte "
        "it touches is memory-bound here, one doing more is compute-bound."
    )
    isa = query.select(rows, "isa_peak", threads=top)
    if len(isa):
        peak = float(isa.value.iloc[0])
        text += (
            f" That is **{hi['gflops'] / peak:.0%}** of the instruction set's theoretical peak of {peak:.0f} GFLOP/s "
            f"(*modeled*: {isa.source.iloc[0]})."
        )
    else:
        text += " The instruction set's theoretical peak cannot be derived here: the maximum clock is not reported."
    return text


@escaped
def loop_overhead(rows: pd.DataFrame) -> str:
    """The clock's resolution and the timing loop's cost, and the latency above which that cost is negligible."""
    res = query.value(rows, "timer_resolution")
    cost = query.value(rows, "measure_overhead")
    floor_us = cost / NEGLIGIBLE / 1e3
    return (
        f"**Measured:** `perf_counter_ns` resolves **{res:.0f} ns**; the timing loop around an empty call costs "
        f"**{cost:.0f} ns** per sample (median). It is under {NEGLIGIBLE:.0%} of any latency above "
        f"**{floor_us:.0f} µs**; notebook 01 checks the fastest model call against it."
    )

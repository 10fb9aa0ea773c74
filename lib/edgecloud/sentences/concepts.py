"""Notebook 01: what the runtimes, stages, architectures and sweeps show."""

from __future__ import annotations

import pandas as pd

from edgecloud.results import query
from edgecloud.sentences import NEGLIGIBLE, compare_p50, escaped, ms
from edgecloud.timing import Estimate


@escaped
def overhead_against(mech: pd.DataFrame, system_rows: pd.DataFrame) -> str:
    """Whether the timing loop's cost is negligible next to the fastest call measured."""
    quickest = mech.loc[mech.p50_ms.idxmin()]
    share = query.value(system_rows, "measure_overhead") / 1e6 / quickest.p50_ms
    verdict = "negligible" if share < NEGLIGIBLE else "**not negligible**: read the fastest latencies with care"
    return (
        f"The timing loop costs {share:.2%} of the fastest call measured ({quickest.model} {quickest.config}, "
        f"{ms(quickest.p50_ms)}): {verdict}."
    )


@escaped
def anatomy(table: pd.DataFrame) -> str:
    """The model's share of each request, and what the rest is."""
    model = table[table.stage == "model"].set_index("request").share
    parts = ", ".join(f"**{share:.0%}** of a {req} request" for req, share in model.items())
    other = table[table.stage != "model"].sort_values("p50_ms").iloc[-1]
    return (
        f"**Measured:** the model is {parts}. The largest other stage is *{other.stage}* ({ms(other.p50_ms)}, "
        f"{other.request}): it runs wherever the raw input arrives, so it moves to the cloud with the model or stays "
        "on the edge with it."
    )


@escaped
def fastest(rows: pd.DataFrame, mech: pd.DataFrame) -> str:
    """Per model, the fastest configuration, and whether it beats the runner-up beyond noise (the difference notebook
    01 stored, with its interval)."""
    lines = []
    gaps = query.select(rows, "p50_gap_to_runner_up").set_index("model")
    for model, group in mech.groupby("model", sort=False):
        a = group.sort_values("p50_ms").iloc[0]
        line = f"- **{model}**: {a.config} at {a.threads} threads, {ms(a.p50_ms)} p50"
        if model in gaps.index:
            g = gaps.loc[model]
            d = Estimate(float(g.value), float(g.ci_low), float(g.ci_high))
            line += "; " + compare_p50(f"{a.config}@{a.threads}t", g.note, d)
        lines.append(line)
    return "**Measured**, fastest configuration per model (batch 1):\n" + "\n".join(lines)


@escaped
def int8_fidelity(fid: pd.DataFrame) -> str:
    """Per real or trained model, int8's agreement with fp32 with its Wilson CI; for image classifiers, how far a
    flipped answer lands and whether flips happen where fp32 itself is unsure."""
    lines = []
    for model, r in fid.iterrows():
        line = (
            f"- **{model}**: {r.metric.replace('_', ' ')} **{r.agreement:.3f}** (Wilson CI {r.ci_low:.3f}–"
            f"{r.ci_high:.3f}, n={r.n:.0f})"
        )
        if pd.notna(r.top1_in_fp32_top5):
            line += (
                f"; int8's top-1 is among fp32's top 5 for {r.top1_in_fp32_top5:.1%} of inputs, and where fp32 is "
                f"confident ({r.confident_share:.0%} of them) the agreement is {r.top1_agreement_confident:.3f}"
            )
        lines.append(line)
    return "**Measured** on held-out inputs that calibration never saw:\n" + "\n".join(lines)


def int8(mech: pd.DataFrame, threads: int) -> str:
    """int8's speed-up over eager fp32 (with CI) and what it costs in agreement or task quality."""
    lines = []
    for r in mech[(mech.precision == "int8") & (mech.threads == threads)].itertuples():
        ci = f" (CI {r.speedup_low:.2f}–{r.speedup_high:.2f})" if pd.notna(r.speedup_low) else ""
        faster = "faster" if r.speedup_vs_eager >= 1 else "slower"
        factor = r.speedup_vs_eager if faster == "faster" else 1 / r.speedup_vs_eager
        line = (
            f"- **{r.model}**: int8 runs **{factor:.2f}×** {faster} than eager fp32{ci}; "
            f"{r.parity_metric.replace('_', ' ')} with fp32 **{r.parity:.3f}**"
        )
        if pd.notna(r.parity_low):
            line += f" (Wilson CI {r.parity_low:.3f}–{r.parity_high:.3f}, n={r.n_parity:.0f})"
        line += f" ({r.parity_meaning})"
        if r.quality_metric:
            line += f"; {r.quality_metric.replace('_', ' ')} **{r.quality:.3f}**"
        lines.append(line)
    return f"**Measured** at {threads} threads, batch 1:\n" + "\n".join(lines)


@escaped
def architecture(arch: pd.DataFrame) -> str:
    """Models faster than the compute floor (the ceiling is then no ceiling), and each side of the roofline's ridge."""
    over = arch[arch.beats_ceiling]
    if over.empty:
        worst = arch.floor_ratio.idxmin()
        text = (
            f"No model beats the ceiling; the closest is **{worst}** at {arch.floor_ratio[worst]:.1f}× its compute "
            f"floor ({arch.achieved_gflops[worst]:.1f} GFLOP/s achieved)."
        )
    else:
        names = ", ".join(f"{m} ({r:.2f}×)" for m, r in over.floor_ratio.items())
        text = (
            f"**Flag:** {names} ran faster than the measured GEMM ceiling allows, so that ceiling underestimates peak."
        )
    sides = {b: ", ".join(arch.index[arch.bound == b]) or "none" for b in ("memory", "compute")}
    best = arch.roof_share.idxmax()
    return text + (
        f" **Modeled roofline** (FLOPs per byte of fp32 weights, each read once from memory): memory-bound, left of "
        f"the ridge: {sides['memory']}; compute-bound: {sides['compute']}. The closest to its roof is **{best}** at "
        f"{arch.roof_share[best]:.0%}; a small model whose weights fit in cache is not held to DRAM bandwidth at all."
    )


@escaped
def noise(mech: pd.DataFrame) -> str:
    """How many measurements were noisy, and what the cold-start column means."""
    return (
        f"{int(mech.noisy.astype(bool).sum())} of {len(mech)} measurements were flagged noisy (IQR/median > 10%). "
        "`load_time` is the cold start: export or quantization from the cache, session creation and the fp32 check."
    )


@escaped
def accuracy(images: pd.DataFrame, figures: dict) -> str:
    """Which image classifiers are on the latency–accuracy front, with the published figures' sources."""
    sources = "; ".join(f"{n}: {f.value}% ({f.cite()})" for n, f in figures.items() if n in images.index)
    return f"Sources: {sources}. On the front: **{', '.join(images.index[images.on_front])}**."


@escaped
def sweep(sweeps: pd.DataFrame, model: str) -> str:
    """How latency grows with input size, and what batching buys in samples per second."""
    size = sweeps[(sweeps.model == model) & (sweeps.axis == "size")].sort_values("size")
    batch = sweeps[(sweeps.model == model) & (sweeps.axis == "batch")].sort_values("batch")
    first, last = size.iloc[0], size.iloc[-1]
    gain = batch.samples_per_s.iloc[-1] / batch.samples_per_s.iloc[0]
    what = "gives" if gain >= 1 else "costs"
    return (
        f"**Measured:** {model} takes **{ms(first.p50_ms)}** at input size {first['size']:.0f} and "
        f"**{ms(last.p50_ms)}** at {last['size']:.0f} ({last.p50_ms / first.p50_ms:.1f}×). Batching "
        f"{batch.batch.iloc[-1]:.0f} samples per call {what} **{gain:.2f}×** the samples per second of batch 1."
    )

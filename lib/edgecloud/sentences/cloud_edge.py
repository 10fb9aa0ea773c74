"""Notebook 02: payload, batching, cloud against edge, the network model, LoadGen and energy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from edgecloud.decisions import choices
from edgecloud.results import query, tables
from edgecloud.sentences import compare_p50, escaped, ms
from edgecloud.timing import Estimate
from edgecloud.vocabulary import CLOUD_CPU_FP32, CLOUD_GPU, CLOUD_REMOTE


@escaped
def payload(rows: pd.DataFrame, cloud: pd.DataFrame, choice: choices.PayloadChoice) -> str:
    """Which payload to send and why, whether its serving overhead differs from zero beyond noise, and whether the
    payload format or the server costs more."""
    over = query.select(rows, "serving_overhead_p50", protocol=choice.protocol, payload=choice.payload).iloc[0]
    spread = cloud["p50 ms"].max() - cloud["p50 ms"].min()
    if over.ci_high < 0:
        sign = "below zero beyond noise: the served path ran faster than the same work in this process"
    elif over.ci_low <= 0:
        sign = "not different from zero beyond noise"
    else:
        sign = "a cost beyond noise"
    bigger = (
        "the payload format costs more than the server"
        if spread > max(over.value, 0)
        else "the server's overhead costs more than the choice of payload format"
    )
    return (
        f"**Measured:** send **{choice.payload} over {choice.protocol}**: its loopback p50 plus the time its "
        f"{choice.up_bytes / 1e3:.1f} kB up and {choice.down_bytes / 1e3:.1f} kB down take across the network "
        f"profiles averages {ms(choice.score_ms)}, against {ms(choice.runner_up_ms)} for {choice.runner_up}. "
        f"Its serving overhead over in-process is **{over.value:+.3g} ms** (CI {over.ci_low:+.3g} to "
        f"{over.ci_high:+.3g}), {sign}. The payloads span {ms(spread)} at p50 on loopback: {bigger}."
    )


@escaped
def batching(conc: pd.DataFrame, threads: int) -> str:
    """What adaptive batching costs a lone request and buys under load."""
    c = conc.set_index(["scenario", "concurrency"])
    lo, hi = conc.concurrency.min(), conc.concurrency.max()
    window = c.loc[("batched", lo), "p50_ms"] - c.loc[("unbatched", lo), "p50_ms"]
    gain = c.loc[("batched", hi), "throughput_rps"] / c.loc[("unbatched", hi), "throughput_rps"]
    effect = f"gives **{gain:.2f}×** the throughput" if gain > 1 else f"does not raise throughput ({gain:.2f}×)"
    return (
        f"**Measured:** with {lo} client the batching window costs **{window:+.2f} ms** at p50; at {hi} clients "
        f"adaptive batching {effect} of batch-1 serving (mean batch {c.loc[('batched', hi), 'mean_batch']:.1f}), on "
        f"{threads} server threads that share this machine's cores with the clients."
    )


@escaped
def cloud_vs_edge(rows: pd.DataFrame) -> tuple[str, list[str]]:
    """Per profile (warm connection), modeled cloud p50 minus the fastest edge target's measured p50 with the CI of
    their difference, as notebook 02 stored it; returns the sentence and the profiles where the cloud is faster
    beyond noise."""
    diffs = query.select(rows, "p50_minus_edge", scenario="warm connection")
    edge = choices.fastest_edge(rows)
    wins = list(diffs.network[diffs.ci_high < 0])
    ties = list(diffs.network[(diffs.ci_low <= 0) & (diffs.ci_high >= 0)])
    lines = [f"{r.network} {r.value:+.3g} ms (CI {r.ci_low:+.3g} to {r.ci_high:+.3g})" for r in diffs.itertuples()]
    text = (
        f"**Modeled** cloud p50 minus the fastest edge target's measured p50 ({edge.target}, {ms(edge.value)}), "
        f"warm connection: {'; '.join(lines)}. The cloud is faster beyond noise on "
        f"**{', '.join(wins) if wins else 'no profile'}**"
        + (f"; no difference beyond noise on {', '.join(ties)}" if ties else "")
        + ". Here the cloud computes on the same cores as the edge, so this compares serving and network cost only,"
        " not faster cloud hardware."
    )
    return text, wins


@escaped
def emulation(emu: pd.DataFrame) -> str:
    """The network model's largest errors against emulation at p50 and p90, and how many profiles meet the targets
    (p50 within 10%, p90 within 15%)."""
    text = f"**Measured vs modeled** ({emu.method.iloc[0]}, loss on, {int(emu.n.iloc[0])} requests per profile): "
    parts = []
    for q, bound in (("p50", 0.10), ("p90", 0.15)):
        err = emu[f"error_{q}"]
        worst = err.abs().idxmax()
        ci = (emu[f"error_{q}_low"][worst], emu[f"error_{q}_high"][worst])
        interval = f", CI {ci[0]:+.1%} to {ci[1]:+.1%}" if all(map(math.isfinite, ci)) else ""
        inside = int((err.abs() <= bound).sum())
        parts.append(
            f"at {q} the largest error is **{err[worst]:+.1%}** ({worst}{interval}) and {inside} of {len(emu)} "
            f"profiles are within {bound:.0%}"
        )
    p99 = emu.error_p99.abs()
    return (
        text
        + "; ".join(parts)
        + f". At p99 (too few samples beyond it for a CI) the error ranges {p99.min():.0%} to {p99.max():.0%}."
    )


@escaped
def loadgen(lg: pd.DataFrame, bound_ms: float) -> str:
    """INVALID runs with LoadGen's reasons, and the headline Server rate from VALID runs only."""
    invalid = lg[~lg.valid.astype(bool)]
    reasons = invalid["why INVALID"].str.split("; ").explode()
    reasons = reasons[~reasons.str.startswith("early stopping needs")].value_counts()
    why = ", ".join(f"{reason} ({count})" for reason, count in reasons.items())
    peak = tables.server_peaks(lg, bound_ms)
    head = ", ".join(
        f"**{t}: {r.target_qps:.0f} QPS** (p99 {r.p99_ms:.3g} ms ≤ {r.bound_ms:g} ms)" for t, r in peak.iterrows()
    )
    text = f"**Measured:** {len(invalid)} of {len(lg)} LoadGen runs are INVALID by LoadGen's own rules"
    text += f" ({why})." if len(invalid) else "."
    return text + f" Highest VALID Server rate whose p99 met the run's bound: {head or 'none'}."


@escaped
def energy(rows: pd.DataFrame) -> str:
    """Energy per inference where RAPL could be read, with what it includes; otherwise say it was not measured."""
    e = query.select(rows, "energy_per_inference")
    if e.empty:
        return (
            "**Not measured:** RAPL is not readable here, so this machine's energy is unknown. No other device's power "
            "is multiplied by this machine's latency: energy per inference needs one device's power and that same "
            "device's latency."
        )
    r = e.iloc[0]
    return f"**Measured** (RAPL): **{r.value * 1e3:.1f} mJ** per request at {r.concurrency} clients; {r.note}."


@escaped
def other_targets(rows: pd.DataFrame, remote_url: str | None, cuda: bool) -> str:
    """Which of cloud-cpu-fp32, cloud-remote and cloud-gpu ran, and why not."""
    ran = set(rows.target.dropna())
    cost = query.select(rows, "precision_cost_p50", target=CLOUD_CPU_FP32)
    fp32 = (
        "- cloud-cpu-fp32 is the same server's model at fp32, a labelled extra; requests alternating, "
        + compare_p50("served fp32", "served int8", Estimate(*cost[["value", "ci_low", "ci_high"]].iloc[0]))
        + ". Every cloud-against-edge comparison serves int8, as the edge runs it, so precision stays out of it.\n"
        if len(cost)
        else ""
    )
    remote = (
        f"- cloud-remote measured at `{remote_url}`."
        if CLOUD_REMOTE in ran
        else "- **cloud-remote skipped:** no `remote_url` in params."
    )
    gpu = (
        "- cloud-gpu measured with CUDA events."
        if CLOUD_GPU in ran
        else "- **cloud-gpu skipped:** no CUDA device on this machine (torch.cuda.is_available() is False)."
        if not cuda
        else "- **cloud-gpu not measured.**"
    )
    return f"{fp32}{remote}\n{gpu}"


@escaped
def cloud_edge_summary(
    rows: pd.DataFrame,
    cloud: pd.DataFrame,
    choice: choices.PayloadChoice,
    wins: list[str],
    conc: pd.DataFrame,
    emu: pd.DataFrame,
) -> str:
    """Notebook 02's findings for the report's run summary."""
    edge = choices.fastest_edge(rows)
    label, p50 = edge.target, edge.value
    best = cloud.loc[(choice.protocol, choice.payload)]
    c = conc.set_index(["scenario", "concurrency"])
    hi = conc.concurrency.max()
    gain = c.loc[("batched", hi), "throughput_rps"] / c.loc[("unbatched", hi), "throughput_rps"]
    return "\n".join(
        [
            f"- **Edge vs cloud (measured):** fastest edge target {label} {ms(p50)} p50; cloud-cpu over loopback "
            f"{ms(best['p50 ms'])} with {choice.payload} over {choice.protocol} (serving overhead "
            f"{best['overhead p50 ms']:+.3g} ms, CI {best['overhead CI']}).",
            f"- **Network (modeled; against emulation, the largest error {worst_error(emu, 'p50')} at p50 and "
            f"{worst_error(emu, 'p90')} at p90):** the cloud is "
            f"faster than the fastest edge target beyond noise on {', '.join(wins) if wins else 'no profile'} "
            "(same cores).",
            f"- **Adaptive batching (measured):** {gain:.2f}× the throughput of batch-1 serving at {hi} clients.",
        ]
    )


def worst_error(emu: pd.DataFrame, q: str) -> str:
    """The network model's largest error against emulation at q: its sign, profile and interval (none for a thin
    tail), so a small sample's miss reads as one."""
    name = emu[f"error_{q}"].abs().idxmax()
    e, low, high = emu.loc[name, [f"error_{q}", f"error_{q}_low", f"error_{q}_high"]]
    ci = f", CI {low:+.0%} to {high:+.0%}" if np.isfinite(low) else ""
    return f"{e:+.0%} ({name}{ci})"

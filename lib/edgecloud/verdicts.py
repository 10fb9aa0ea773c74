"""Sentences that conclude something, rendered from results so prose can never disagree with data.

Each takes store rows or tables (edgecloud.results.tables) and returns Markdown. Where a verdict compares two
numbers it says whether their difference exceeds its uncertainty (a block-bootstrap interval).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TypeVar

import pandas as pd

from edgecloud.results import tables
from edgecloud.results.store import Config
from edgecloud.timing import Estimate, difference

T = TypeVar("T")
NEGLIGIBLE = 0.01  # an overhead under 1% of what it rides on is negligible


def escape(text: str) -> str:
    """Markdown that can show any user-given name as text: <, > and & never become HTML (sentences use none)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escaped(fn: Callable[..., T]) -> Callable[..., T]:
    """A verdict whose sentence (alone or first of a tuple) is escaped: names from params are shown, never run."""

    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> T:
        out = fn(*args, **kwargs)
        return (escape(out[0]), *out[1:]) if isinstance(out, tuple) else escape(out)

    return wrapper


def _ms(x: float) -> str:
    return f"{x:.3g} ms" if x < 100 else f"{x:,.0f} ms"


def compare_p50(a_label: str, b_label: str, d: Estimate, unit: str = "ms") -> str:
    """'a is faster than b by …', the reverse, or 'no difference beyond noise', from the CI of p50(a) − p50(b)."""
    if d.high < 0:
        return f"{a_label} is faster than {b_label} by {-d.value:.3g} {unit} (CI {-d.high:.3g} to {-d.low:.3g})"
    if d.low > 0:
        return f"{b_label} is faster than {a_label} by {d.value:.3g} {unit} (CI {d.low:.3g} to {d.high:.3g})"
    return f"{a_label} and {b_label} do not differ beyond noise ({d.low:+.3g} to {d.high:+.3g} {unit})"


# --- notebook 00 ---------------------------------------------------------------------------------------------


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
    isa = tables.select(rows, "isa_peak", threads=top)
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
    res = tables.value(rows, "timer_resolution")
    cost = tables.value(rows, "measure_overhead")
    floor_us = cost / NEGLIGIBLE / 1e3
    return (
        f"**Measured:** `perf_counter_ns` resolves **{res:.0f} ns**; the timing loop around an empty call costs "
        f"**{cost:.0f} ns** per sample (median). It is under {NEGLIGIBLE:.0%} of any latency above "
        f"**{floor_us:.0f} µs**; notebook 01 checks the fastest model call against it."
    )


# --- notebook 01 ---------------------------------------------------------------------------------------------


@escaped
def overhead_against(mech: pd.DataFrame, system_rows: pd.DataFrame) -> str:
    """Whether the timing loop's cost is negligible next to the fastest call measured."""
    quickest = mech.loc[mech.p50_ms.idxmin()]
    share = tables.value(system_rows, "measure_overhead") / 1e6 / quickest.p50_ms
    verdict = "negligible" if share < NEGLIGIBLE else "**not negligible**: read the fastest latencies with care"
    return (
        f"The timing loop costs {share:.2%} of the fastest call measured ({quickest.model} {quickest.config}, "
        f"{_ms(quickest.p50_ms)}): {verdict}."
    )


@escaped
def anatomy(table: pd.DataFrame) -> str:
    """The model's share of each request, and what the rest is."""
    model = table[table.stage == "model"].set_index("request").share
    parts = ", ".join(f"**{share:.0%}** of a {req} request" for req, share in model.items())
    other = table[table.stage != "model"].sort_values("p50_ms").iloc[-1]
    return (
        f"**Measured:** the model is {parts}. The largest other stage is *{other.stage}* ({_ms(other.p50_ms)}, "
        f"{other.request}): it runs wherever the raw input arrives, so it moves to the cloud with the model or stays "
        "on the edge with it."
    )


@escaped
def fastest(mech: pd.DataFrame, samples: pd.DataFrame, confidence: float) -> str:
    """Per model, the fastest configuration, and whether it beats the runner-up beyond noise."""
    lines = []
    for model, group in mech.groupby("model", sort=False):
        ranked = group.sort_values("p50_ms")
        a = ranked.iloc[0]
        line = f"- **{model}**: {a.config} at {a.threads} threads, {_ms(a.p50_ms)} p50"
        if len(ranked) > 1:
            b = ranked.iloc[1]
            cfg = Config(model=model, batch=1, scenario="runtimes")
            d = difference(
                tables.samples_of(samples, cfg.with_(runtime=a.runtime, precision=a.precision, threads=a.threads)),
                tables.samples_of(samples, cfg.with_(runtime=b.runtime, precision=b.precision, threads=b.threads)),
                50,
                confidence,
                500,
            )
            line += "; " + compare_p50(f"{a.config}@{a.threads}t", f"{b.config}@{b.threads}t", d)
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
        f"**Measured:** {model} takes **{_ms(first.p50_ms)}** at input size {first['size']:.0f} and "
        f"**{_ms(last.p50_ms)}** at {last['size']:.0f} ({last.p50_ms / first.p50_ms:.1f}×). Batching "
        f"{batch.batch.iloc[-1]:.0f} samples per call {what} **{gain:.2f}×** the samples per second of batch 1."
    )


# --- notebook 02 ---------------------------------------------------------------------------------------------


@escaped
def payload(rows: pd.DataFrame, cloud: pd.DataFrame, choice: tables.PayloadChoice) -> str:
    """Which payload to send and why, whether its serving overhead differs from zero beyond noise, and whether the
    payload format or the server costs more."""
    over = tables.select(rows, "serving_overhead_p50", protocol=choice.protocol, payload=choice.payload).iloc[0]
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
        f"profiles averages {_ms(choice.score_ms)}, against {_ms(choice.runner_up_ms)} for {choice.runner_up}. "
        f"Its serving overhead over in-process is **{over.value:+.3g} ms** (CI {over.ci_low:+.3g} to "
        f"{over.ci_high:+.3g}), {sign}. The payloads span {_ms(spread)} at p50 on loopback: {bigger}."
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
def cloud_vs_edge(rows: pd.DataFrame, samples: pd.DataFrame, confidence: float) -> tuple[str, list[str]]:
    """Per profile (warm connection), modeled cloud p50 against the fastest edge target's measured p50, with the
    CI of their difference; returns the sentence and the profiles where the cloud is faster beyond noise."""
    edge = tables.select(rows, "latency_p50", network="none", batch=1)
    edge = edge[edge.target != tables.IN_PROCESS].sort_values("value").iloc[0]
    edge_samples = tables.samples_of(samples, tables.config_of(edge))
    wins, ties, lines = [], [], []
    modeled = tables.select(rows, "latency_p50", scenario="warm connection")
    for r in modeled.itertuples():
        d = difference(tables.samples_of(samples, tables.config_of(r)), edge_samples, 50, confidence, 500)
        if d.high < 0:
            wins.append(r.network)
        elif d.low <= 0:
            ties.append(r.network)
        lines.append(f"{r.network} {d.value:+.3g} ms (CI {d.low:+.3g} to {d.high:+.3g})")
    text = (
        f"**Modeled** cloud p50 minus the fastest edge target's measured p50 ({edge.target}, {_ms(edge.value)}), "
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
    peak = tables.server_rates(lg, bound_ms)
    head = ", ".join(f"**{t}: {q:.0f} QPS**" for t, q in peak.items()) or "none (no VALID Server run met the bound)"
    text = f"**Measured:** {len(invalid)} of {len(lg)} LoadGen runs are INVALID by LoadGen's own rules"
    text += f" ({why})." if len(invalid) else "."
    return text + f" Highest VALID Server rate with p99 ≤ {bound_ms:g} ms: {head}."


@escaped
def energy(rows: pd.DataFrame) -> str:
    """Energy per inference where RAPL could be read, with what it includes; otherwise say it was not measured."""
    e = tables.select(rows, "energy_per_inference")
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
    """Which of cloud-remote and cloud-gpu ran, and why not."""
    ran = set(rows.target.dropna())
    remote = (
        f"- cloud-remote measured at `{remote_url}`."
        if "cloud-remote" in ran
        else "- **cloud-remote skipped:** no `remote_url` in params."
    )
    gpu = (
        "- cloud-gpu measured with CUDA events."
        if "cloud-gpu" in ran
        else "- **cloud-gpu skipped:** no CUDA device on this machine (torch.cuda.is_available() is False)."
        if not cuda
        else "- **cloud-gpu not measured.**"
    )
    return f"{remote}\n{gpu}"


@escaped
def cloud_edge_summary(
    rows: pd.DataFrame,
    cloud: pd.DataFrame,
    choice: tables.PayloadChoice,
    wins: list[str],
    conc: pd.DataFrame,
    emu: pd.DataFrame,
) -> str:
    """Notebook 02's findings for the report's run summary."""
    label, p50 = tables.fastest_edge(rows)
    best = cloud.loc[(choice.protocol, choice.payload)]
    c = conc.set_index(["scenario", "concurrency"])
    hi = conc.concurrency.max()
    gain = c.loc[("batched", hi), "throughput_rps"] / c.loc[("unbatched", hi), "throughput_rps"]
    return "\n".join(
        [
            f"- **Edge vs cloud (measured):** fastest edge target {label} {_ms(p50)} p50; cloud-cpu over loopback "
            f"{_ms(best['p50 ms'])} with {choice.payload} over {choice.protocol} (serving overhead "
            f"{best['overhead p50 ms']:+.3g} ms, CI {best['overhead CI']}).",
            f"- **Network (modeled; against emulation within {emu.error_p50.abs().max():.0%} at p50, "
            f"{emu.error_p90.abs().max():.0%} at p90):** the cloud is "
            f"faster than the fastest edge target beyond noise on {', '.join(wins) if wins else 'no profile'} "
            "(same cores).",
            f"- **Adaptive batching (measured):** {gain:.2f}× the throughput of batch-1 serving at {hi} clients.",
        ]
    )


# --- notebook 03 ---------------------------------------------------------------------------------------------


@escaped
def use_case(recommendations: pd.DataFrame, failures: pd.DataFrame, case: str) -> str:
    """A use case's recommendation with its reason, and the binding constraint of every option that fails."""
    r = recommendations.loc[case]
    text = f"**{case}** ({r.model}): {r.reason}."
    if len(failures):
        parts = "; ".join(f"{opt}: {row.binding} ({row.why})" for opt, row in failures.iterrows())
        text += f" Options that fail, with their binding constraint: {parts}."
    else:
        text += " Every option meets every requirement."
    return text


@escaped
def recommendation_mix(recommendations: pd.DataFrame) -> str:
    """Whether the use cases get different answers, and which, or one answer for all with the reason to look at."""
    counts = recommendations.recommended.value_counts()
    roles = recommendations.role.value_counts()
    if len(counts) == 1:
        return (
            f"**Modeled:** every use case gets **{counts.index[0]}**. One answer for all means one option dominates "
            "on the cost of meeting the requirements here; the flip points below show how far the inputs must move "
            "to change that."
        )
    mix = ", ".join(f"{role} for {n}" for role, n in roles.items())
    return f"**Modeled:** the answer depends on the application: {mix} of {len(recommendations)} use cases."


@escaped
def flips(flip_points: pd.DataFrame) -> str:
    """Where recommendations flip, nearest to today's inputs first."""
    if flip_points.empty:
        return (
            "No recommendation flips anywhere in the swept ranges: every answer holds from 0.1× to 10× the RTT "
            "and bandwidth and from 0.01× to 100× the volume."
        )
    near = flip_points.assign(distance=flip_points["at scale"].map(lambda x: abs(math.log(x))))
    near = near.sort_values("distance").head(5)
    parts = "; ".join(f"{r['use case']} at {r['at scale']:.2g}× {r.parameter} ({r.flip})" for _, r in near.iterrows())
    return f"**Modeled flip points** (nearest to today's inputs first): {parts}."


@escaped
def robustness(what_ifs: pd.DataFrame) -> str:
    """Which use cases keep their recommended role whatever the device speeds, and which depend on them."""
    roles = what_ifs.groupby("use case", sort=False).role.agg(lambda r: sorted(set(r)))
    robust = [c for c, r in roles.items() if len(r) == 1]
    depends = [f"{c} ({' / '.join(r)})" for c, r in roles.items() if len(r) > 1]
    text = f"**Robust** to edge and cloud speeds from ¼× to 4×: {', '.join(robust) or 'none'}."
    if depends:
        text += f" **Depends on the device:** {', '.join(depends)}."
    return text


@escaped
def outages(table: pd.DataFrame) -> str:
    """Through simulated outages, which strategy answers the most requests in time per use case (of equals, the
    cheapest), and what it costs."""
    strategies = [c for c in table.columns if c != "options" and not c.startswith("$/month")]
    costs = {s: table.get(f"$/month: {s}", pd.Series(0.0, index=table.index)) for s in strategies}
    best = {  # most answered in time; of equals, the cheapest
        case: min(strategies, key=lambda s, c=case: (-round(table.loc[c, s], 4), costs[s][c])) for case in table.index
    }
    parts = []
    for case in table.index:
        part = f"{case} {best[case]} {table.loc[case, best[case]]:.2%} (cloud only {table.loc[case, 'cloud only']:.2%})"
        if f"$/month: {best[case]}" in table:
            part += f" at ${table.loc[case, f'$/month: {best[case]}']:,.0f}/month"
        parts.append(part)
    return f"**Modeled**, share answered within budget through outages: {'; '.join(parts)}."

"""Notebook 05: what the token timings, the decode roofline and the cost of quantization say, from the store."""

from __future__ import annotations

import pandas as pd

from edgecloud import catalogue
from edgecloud.decisions import generative as decisions
from edgecloud.results import query
from edgecloud.results.generative_tables import estimate, stage_samples
from edgecloud.sentences import escaped, ms
from edgecloud.timing import difference, ratio


def _label(rows: pd.DataFrame, runtime: str) -> str:
    precision = query.select(rows, "tpot", runtime=runtime).precision.iloc[0]
    return f"{runtime} ({precision})"


def _gaps(samples: pd.DataFrame, runtime: str) -> pd.Series:
    return samples[(samples.runtime == runtime) & (samples.stage == "gap")].latency_ms.to_numpy()


@escaped
def timing(rows: pd.DataFrame, samples: pd.DataFrame, order: list[str]) -> str:
    """Each runtime's TTFT and decode rate, the fastest decode against the reference's with its interval, and the
    stutter (gap p99 over p50)."""
    parts = []
    for name in order:
        ttft, tps = estimate(rows, "ttft", name), estimate(rows, "tokens_per_s", name)
        parts.append(
            f"{_label(rows, name)} answers its first token in **{ms(ttft[0])}** (p50, CI {ttft[1]:.3g}–{ttft[2]:.3g}) "
            f"and then decodes **{tps[0]:.0f} tokens/s**"
        )
    text = "**Measured:** " + "; ".join(parts) + "."
    reference = order[0]
    fastest = max(order, key=lambda n: estimate(rows, "tokens_per_s", n)[0])
    if fastest != reference:
        r = ratio(_gaps(samples, reference), _gaps(samples, fastest))
        text += (
            f" {_label(rows, fastest)} decodes **{r.value:.2f}×** as fast as the {_label(rows, reference)} baseline "
            f"(median token gap over median token gap, CI {r.low:.2f}–{r.high:.2f})."
        )
    stutter = {n: estimate(rows, "token_gap_p99", n)[0] / estimate(rows, "token_gap_p50", n)[0] for n in order}
    worst = max(stutter, key=stutter.get)
    text += (
        f" A reader sees the gaps, not their mean: the worst stutter is {_label(rows, worst)}'s, whose p99 gap is "
        f"{stutter[worst]:.1f}× its median."
    )
    return text


@escaped
def prefill(rows: pd.DataFrame, order: list[str]) -> str:
    """Prefill's rate at the longest prompt against decode's, and its share of the GEMM ceiling."""
    rates = query.select(rows, "prefill_tokens_per_s")
    longest = int(rates.input_size.max())
    parts = []
    for name in order:
        rate = query.value(rows, "prefill_tokens_per_s", runtime=name, input_size=longest)
        share = query.value(rows, "prefill_gemm_share", runtime=name, input_size=longest)
        decode = estimate(rows, "tokens_per_s", name)[0]
        parts.append(
            f"{_label(rows, name)} {rate:,.0f} tokens/s ({rate / decode:.0f}× its decode, {share:.0%} of "
            "the GEMM ceiling)"
        )
    return (
        f"**Measured:** a {longest}-token prompt is read at " + "; ".join(parts) + ". Prefill processes the prompt's "
        "tokens together, matrix by matrix, so its ceiling is compute; decode reads every weight again for each "
        "token and does two operations per weight read, so its ceiling is memory bandwidth (next section). That is "
        "why TTFT grows with the prompt while the gap between tokens barely moves."
    )


@escaped
def roofline(rows: pd.DataFrame, order: list[str]) -> str:
    """Each runtime's decode rate as a share of its memory-bandwidth roof, and what that implies."""
    parts = []
    for name in order:
        share = estimate(rows, "decode_roof_share", name)
        roof = query.value(rows, "decode_roof", runtime=name)
        parts.append(
            f"{_label(rows, name)} **{share[0]:.0%}** of its {roof:.0f} tokens/s roof (CI "
            f"{share[1]:.0%}–{share[2]:.0%})"
        )
    best = max(order, key=lambda n: estimate(rows, "decode_roof_share", n)[0])
    share = estimate(rows, "decode_roof_share", best)[0]
    note = query.select(rows, "decode_roof", runtime=best).note.iloc[0]
    if share >= decisions.BANDWIDTH_BOUND:
        verdict = (
            f"{_label(rows, best)} comes within {1 - share:.0%} of it: on this machine memory bandwidth, not "
            "arithmetic, sets how fast a small language model talks."
        )
    else:
        verdict = (
            f"Even the closest, {_label(rows, best)}, stays {1 - share:.0%} below it: here decode is held back by "
            "each runtime's arithmetic and overheads before memory bandwidth binds, so a faster kernel, not faster "
            "memory, would speed it up."
        )
    return (
        "**Measured against modeled:** decode reaches " + "; ".join(parts) + f" ({note}). The roof is the triad's "
        "bandwidth divided by the bytes one token reads, so a smaller weight format raises it in proportion. "
        + verdict
        + _scaling(rows)
    )


BINDS = {
    "arithmetic": "its decode is bound by arithmetic here",
    "serial work": (
        "a second core helps its decode less than it helps memory, so neither bandwidth nor arithmetic binds it here "
        "but work that does not divide between cores (serial steps, threads waiting for each other)"
    ),
    "memory bandwidth": "it scales as memory does, near its roof: its decode is bound by memory bandwidth here",
    None: "the two gains cannot be told apart and decode sits below its roof, so this run does not say what binds",
}


def _scaling(rows: pd.DataFrame) -> str:
    """What a second core does for decode against what it does for memory bandwidth (the triad)."""
    triad = query.select(rows, "thread_speedup", stage="triad")
    text = ""
    for r in query.select(rows, "thread_speedup", stage="thread_scaling").itertuples():
        text += (
            f" {_label(rows, r.runtime)} decodes {r.value:.2f}× as fast at {int(r.threads)} threads as at one (CI "
            f"{r.ci_low:.2f}–{r.ci_high:.2f}; {r.note})"
        )
        if len(triad):
            memory = float(triad.value.iloc[0])
            share = estimate(rows, "decode_roof_share", r.runtime)[0]
            bound = decisions.decode_bound(share, (r.ci_low, r.ci_high), memory)
            text += f", where the triad gains {memory:.2f}×: {BINDS[bound]}."
        else:
            text += "."
    return text


@escaped
def quality(rows: pd.DataFrame, order: list[str]) -> str:
    """Greedy agreement and perplexity of each quantized runtime against the reference's."""
    reference, parts = order[0], []
    for name in order[1:]:
        agree, ppl = estimate(rows, "token_agreement", name), estimate(rows, "perplexity_ratio", name)
        first = query.value(rows, "first_divergence", runtime=name)
        parts.append(
            f"{_label(rows, name)} keeps **{agree[0]:.0%}** of fp32's greedy tokens (CI {agree[1]:.0%}–{agree[2]:.0%};"
            f" answers part from fp32's after {first:.0f} tokens at the median) at **{ppl[0]:.2f}×** its perplexity "
            f"(CI {ppl[1]:.2f}–{ppl[2]:.2f})"
        )
    if not parts:
        return f"Only {_label(rows, reference)} was measured: there is no quantized runtime to compare."
    base = estimate(rows, "perplexity", reference)[0]
    return (
        "**Measured:** " + "; ".join(parts) + f". The {_label(rows, reference)} reference has perplexity {base:.1f} on "
        "the shipped text. A greedy answer that leaves fp32's once stays different, so agreement falls faster than "
        "perplexity rises: perplexity is the fairer test of what 4-bit weights cost."
    )


def _served(rows: pd.DataFrame, metric: str, network: str, clients: int | None = None) -> float:
    found = query.select(rows, metric, target="llm-server", network=network, concurrency=clients)
    return float(found.value.iloc[0])


def _modeled_network(rows: pd.DataFrame, network: str) -> str:
    """The network model's median for the same path, when the run recorded it."""
    found = query.select(rows, "network_p50", target="llm-server", network=network)
    return f" (the network model: +{found.value.iloc[0]:.0f} ms)" if len(found) else ""


@escaped
def served(rows: pd.DataFrame, samples: pd.DataFrame) -> str:
    """Served against in-process on loopback (with intervals on the differences), what each network adds to the
    first token and to the stutter, and what concurrent clients get."""
    here = {"runtime": "llama.cpp", "target": "in-process", "network": None, "concurrency": None}
    loop = {"runtime": "llama.cpp", "target": "llm-server", "network": "loopback", "concurrency": None}
    d_ttft = difference(stage_samples(samples, "ttft", **loop), stage_samples(samples, "ttft", **here))
    r_gap = ratio(stage_samples(samples, "gap", **loop), stage_samples(samples, "gap", **here))
    text = (
        f"**Measured:** behind its server, llama.cpp's first token arrives {d_ttft.value:+.3g} ms from in-process "
        f"(CI {d_ttft.low:+.3g} to {d_ttft.high:+.3g}) and its median token gap is {r_gap.value:.2f}× in-process's "
        f"(CI {r_gap.low:.2f}–{r_gap.high:.2f}): serving adds HTTP, JSON and server-sent events around each token."
    )
    networks = [
        n
        for n in query.select(rows, "ttft", target="llm-server").network.dropna().unique()
        if n not in ("loopback", "baseline")
    ]
    if networks:
        base_ttft, base_p99 = _served(rows, "ttft", "baseline"), _served(rows, "token_gap_p99", "baseline")
        worst = max(networks, key=lambda n: _served(rows, "ttft", n))
        added = _served(rows, "ttft", worst) - base_ttft
        text += (
            f" Over an emulated network the first token pays the path: **{added:+.0f} ms** over {worst}"
            f"{_modeled_network(rows, worst)}, where the "
            f"median gap stays {_served(rows, 'token_gap_p50', worst):.1f} ms (baseline "
            f"{_served(rows, 'token_gap_p50', 'baseline'):.1f}) but the p99 gap, the stutter, is "
            f"{_served(rows, 'token_gap_p99', worst):.0f} ms against {base_p99:.0f} on the baseline path (the same "
            "relays without delay, so the harness's own cost cancels). Streaming hides the network after the first "
            "token, except for its jitter."
        )
    together = query.select(rows, "throughput", target="llm-server")
    if len(together):
        k = int(together.concurrency.iloc[0])
        text += (
            f" With {k} clients at once the median TTFT becomes **{ms(_served(rows, 'ttft', 'loopback', k))}** and all "
            f"clients together get {together.value.iloc[0]:.0f} tokens/s: llama-cpp-python's server decodes one "
            "request at a time (no parallel slots, so no continuous batching), and a second client waits for the "
            "first's whole answer."
        )
    return text


def _prompt(rows: pd.DataFrame, runtime: str) -> int:
    return int(query.select(rows, "ttft", runtime=runtime, target="in-process").input_size.iloc[0])


@escaped
def summary(rows: pd.DataFrame, order: list[str]) -> str:
    """The report's run summary of notebook 05."""
    fastest = max(order, key=lambda n: estimate(rows, "tokens_per_s", n)[0])
    share = estimate(rows, "decode_roof_share", fastest)[0]
    text = (
        f"- **Generative:** SmolLM2-135M decodes fastest on {_label(rows, fastest)}, "
        f"{estimate(rows, 'tokens_per_s', fastest)[0]:.0f} tokens/s ({share:.0%} of the memory-bandwidth roof), "
        f"first token in {ms(estimate(rows, 'ttft', fastest)[0])} for a {_prompt(rows, fastest)}-token prompt."
    )
    served_ttft = query.select(rows, "ttft", target="llm-server", concurrency=None)
    if len(served_ttft):
        worst = served_ttft.loc[served_ttft.value.idxmax()]
        text += f" Served and streamed, the first token takes {ms(worst.value)} over {worst.network}."
    return text


@escaped
def size_sweep(sweep: pd.DataFrame) -> str:
    """Where each edge option stops being able to hold a model, and how fast the largest it holds decodes."""
    parts = []
    for option, part in sweep.groupby("option", sort=False):
        fits = part[part.fits].sort_values("parameters_b")
        if fits.empty:
            parts.append(f"{option} holds none of them")
            continue
        top = fits.iloc[-1]
        stops = part[~part.fits].sort_values("parameters_b")
        stop = f", and {stops.model.iloc[0]} does not fit" if len(stops) else ""
        parts.append(f"{option} holds up to {top.model} at {top.tokens_per_s:.1f} tokens/s{stop}")
    return (
        "**Modeled from bandwidth (this machine's smallest model measured):** " + "; ".join(parts) + ". Decode slows "
        "in proportion to the bytes a token reads, so a model ten times larger decodes about ten times slower on "
        "the same device, until its weights no longer fit. That, not a vague 'complexity', is when a model needs "
        "the cloud."
    )


@escaped
def cases(evaluated: pd.DataFrame) -> str:
    """Each generative use case's recommendation, its cost and binding constraint, and why the others fail."""
    lines = []
    for name, part in evaluated.groupby("case", sort=False):
        chosen = part[part.recommended]
        if chosen.empty:
            each = "; ".join(f"{r.option} fails on {r.binding}" for r in part.itertuples())
            lines.append(f"- **{name}** ({part.model.iloc[0]}): no option meets every requirement ({each}).")
            continue
        pick = chosen.iloc[0]
        failing = part[~part.feasible]
        why = "; ".join(f"{r.option} fails on {r.binding}" for r in failing.itertuples())
        cost = f"${pick.usd_month:,.0f} a month" if pick.usd_month == pick.usd_month else "cost not modeled"
        leaves = (
            " Personal data leaves the device: no edge option meets every requirement."
            if pick.sensitivity == "personal" and pick.role != "edge"
            else ""
        )
        even = pick.breakeven_per_day
        flip = (
            f" One self-hosted GPU, paid by the hour, costs what the API charges at {even:,.0f} requests a day "
            f"(this case: {pick.per_day:,.0f}); below that, the API is cheaper."
            if even == even
            else ""
        )
        lines.append(
            f"- **{name}** ({pick.model}) → **{pick.option}** (*{pick.kind}*), {cost}; binding: {pick.binding}."
            + leaves
            + flip
            + (f" Not chosen: {why}." if why else "")
        )
    return "\n".join(lines)


@escaped
def token_loadgen(table: pd.DataFrame) -> str:
    """What LoadGen's token-latency runs show: a VALID run's figures as a result, an INVALID one's only with why."""
    if table.empty:
        return (
            "LoadGen's token-latency Server runs were not made (`generative.loadgen_qps` is empty): a VALID run "
            "needs about 460 queries, several minutes here; `params/full.yaml` makes one."
        )
    parts = []
    for _, r in table.iterrows():
        figures = (
            f"TTFT p99 {ms(r['TTFT p99 ms'])} (bound {ms(r['TTFT bound ms'])}), TPOT p99 {ms(r['TPOT p99 ms'])} "
            f"(bound {ms(r['TPOT bound ms'])}), {r['tokens/s']:.0f} tokens/s"
        )
        rate = f"at {r['target queries/s']:g} queries/s"
        if r["valid"]:
            parts.append(f"{rate} LoadGen's run is **VALID**: {figures}")
        else:
            parts.append(f"{rate} the run is INVALID ({r['why not']}), so its figures ({figures}) are not a result")
    return "**Measured (MLPerf LoadGen, Server, token latencies):** " + "; ".join(parts) + "."


@escaped
def executive(evaluated: pd.DataFrame) -> str:
    """The generative use cases for the executive summary."""
    return "**Generative use cases (notebook 05):**\n\n" + cases.__wrapped__(evaluated)


@escaped
def crossover(n_tokens: float | None, edge: str, cloud: str, network: str) -> str:
    """The output length beyond which the cloud's answer finishes first despite the round trip."""
    if n_tokens is None:
        return (
            f"**Modeled:** over {network}, {edge} decodes no slower than {cloud} at its sourced latency bounds: "
            "on answer length alone the cloud does not catch up."
        )
    if n_tokens == 0:
        return (
            f"**Modeled:** over {network}, {cloud}'s answer (at its sourced latency bounds, the worst they allow) "
            f"finishes first at any length: its first token, round trip included, comes before {edge}'s, and it "
            "decodes faster too."
        )
    return (
        f"**Modeled:** over {network}, {cloud}'s answer finishes before {edge}'s once it is longer than "
        f"**{n_tokens:.0f} tokens** (RTT + TTFT_cloud + N·TPOT_cloud < TTFT_edge + N·TPOT_edge): a short answer "
        "favours the device nearby, a long one the faster decoder."
    )


@escaped
def bandwidth_check() -> str:
    """Whether two published decode rates of one device give the same effective bandwidth."""
    parts = []
    for name, spec in catalogue.GENERATIVE_DEVICES.items():
        found = decisions.bandwidth_check(spec)
        if found:
            first, second = found
            parts.append(
                f"{name}: {first:.1f} GB/s from one published model and {second:.1f} GB/s from another "
                f"({abs(first / second - 1):.0%} apart)"
            )
    if not parts:
        return "No device has two published decode rates to check the bandwidth physics against."
    return "**Check of the physics (sourced):** " + "; ".join(parts) + "."

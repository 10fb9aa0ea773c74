"""Notebook 04: capacity, cost, energy, the hybrids, the claims ledger and the executive summary."""

from __future__ import annotations

import pandas as pd

from edgecloud.decisions import choices, claims
from edgecloud.results import analysis_tables as at
from edgecloud.results import usecase_tables
from edgecloud.results.query import select
from edgecloud.sentences import escape, escaped
from edgecloud.sentences.usecases import outages, recommendation_mix
from edgecloud.vocabulary import ALL_CLOUD, ALL_EDGE


@escaped
def costs(rows: pd.DataFrame) -> str:
    """Where the edge breaks even, and when; the measured server's $ per 1M."""
    table = at.costs(rows)
    even = table["break-even (months)"].dropna()
    text = (
        f"**Modeled:** the edge's devices pay for themselves within the horizon in **{len(even)} of {len(table)}** "
        "use cases"
        + (
            f", soonest {even.min():.1f} months ({even.idxmin()}), latest {even.max():.1f} ({even.idxmax()})"
            if len(even)
            else ""
        )
        + "."
    )
    server = select(rows, "usd_per_million")
    if len(server):
        r = server.iloc[0]
        text += f" The measured server costs **${r.value:.3g} per million** requests: {r.note}."
    else:
        text += " The measured server has no VALID LoadGen Server run, so it is not priced per million."
    return text


@escaped
def capacity(table: pd.DataFrame) -> str:
    """The highest rate each way of loading the targets sustained, and which target has no VALID Server rate."""
    best = table["batch-sweep samples/s"]
    served = table["Server queries/s (VALID, within bound)"].dropna()
    text = (
        f"**Measured:** batched, {best.idxmax()} sustains the most, **{best.max():.3g} samples/s** "
        f"(batch {table['best batch'][best.idxmax()]})"
    )
    if len(served):
        text += (
            f"; under LoadGen's Poisson Server load within the bound, {served.idxmax()} holds the highest VALID rate, "
            f"**{served.max():.3g} queries/s**"
        )
    missing = sorted(set(table.index) - set(served.index))
    if missing:
        text += f"; no VALID Server run met the bound on {', '.join(missing)}"
    return text + "."


@escaped
def energy(table: pd.DataFrame) -> str:
    """The most and least frugal options for the model with the most options, among those whose power figures
    have the most common scope (chip, board or system), each its own power × its own time."""
    model = table.index.get_level_values("model").value_counts().idxmax()
    t = table.loc[model]
    t = t[t.scope == t.scope.value_counts().idxmax()]
    return (
        f"**Modeled** for {model}, {t.scope.iloc[0]} power: from **{t.mJ.min():.3g} mJ** per inference "
        f"({t.mJ.idxmin()}) to **{t.mJ.max():.3g} mJ** ({t.mJ.idxmax()}); each option's power × the same option's "
        "time, never another's, and only like scopes compared."
    )


@escaped
def cascade(table: pd.DataFrame) -> str:
    """The frontier's fastest point that keeps cloud-only accuracy within its interval, against both ends."""
    t = table.set_index("threshold")
    cloud, edge = t.loc["cloud only"], t.loc["edge only"]
    low = float(cloud.CI.split(" to ")[0])
    ok = t[t.frontier & (t.CI.str.split(" to ").str[1].astype(float) >= low)].sort_values("mean ms")
    head = (
        f"**Measured:** edge only answers {edge.accuracy:.1%} correctly in {edge['mean ms']:.3g} ms on average; "
        f"cloud only {cloud.accuracy:.1%} in {cloud['mean ms']:.3g} ms (p99 {cloud['p99 ms']:.3g} ms)."
    )
    if ok.empty:
        return head + " No threshold keeps cloud-only accuracy within its interval at a lower mean latency."
    best = ok.iloc[0]
    return head + (
        f" At threshold **{ok.index[0]}** the cascade sends {best.offloaded:.0%} to the cloud and answers "
        f"{best.accuracy:.1%} ({best.CI}) in {best['mean ms']:.3g} ms on average (p99 {best['p99 ms']:.3g} ms), "
        f"${best['cloud $/1M']:.3g} per million in cloud time against ${cloud['cloud $/1M']:.3g} for cloud only."
    )


@escaped
def split(check: pd.DataFrame, changes: pd.DataFrame) -> str:
    """The best predicted cut per profile and how far prediction is from measurement."""
    best = check[check["best predicted"]]
    parts = [
        f"{n}: {r.cut} (predicted {r['predicted p50']:.3g} ms, measured {r['measured p50']:.3g} ms, "
        f"{r['p50 error']:+.0%})"
        for (n, _), r in best.iterrows()
    ]
    real = check[~check.cut.isin([ALL_EDGE, ALL_CLOUD])]  # a prediction of the whole model timed again proves nothing
    within = int((real["p50 error"].abs() <= 0.15).sum())
    worst = real["p50 error"].abs().idxmax() if len(real) else None
    verdict = (
        f"Prediction within 15% on **{within} of {len(real)}** measured real splits (cut and profile), best or "
        f"runner-up; the largest miss {real.loc[worst, 'p50 error']:+.0%} ({real.loc[worst, 'cut']}, {worst[0]}). "
        if len(real)
        else "No real split was measured (every measured cut runs whole on one side), so no split prediction is "
        "checked. "
    )
    return (
        f"**Measured and modeled**, best split per profile (measured beside predicted): {'; '.join(parts)}. "
        f"{verdict}The best cut changes at {len(changes)} bandwidths across the profiles' RTTs (table below)."
    )


@escaped
def ledger(table: pd.DataFrame) -> str:
    """How the claims fared: a count per verdict; each 'depends on …' verdict says on what in its own row."""
    kinds = table.verdict.str.replace(r"^depends on .*", "depend on the conditions their rows name", regex=True)
    return "Verdicts: " + ", ".join(f"**{n}** {v}" for v, n in kinds.value_counts().items()) + "."


def ledger_table(table: pd.DataFrame) -> str:
    """The ledger as a Markdown table, so no statement or figure is cut short."""
    return _md_table(table)


def _md_table(df: pd.DataFrame) -> str:
    cols = [str(df.index.name or ""), *map(str, df.columns)]
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    for idx, row in df.iterrows():
        lines.append("| " + " | ".join(escape(str(x)) for x in (idx, *row.tolist())) + " |")
    return "\n".join(lines)


def executive(rows: pd.DataFrame, rows02: pd.DataFrame, rows03: pd.DataFrame) -> str:
    """The report's first section: the recommendation per use case and the key findings, each with its kind."""
    columns = ["model", "recommended", "role", "kind", "USD/month", "P(feasible)", "runner-up", "runner-up USD/month"]
    recs = usecase_tables.recommendations(rows03)[[*columns, "runner-up P(feasible)"]]
    for c in ("USD/month", "runner-up USD/month"):
        recs[c] = [f"${v:,.0f}" if v == v else "—" for v in recs[c]]
    recs["P(feasible)"] = [f"{v:.0%}" if v == v else "—" for v in recs["P(feasible)"]]
    chances = recs.pop("runner-up P(feasible)")
    recs["runner-up"] = [f"{n} ({v:.0%})" if v == v else n for n, v in zip(recs["runner-up"], chances, strict=True)]
    recs.index.name = "use case"
    edge = choices.fastest_edge(rows02)
    cloud = select(rows02, "latency_p50", scenario="warm connection").sort_values("value")
    ledger_table = claims.ledger(rows)
    findings = [
        recommendation_mix(usecase_tables.recommendations(rows03)),
        escape(
            f"**Measured and modeled:** this machine's fastest edge target ({edge.target}) answers in "
            f"{edge.value:.3g} ms (p50, measured); the same model served in the cloud takes "
            f"{cloud.value.iloc[0]:.3g} ms over {cloud.network.iloc[0]} to {cloud.value.iloc[-1]:.3g} ms over "
            f"{cloud.network.iloc[-1]} (modeled network on measured serving)."
        ),
        costs(rows),
        cascade(at.cascade(rows)),
        split(at.split_check(rows), at.split_changes(rows)),
        energy(at.energy(rows03)),
        "**Claims ledger** (figures measured, modeled or sourced, as each says): " + ledger(ledger_table),
    ]
    bullets = "\n".join(f"- {text}" for text in findings if text)
    return "### Recommendation per use case\n\n" + _md_table(recs) + "\n\n### Key findings\n\n" + bullets + "\n"


def fallback(table: pd.DataFrame) -> str:
    """Which strategy answers the most in time through outages per use case, and at what monthly cost."""
    return outages(table)

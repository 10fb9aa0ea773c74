"""Notebook 03: each use case's recommendation, the mix, flip points, robustness and outages."""

from __future__ import annotations

import math

import pandas as pd

from edgecloud.sentences import escaped


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


@escaped
def deployments(written: pd.DataFrame) -> str:
    """What was written for the cloud answers, or that there is none to deploy."""
    if written.empty:
        return "No use case's recommendation is a cloud option: there is nothing to take to a cluster."
    measured = written[written.kind == "measured"].index.tolist()
    modeled = written[written.kind != "measured"]
    text = f"{len(written)} use case(s) have a cloud answer; each folder holds a KServe `InferenceService` with its"
    text += " MLServer settings, checked against KServe's CRD schema and MLServer's settings models."
    if measured:
        text += f" {', '.join(measured)}: the server measured here, as measured."
    if len(modeled):
        parts = ", ".join(f"{case} ({row.option})" for case, row in modeled.iterrows())
        text += (
            f" {parts}: modeled from published figures for other hardware, so the manifest is where a measurement"
            " starts (deploy it and set `measurements.remote_url`), not a measured configuration."
        )
    return text

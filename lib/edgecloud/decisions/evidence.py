"""What the claims ledger and the cost steps decide from: notebook 03's cost models and cheapest options, and each
claim's deciding figures, one per key, read from the store."""

from __future__ import annotations

import numpy as np
import pandas as pd

from edgecloud.decisions.claims import Evidence, Fig
from edgecloud.decisions.costs import CostModel
from edgecloud.results import usecase_tables
from edgecloud.results.analysis_tables import cascade, split_check
from edgecloud.results.query import select


def cost_models(rows03: pd.DataFrame) -> dict[tuple[str, str], CostModel]:
    """Notebook 03's cost model of every (use case, option)."""
    found = select(rows03, "cost_model")
    return {
        (case, option): CostModel(
            **{k: (int(v) if k == "life_months" else float(v)) for k, v in zip(g.stage, g.value, strict=True)}
        )
        for (case, option), g in found.groupby(["scenario", "target"])
    }


def roles(rows03: pd.DataFrame) -> pd.Series:
    """Option → edge or cloud."""
    return select(rows03, "device_factor").set_index("target").source


def cheapest(rows03: pd.DataFrame) -> dict[tuple[str, str], tuple[str, bool]]:
    """(use case, role) → the cheapest feasible option of that role for the case, else the cheapest of that role,
    and whether it is feasible."""
    ok = usecase_tables.feasible(rows03)  # a margin that could not be computed fails
    cost = select(rows03, "monthly_cost")
    cost = cost.assign(
        role=cost.target.map(roles(rows03)),
        feasible=[bool(ok.get((case, option), False)) for case, option in zip(cost.scenario, cost.target, strict=True)],
    )
    best = cost.sort_values(["feasible", "value"], ascending=[False, True]).groupby(["scenario", "role"]).head(1)
    rows = zip(best.scenario, best.role, best.target, best.feasible, strict=True)
    return {(case, role): (str(option), bool(met)) for case, role, option, met in rows}


def _cloud_latency(rows02: pd.DataFrame) -> dict[str, Fig]:
    p = select(rows02, "latency_p50", scenario="warm connection").sort_values("value")
    low, high = p.iloc[0], p.iloc[-1]
    return {
        "cloud_p50_min": Fig(low.value, f"cloud p50 {low.value:.3g} ms over {low.network}", "modeled"),
        "cloud_p50_max": Fig(high.value, f"{high.value:.3g} ms over {high.network}", "modeled"),
    }


def _use_case_evidence(rows03: pd.DataFrame, rows01: pd.DataFrame) -> dict[str, Fig]:
    role = roles(rows03)
    lat = select(rows03, "margin", stage="latency").assign(role=lambda d: d.target.map(role))
    edge = lat[lat.role == "edge"].groupby("scenario").value.max()
    met = sorted(edge[edge >= 0].index)
    out = {
        "edge_meets_latency": Fig(
            len(met) / len(edge),
            f"an edge option meets the budget in {len(met)} of {len(edge)} use cases with one"
            + (f" (not {', '.join(sorted(set(edge.index) - set(met)))})" if len(met) < len(edge) else ""),
            "modeled",
        )
    }
    out["cloud_over_edge_capacity"] = _capacity_ratio(rows03, role)
    models, best = cost_models(rows03), cheapest(rows03)
    volume = select(rows03, "daily_volume").set_index("scenario").value
    growth = []
    for case, v in volume.items():
        cloud = models[(case, best[(case, "cloud")][0])]
        growth.append(cloud.running(10 * v).total / cloud.running(v).total)
    out["cloud_cost_at_10x"] = Fig(
        float(np.median(growth)),
        f"the cheapest cloud option costs a median {np.median(growth):.3g}× as much at 10× the volume "
        f"(range {min(growth):.3g}–{max(growth):.3g}× over {len(growth)} use cases)",
        "modeled",
    )
    out["transfer_avoided_share"] = _transfer_avoided(rows03, volume.index, best)
    out["private_cases_edge_feasible"] = _private_cases(rows03)
    out["edge_answers_offline"] = _offline(rows03)
    flops = select(rows01, "flops").set_index("model").value
    case_flops = select(rows03, "daily_volume").set_index("scenario").model.map(flops)
    largest = set(case_flops[case_flops == case_flops.max()].index)  # empty when 01 measured none of the models
    big = lat[(lat.role == "edge") & lat.scenario.isin(largest)]
    failing = big[big.value < 0]
    out["edge_fails_large_model"] = (
        Fig(
            len(failing) / len(big),
            f"{len(failing)} of {len(big)} edge options miss the latency budget in {', '.join(sorted(largest))} "
            "(the use cases with the largest model by FLOPs)"
            + (f"; {', '.join(sorted(set(big[big.value >= 0].target)))} meet it" if len(failing) < len(big) else ""),
            "modeled",
        )
        if len(big)
        else Fig(float("nan"), "notebook 01 counted the FLOPs of none of the use cases' models", "modeled")
    )
    out.update(_roles_as_claimed(rows03, largest))
    return out


def _capacity_ratio(rows03: pd.DataFrame, role: pd.Series) -> Fig:
    """Per use case, the most requests/s one cloud instance sustains over the most one edge device does, for that
    case's own model; the median over use cases."""
    cap = select(rows03, "capacity").dropna(subset=["value"]).assign(role=lambda d: d.target.map(role))
    best = cap.groupby(["scenario", "role"]).value.max().unstack("role").dropna()
    ratio = best["cloud"] / best["edge"]
    if ratio.empty:
        return Fig(float("nan"), "no use case has a modeled capacity on both sides", "modeled")
    return Fig(
        float(ratio.median()),
        f"one cloud instance of the fastest cloud option sustains a median {ratio.median():.3g}× the requests/s of "
        f"the fastest edge device for the same model (range {ratio.min():.3g}–{ratio.max():.3g}× over "
        f"{len(ratio)} use cases)",
        "modeled",
    )


def _transfer_avoided(rows03: pd.DataFrame, cases: pd.Index, best: dict[tuple[str, str], tuple[str, bool]]) -> Fig:
    """Transfer fees the cheapest edge option avoids against the cheapest cloud option, summed over use cases, as a
    share of those cloud options' bills (negative where the edge pulls cloud data)."""
    fees = select(rows03, "usd_month_transfer").set_index(["scenario", "target"]).value
    bills = select(rows03, "monthly_cost").set_index(["scenario", "target"]).value
    avoided, bill, pulled = 0.0, 0.0, []
    for case in cases:
        cloud, edge = best[(case, "cloud")][0], best[(case, "edge")][0]
        avoided += fees[(case, cloud)] - fees[(case, edge)]
        bill += bills[(case, cloud)]
        if fees[(case, edge)] > 0:
            pulled.append(f"{case} pays ${fees[(case, edge)]:,.0f} on the edge")
    return Fig(
        avoided / bill,
        f"the edge avoids ${avoided:,.0f} a month of transfer fees, {avoided / bill:.2%} of the cheapest cloud "
        f"options' ${bill:,.0f}" + (f"; where the data starts in the cloud, {'; '.join(pulled)}" if pulled else ""),
        "modeled",
    )


def _private_cases(rows03: pd.DataFrame) -> Fig:
    """Share of use cases with personal or regulated data where an edge option meets every requirement, and what
    privacy costs in the regulated ones (cheapest feasible against cheapest feasible if privacy were waived)."""
    sens = select(rows03, "availability").set_index("scenario").note
    private = sorted(sens[sens.isin(["personal", "regulated"])].index)
    margins = select(rows03, "margin")
    cost = select(rows03, "monthly_cost").set_index(["scenario", "target"]).value
    role = roles(rows03)
    met, premiums = [], []
    for case in private:
        m = margins[margins.scenario == case]
        worst = m.groupby("target").value.min()
        if any(role[o] == "edge" for o in worst[worst >= 0].index):
            met.append(case)
        if sens[case] == "regulated":
            waived = m[m.stage != "privacy"].groupby("target").value.min()
            with_privacy = [cost[(case, o)] for o in worst[worst >= 0].index]
            without = [cost[(case, o)] for o in waived[waived >= 0].index]
            if with_privacy and without:
                premiums.append(f"{case} ${min(with_privacy) - min(without):,.0f} a month")
    if not private:
        return Fig(float("nan"), "no use case has personal or regulated data", "modeled")
    return Fig(
        len(met) / len(private),
        f"an edge option meets every requirement in {len(met)} of {len(private)} use cases with personal or "
        f"regulated data; every cloud option fails privacy where data is regulated"
        + (f" (meeting it costs {', '.join(premiums)})" if premiums else ""),
        "modeled",
    )


def _offline(rows03: pd.DataFrame) -> Fig:
    """Share of use cases where edge only answers at least as many requests within budget as cloud only through
    the simulated outages."""
    shares = select(rows03, "answered_within_budget").pivot_table(index="scenario", columns="target", values="value")
    better = shares["edge only"] >= shares["cloud only"]
    return Fig(
        float(better.mean()),
        f"through simulated outages edge only answers at least as many requests within budget as cloud only in "
        f"{int(better.sum())} of {len(better)} use cases",
        "modeled",
    )


def _roles_as_claimed(rows03: pd.DataFrame, largest: set[str]) -> dict[str, Fig]:
    """Claim 10's two halves: the share of edge-suited use cases (budget ≤ 100 ms, regulated, or < 99% up) whose
    recommendation is an edge option, and of cloud-suited ones (batch, or the largest model) recommended the cloud;
    a case suited to both or neither is left out."""
    budget = select(rows03, "latency_budget").set_index("scenario").value
    avail = select(rows03, "availability").set_index("scenario")
    rec = usecase_tables.recommendations(rows03)
    out = {}
    for half in ("edge", "cloud"):
        judged, matched = [], []
        for case in budget.index:
            edge_suited = (budget[case] <= 100) or avail.note[case] == "regulated" or avail.value[case] < 99
            cloud_suited = pd.isna(budget[case]) or case in largest
            if edge_suited != cloud_suited and (edge_suited if half == "edge" else cloud_suited):
                judged.append(case)
                matched += [case] if rec.role[case] == half else []
        other = sorted(set(judged) - set(matched))
        out[f"roles_{half}_half"] = Fig(
            len(matched) / len(judged) if judged else float("nan"),
            f"{len(matched)} of {len(judged)} {half}-suited use cases are recommended the {half}"
            + (f" (not {', '.join(other)})" if other else ""),
            "modeled",
        )
    return out


def _hybrid_evidence(rows: pd.DataFrame) -> dict[str, Fig]:
    """1 when a cascade threshold whose accuracy interval overlaps cloud only's is over 20% faster on average (or a
    mid-graph split beats both ends), 0.5 when one is faster by less, 0 when none is faster."""
    table = cascade(rows).set_index("threshold")
    cloud = table.loc["cloud only"]
    cloud_low = float(cloud.CI.split(" to ")[0])
    faster = table[(table.index != "cloud only") & (table["mean ms"] < cloud["mean ms"])]
    at_accuracy = faster[faster.CI.str.split(" to ").str[1].astype(float) >= cloud_low].sort_values("mean ms")
    clear = at_accuracy[at_accuracy["mean ms"] < 0.8 * cloud["mean ms"]]
    check = split_check(rows)
    beats = []
    for name, g in check.groupby(level="network"):
        ends = g[g.cut.str.startswith("all")]
        middle = g.drop(ends.index)
        if len(middle) and len(ends) and middle["measured p50"].min() < ends["measured p50"].min():
            beats.append(name)
    value = 1.0 if len(clear) or beats else 0.5 if len(at_accuracy) else 0.0
    if len(at_accuracy):
        w = at_accuracy.iloc[0]
        text = (
            f"cascade at {at_accuracy.index[0]}: accuracy {w.accuracy:.1%} ({w.CI}) against "
            f"cloud only {cloud.accuracy:.1%} ({cloud.CI}), mean {w['mean ms']:.3g} ms against "
            f"{cloud['mean ms']:.3g} ms, {w.offloaded:.0%} offloaded"
        )
    else:
        text = "no cascade threshold reaches cloud-only accuracy faster than cloud only"
    text += (
        f"; a measured mid-graph split beats the measured ends on {', '.join(beats)}"
        if beats
        else "; no measured mid-graph split beats running all on one side"
    )
    return {"hybrid_wins": Fig(value, text)}


def _architecture_evidence(rows: pd.DataFrame) -> dict[str, Fig]:
    """The cascade's two digit models: the CNN's accuracy above the logistic regression's (lower bound − upper
    bound of their intervals) and its in-process p50 over the regression's, both from this run."""
    table = cascade(rows).set_index("threshold")
    lo_hi = {k: [float(x) for x in table.CI[k].split(" to ")] for k in ("edge only", "cloud only")}
    gap = lo_hi["cloud only"][0] - lo_hi["edge only"][1]
    p50 = select(rows, "latency_p50", scenario="cascade").set_index("model").value
    edge_model = select(rows, "cascade_accuracy").model.iloc[0]
    served = p50.drop(edge_model, errors="ignore")
    timed = len(served) == 1 and edge_model in p50
    ratio = float(served.iloc[0] / p50[edge_model]) if timed else float("nan")
    return {
        "architecture_accuracy_gap": Fig(
            gap,
            f"digits: the served model's accuracy {table.accuracy['cloud only']:.1%} against the edge model's "
            f"{table.accuracy['edge only']:.1%} (intervals {'apart' if gap > 0 else 'overlap'})",
        ),
        "architecture_latency_ratio": Fig(
            ratio,
            f"the served model takes {ratio:.3g}× the edge model's in-process p50 (ONNX Runtime fp32, 1 thread)"
            if timed
            else "this run did not time both digit models in-process",
        ),
    }


def _input_evidence(rows01: pd.DataFrame) -> dict[str, Fig]:
    sized = select(rows01, "latency_p50", runtime="ort", precision="fp32", batch=1)
    sized = sized[sized.input_size.notna()]
    sized = sized[sized.threads == sized.threads.max()]
    model = sized.model.iloc[0]
    s = sized[sized.model == model].set_index("input_size").value.sort_index()
    ratio = float(s.iloc[-1] / s.iloc[0])
    return {
        "input_effect": Fig(
            ratio,
            f"{model} at {int(s.index[-1])} px takes {ratio:.3g}× its p50 at {int(s.index[0])} px",
        )
    }


def evidence(rows: pd.DataFrame, rows01: pd.DataFrame, rows02: pd.DataFrame, rows03: pd.DataFrame) -> Evidence:
    """Every claim's deciding figures from this run's rows (04) and the latest rows of 01–03."""
    be = select(rows, "break_even")
    base = be[be.stage.isna()]
    return {
        **_cloud_latency(rows02),
        **_use_case_evidence(rows03, rows01),
        "break_even_share": Fig(
            float(base.value.notna().mean()),
            f"the edge breaks even within the horizon in {int(base.value.notna().sum())} of {len(base)} use cases",
            "modeled",
        ),
        **_hybrid_evidence(rows),
        **_architecture_evidence(rows),
        **_input_evidence(rows01),
    }

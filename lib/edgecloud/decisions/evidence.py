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


def cheapest(rows03: pd.DataFrame, case: str, role: str) -> tuple[str, bool]:
    """The cheapest feasible option of a role for a case, else the cheapest of that role (and whether feasible)."""
    cost = select(rows03, "monthly_cost", scenario=case)
    worst = select(rows03, "margin", scenario=case).groupby("target").value.min()
    cost = cost[cost.target.map(roles(rows03)) == role].assign(feasible=lambda d: d.target.map(worst) >= 0)
    best = cost.sort_values(["feasible", "value"], ascending=[False, True]).iloc[0]
    return str(best.target), bool(best.feasible)


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
    factor = select(rows03, "device_factor").assign(role=lambda d: d.target.map(role))
    fastest = {r: factor[factor.role == r].sort_values("value").iloc[0] for r in ("edge", "cloud")}
    ratio = fastest["edge"].value / fastest["cloud"].value
    out["cloud_over_edge_capacity"] = Fig(
        ratio,
        f"fastest cloud option {fastest['cloud'].target} sustains {ratio:.3g}× the requests/s of the fastest edge "
        f"device {fastest['edge'].target} (device factors ×{fastest['cloud'].value:.3g} and "
        f"×{fastest['edge'].value:.3g} against this machine)",
        "modeled",
    )
    models = cost_models(rows03)
    volume = select(rows03, "daily_volume").set_index("scenario").value
    growth, egress, bill = [], 0.0, 0.0
    for case, v in volume.items():
        cloud = models[(case, cheapest(rows03, case, "cloud")[0])]
        growth.append(cloud.running(10 * v).total / cloud.running(v).total)
        egress += cloud.running(v).parts["egress"]
        bill += cloud.monthly(v).total
    out["cloud_cost_at_10x"] = Fig(
        float(np.median(growth)),
        f"the cheapest cloud option costs a median {np.median(growth):.3g}× as much at 10× the volume "
        f"(range {min(growth):.3g}–{max(growth):.3g}× over {len(growth)} use cases)",
        "modeled",
    )
    sent = select(rows03, "bytes_per_inference").set_index("scenario").value
    kept = float((sent * volume.reindex(sent.index)).sum() * 30.4)
    out["egress_share"] = Fig(
        egress / bill,
        f"egress is {egress / bill:.2%} of the cheapest cloud options' bills (${egress:,.0f} of ${bill:,.0f} a "
        f"month); only responses are billed, while the edge keeps {kept / 1e12:.3g} TB a month of inputs local",
        "modeled",
    )
    regulated = select(rows03, "availability")
    reg = sorted(regulated[regulated.note == "regulated"].scenario)
    out["regulated_cases"] = Fig(
        len(reg),
        f"{len(reg)} regulated use case(s) ({', '.join(reg) or 'none'}): every cloud option fails privacy by rule",
        "modeled",
    )
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
    out["roles_as_claimed"] = _roles_as_claimed(rows03, largest)
    return out


def _roles_as_claimed(rows03: pd.DataFrame, largest: set[str]) -> Fig:
    """Share of use cases whose recommended role matches claim 10: edge for real-time (budget ≤ 100 ms), regulated
    or poorly connected (< 99% up); cloud for batch (no budget) or the largest model."""
    budget = select(rows03, "latency_budget").set_index("scenario").value
    avail = select(rows03, "availability").set_index("scenario")
    rec = usecase_tables.recommendations(rows03)
    matched, judged = [], []
    for case in budget.index:
        edge_suited = (budget[case] <= 100) or avail.note[case] == "regulated" or avail.value[case] < 99
        cloud_suited = pd.isna(budget[case]) or case in largest
        if edge_suited == cloud_suited:
            continue
        judged.append(case)
        if rec.role[case] == ("edge" if edge_suited else "cloud"):
            matched.append(case)
    other = sorted(set(judged) - set(matched))
    return Fig(
        len(matched) / max(1, len(judged)),
        f"{len(matched)} of {len(judged)} use cases get the role the claim expects"
        + (f" (not {', '.join(other)})" if other else ""),
        "modeled",
    )


def _hybrid_evidence(rows: pd.DataFrame) -> dict[str, Fig]:
    table = cascade(rows).set_index("threshold")
    cloud, edge = table.loc["cloud only"], table.loc["edge only"]
    cloud_low = float(table.CI["cloud only"].split(" to ")[0])
    wins = table[
        (table.index != "cloud only")
        & (table["mean ms"] < cloud["mean ms"])
        & (table.CI.str.split(" to ").str[1].astype(float) >= cloud_low)
        & (table.accuracy > edge.accuracy)
    ]
    if len(wins):
        w = wins.sort_values("mean ms").iloc[0]
        text = (
            f"cascade at {wins.sort_values('mean ms').index[0]}: accuracy {w.accuracy:.1%} (cloud only "
            f"{cloud.accuracy:.1%}, edge only {edge.accuracy:.1%}), mean {w['mean ms']:.3g} ms against "
            f"{cloud['mean ms']:.3g} ms for cloud only, {w.offloaded:.0%} offloaded"
        )
    else:
        text = "no cascade threshold reaches cloud-only accuracy faster than cloud only"
    out = {"cascade_beats_both": Fig(float(len(wins) > 0), text)}
    check = split_check(rows)
    beats = []
    for name, g in check.groupby(level="network"):
        ends = g[g.cut.str.startswith("all")]
        middle = g.drop(ends.index)
        if len(middle) and len(ends) and middle["measured p50"].min() < ends["measured p50"].min():
            beats.append(name)
    out["split_beats_both"] = Fig(
        float(len(beats) > 0),
        f"a measured mid-graph split beats the measured ends on {', '.join(beats)}"
        if beats
        else "no measured mid-graph split beats running all on one side",
    )
    return out


def _architecture_evidence(rows: pd.DataFrame, rows01: pd.DataFrame) -> dict[str, Fig]:
    table = cascade(rows).set_index("threshold")
    lo_hi = {k: [float(x) for x in table.CI[k].split(" to ")] for k in ("edge only", "cloud only")}
    gap = lo_hi["cloud only"][0] - lo_hi["edge only"][1]
    p50 = select(rows01, "latency_p50", runtime="ort", precision="fp32", batch=1)
    p50 = p50[p50.input_size.isna() & p50.model.isin(["mobilenetv2", "resnet50"])]
    p50 = p50[p50.threads == p50.threads.max()].set_index("model").value
    ratio = float(p50["resnet50"] / p50["mobilenetv2"]) if len(p50) == 2 else float("nan")
    return {
        "architecture_accuracy_gap": Fig(
            gap,
            f"digits: the CNN's accuracy {table.accuracy['cloud only']:.1%} against logistic regression's "
            f"{table.accuracy['edge only']:.1%} (intervals {'apart' if gap > 0 else 'overlap'})",
        ),
        "architecture_latency_ratio": Fig(
            ratio,
            f"ResNet-50 takes {ratio:.3g}× MobileNetV2's p50 (ONNX Runtime fp32)"
            if len(p50) == 2
            else "notebook 01 did not measure both ResNet-50 and MobileNetV2",
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
        **_architecture_evidence(rows, rows01),
        **_input_evidence(rows01),
    }

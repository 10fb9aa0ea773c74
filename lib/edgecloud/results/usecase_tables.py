"""Notebook 03's tables, from store rows alone: options and their factors, scores, recommendations, sensitivity."""

from __future__ import annotations

import pandas as pd

from edgecloud.results.query import select

REQUIREMENTS = ["latency", "throughput", "privacy", "connectivity"]


def options(rows: pd.DataFrame) -> pd.DataFrame:
    """Each deployment option: role, kind, precision and the factor that scales this machine's compute to it."""
    f = select(rows, "device_factor")
    return pd.DataFrame(
        {
            "role": f.source.to_numpy(),
            "kind": f.kind.to_numpy(),
            "precision": f.precision.to_numpy(),
            "factor": f.value.round(4).to_numpy(),
            "how": f.note.to_numpy(),
        },
        index=pd.Index(f.target, name="option"),
    )


def margins(rows: pd.DataFrame) -> pd.DataFrame:
    """The binding (worst) margin of every option for every use case: options × use cases."""
    m = select(rows, "margin")
    worst = m.groupby(["target", "scenario"], sort=False).value.min().unstack("scenario")
    return worst.round(3)


def scores(rows: pd.DataFrame, case: str) -> pd.DataFrame:
    """One use case on every option: latency at its percentile with CI, each margin, monthly cost and transfer,
    utilisation at the peak, and the chance of meeting every requirement (with CI where it is uncertain)."""
    lat = select(rows, "latency_at_percentile", scenario=case).set_index("target")
    m = select(rows, "margin", scenario=case).pivot_table(
        index="target", columns="stage", values="value", aggfunc="first", sort=False
    )
    cost = select(rows, "monthly_cost", scenario=case).set_index("target")
    out = pd.DataFrame(
        {
            f"{lat.note.iloc[0]} ms": lat.value,
            "CI": [f"{lo:.3g}–{hi:.3g}" for lo, hi in zip(lat.ci_low, lat.ci_high, strict=True)],
            "kind": lat.kind,
        }
    )
    for req in REQUIREMENTS:
        if req in m:
            out[f"{req} margin"] = m[req]
    out["USD/month"] = cost.value.round(0)
    out["transfer USD/month"] = select(rows, "usd_month_transfer", scenario=case).set_index("target").value.round(0)
    out["utilisation"] = select(rows, "utilisation", scenario=case).set_index("target").value
    chance = select(rows, "feasible_probability", scenario=case).set_index("target")
    out["P(feasible)"] = chance.value
    interval = [f"{lo:.2f}–{hi:.2f}" if lo == lo else "" for lo, hi in zip(chance.ci_low, chance.ci_high, strict=True)]
    out["P CI"] = pd.Series(interval, index=chance.index)
    out["feasible"] = feasible(rows)[case].reindex(out.index)
    out.index.name = "option"
    return out.round(3)


def feasible(rows: pd.DataFrame) -> pd.Series:
    """(use case, option) → whether every requirement holds; a margin that could not be computed (NaN) fails."""
    return select(rows, "margin").assign(ok=lambda d: d.value >= 0).groupby(["scenario", "target"]).ok.all()


def recommendations(rows: pd.DataFrame) -> pd.DataFrame:
    """Per use case: the model, the recommended option, its role, the kind of its latency (measured or modeled),
    its monthly cost, its chance of meeting every requirement, the runner-up (the cheapest other feasible option)
    with its cost and chance, and the reason."""
    r = select(rows, "recommendation")
    kind = select(rows, "latency_at_percentile").set_index(["scenario", "target"]).kind
    cost = select(rows, "monthly_cost").set_index(["scenario", "target"]).value
    chance = select(rows, "feasible_probability").set_index(["scenario", "target"]).value
    ok = feasible(rows)
    runner, runner_cost, runner_chance = [], [], []
    for case, best in zip(r.scenario, r.target, strict=True):
        feasible_ = cost[case][ok[case].reindex(cost[case].index, fill_value=False)].drop(best, errors="ignore")
        feasible_ = feasible_.sort_values()
        runner.append(feasible_.index[0] if len(feasible_) else "—")
        runner_cost.append(round(float(feasible_.iloc[0])) if len(feasible_) else float("nan"))
        runner_chance.append(float(chance.get((case, runner[-1]), float("nan"))))
    keys = list(zip(r.scenario, r.target, strict=True))
    return pd.DataFrame(
        {
            "model": r.model.to_numpy(),
            "recommended": r.target.to_numpy(),
            "role": r.source.replace("", "—").to_numpy(),
            "kind": [kind.get(k, "—") for k in keys],
            "USD/month": [round(float(cost[k])) if k in cost.index else float("nan") for k in keys],
            "P(feasible)": [float(chance[k]) if k in chance.index else float("nan") for k in keys],
            "runner-up": runner,
            "runner-up USD/month": runner_cost,
            "runner-up P(feasible)": runner_chance,
            "reason": r.note.to_numpy(),
        },
        index=pd.Index(r.scenario, name="use case"),
    )


def failures(rows: pd.DataFrame, case: str) -> pd.DataFrame:
    """The options that fail a use case, with their binding constraint in words."""
    m = select(rows, "margin", scenario=case)
    m = m.assign(rank=m.value.fillna(-float("inf")))  # a margin that could not be computed ranks worst
    worst = m.loc[m.groupby("target", sort=False)["rank"].idxmin()]
    worst = worst[worst["rank"] < 0]
    return pd.DataFrame(
        {"binding": worst.stage.to_numpy(), "margin": worst.value.round(3).to_numpy(), "why": worst.note.to_numpy()},
        index=pd.Index(worst.target, name="option"),
    )


def _columns(rows: pd.DataFrame, metric: str, columns: dict[str, str]) -> pd.DataFrame:
    """One metric's rows as a table: display name → store column."""
    found = select(rows, metric)
    return pd.DataFrame({name: found[column].to_numpy() for name, column in columns.items()})


def sweeps(rows: pd.DataFrame) -> pd.DataFrame:
    """The recommendation at each point of every sweep: use case, parameter, scale, option."""
    return _columns(
        rows, "sweep", {"use case": "scenario", "parameter": "stage", "scale": "scale", "recommended": "target"}
    )


def flip_points(rows: pd.DataFrame) -> pd.DataFrame:
    """Where each recommendation flips, as a scale of today's RTT, bandwidth or daily volume."""
    out = _columns(
        rows, "flip_point", {"use case": "scenario", "parameter": "stage", "at scale": "value", "flip": "note"}
    )
    return out.round(3)


def what_ifs(rows: pd.DataFrame) -> pd.DataFrame:
    """The recommended role for each use case, edge speed × cloud speed."""
    return _columns(
        rows,
        "what_if",
        {"use case": "scenario", "edge speed": "scale", "cloud speed": "value", "role": "note", "option": "target"},
    )


def outages(rows: pd.DataFrame) -> pd.DataFrame:
    """Per use case and strategy, the share of requests answered within budget through simulated outages and the
    strategy's USD per month (edge first with cloud fallback pays the cloud only for what it sends on)."""
    o = select(rows, "answered_within_budget")
    wide = o.pivot_table(index="scenario", columns="target", values="value", aggfunc="first", sort=False)
    cost = select(rows, "strategy_usd_month")
    if len(cost):
        usd = cost.pivot_table(index="scenario", columns="target", values="value", aggfunc="first", sort=False)
        wide = wide.join(usd.add_prefix("$/month: ").round(0))
    wide["options"] = o.groupby("scenario", sort=False).note.first()
    wide.index.name = "use case"
    wide.columns.name = None
    return wide.round(4)

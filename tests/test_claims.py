"""Claims driven to each outcome through the store: the committed smoke store (tests/fixtures/store), edited where a
claim's deciding figure comes from, read by `decisions.evidence` and judged; an outcome that no store can reach, or
an evidence function that reads the wrong rows, fails here (test_analysis.py drives every rule from figures alone;
claim 10, whose halves come from the recommendations, only there)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from test_tables import rows as smoke_rows

from edgecloud.decisions import claims, evidence
from edgecloud.decisions.costs import DAYS_PER_MONTH

S, C, D = claims.SUPPORTED, claims.CONTRADICTED, "depends"
Stores = dict[str, pd.DataFrame]
NOTEBOOKS = ("01", "02", "03", "04")


def _set(stores: Stores, nb: str, metric: str, value: Callable[[pd.DataFrame], object], **where: object) -> None:
    """Replace the values of nb's rows of metric (and where) with value(those rows)."""
    rows = stores[nb]
    mask = rows.metric == metric
    for column, wanted in where.items():
        mask &= rows[column].isin(wanted if isinstance(wanted, list) else [wanted])
    assert mask.any(), f"no {metric} rows in {nb} where {where}"
    rows.loc[mask, "value"] = value(rows[mask])


def _role(stores: Stores) -> pd.Series:
    return evidence.roles(stores["03"])


def _by_role(stores: Stores, nb: str, metric: str, values: dict[str, float], **where: object) -> None:
    """Every row of metric set to values[its option's role] (options of another role keep theirs)."""
    role = _role(stores)
    _set(stores, nb, metric, lambda r: r.target.map(role).map(values).fillna(r.value), **where)


def _computed(margin: Callable[[pd.DataFrame], object]) -> Callable[[pd.DataFrame], np.ndarray]:
    """margin where the store computed one; a margin that could not be computed (NaN, e.g. a device not modeled
    for the case's model family) stays so."""
    return lambda r: np.where(r.value.isna(), np.nan, np.broadcast_to(margin(r), len(r)))


def _edge_latency(margin: Callable[[pd.DataFrame], object]) -> Callable[[Stores], None]:
    def edit(stores: Stores) -> None:
        role = _role(stores)
        edge = [t for t, r in role.items() if r == "edge"]
        _set(stores, "03", "margin", _computed(margin), stage="latency", target=edge)

    return edit


def _first_case_differs(rows: pd.DataFrame, first: float, rest: float) -> np.ndarray:
    return np.where(rows.scenario == rows.scenario.iloc[0], first, rest)


def _edge_devices_split_on_the_budget(stores: Stores) -> None:
    """In every use case, one edge device meets the latency budget and a second misses it (a copy of the first's
    row where the smoke run modeled only one edge device for the case's model family)."""
    rows03 = stores["03"]
    edge = [t for t, r in _role(stores).items() if r == "edge"]
    latency = rows03[(rows03.metric == "margin") & (rows03.stage == "latency") & rows03.target.isin(edge)]
    meets = latency.dropna(subset=["value"]).groupby("scenario").head(1)
    misses = meets.assign(target=[next(t for t in edge if t != m) for m in meets.target], value=-0.5)
    kept = rows03[~rows03.index.isin(latency.index) | rows03.index.isin(meets.index)].copy()
    kept.loc[meets.index, "value"] = 0.5
    stores["03"] = pd.concat([kept, misses], ignore_index=True)


def _private_edge(value: Callable[[pd.DataFrame], object]) -> Callable[[Stores], None]:
    """Every requirement's margin of every edge option in the use cases with personal or regulated data."""

    def edit(stores: Stores) -> None:
        sens = stores["03"][stores["03"].metric == "availability"].set_index("scenario").note
        private = sorted(sens[sens.isin(["personal", "regulated"])].index)
        edge = [t for t, r in _role(stores).items() if r == "edge"]
        _set(stores, "03", "margin", _computed(value), scenario=private, target=edge)

    return edit


def _transfer(share_of_bill: float) -> Callable[[Stores], None]:
    """Every cloud option's transfer fees set to a share of its monthly cost; the edge's to none."""

    def edit(stores: Stores) -> None:
        rows03 = stores["03"]
        bill = rows03[rows03.metric == "monthly_cost"].set_index(["scenario", "target"]).value
        cloud = _role(stores) == "cloud"

        def fee(r: pd.DataFrame) -> list[float]:
            pairs = zip(r.scenario, r.target, strict=True)
            return [share_of_bill * bill[(s, t)] if cloud[t] else 0.0 for s, t in pairs]

        _set(stores, "03", "usd_month_transfer", fee)

    return edit


def _input(ratio: float) -> Callable[[Stores], None]:
    """Latency at each model's largest input ratio× that at its smallest, for every sized fp32 run."""

    def value(r: pd.DataFrame) -> np.ndarray:
        size = r.input_size.astype(float)
        scaled = np.where(size == size.groupby(r.model).transform("min"), 10.0, 10.0 * ratio)
        return np.where(size.isna(), r.value, scaled)

    return lambda s: _set(s, "01", "latency_p50", value, runtime="ort", precision="fp32", batch=1)


def _cloud_costs(capacity_rps: float, transfer_share: float) -> Callable[[Stores], None]:
    """Every cloud option's cost model: one instance sustains capacity_rps with no peak floor, and transfer costs
    transfer_share of one instance's month at the case's volume (so a fixed fleet's bill still grows)."""

    def edit(stores: Stores) -> None:
        rows03 = stores["03"]
        cloud = [t for t, r in _role(stores).items() if r == "cloud"]
        models = rows03[rows03.metric == "cost_model"].set_index(["scenario", "target", "stage"]).value
        volume = rows03[rows03.metric == "daily_volume"].set_index("scenario").value

        def transfer(r: pd.DataFrame) -> list[float]:
            pairs = zip(r.scenario, r.target, strict=True)
            month = [models[(s, t, "instance_usd_month")] / (volume[s] * DAYS_PER_MONTH) for s, t in pairs]
            return [transfer_share * m for m in month]

        _set(stores, "03", "cost_model", lambda r: capacity_rps, stage="capacity_rps", target=cloud)
        _set(stores, "03", "cost_model", lambda r: 0.0, stage="peak_rps", target=cloud)
        _set(stores, "03", "cost_model", transfer, stage="transfer_usd_per_inference", target=cloud)

    return edit


def _digit_models(accuracy_gap: float, latency_ratio: float) -> Callable[[Stores], None]:
    """The cascade's two digit models: the served one's accuracy interval accuracy_gap above the edge one's (below
    when negative: overlapping), and its in-process p50 latency_ratio× the edge one's."""

    def edit(stores: Stores) -> None:
        rows = stores["04"]
        acc = rows.metric == "cascade_accuracy"
        edge_model = rows[acc].model.iloc[0]
        for scale, (low, high) in {0.0: (0.80, 0.85), np.inf: (0.85 + accuracy_gap, 0.90 + accuracy_gap)}.items():
            rows.loc[acc & (rows.scale == scale), ["value", "ci_low", "ci_high"]] = [(low + high) / 2, low, high]
        p50 = {True: 10.0, False: 10.0 * latency_ratio}
        _set(stores, "04", "latency_p50", lambda r: (r.model == edge_model).map(p50), scenario="cascade")

    return edit


def _cascade_mean(at_half: float, others: float) -> Callable[[Stores], None]:
    """The cascade's mean latency at threshold 0.5 (as accurate as cloud only, within its interval) at_half× cloud
    only's, and at every other threshold others× (the smoke run measured no mid-graph split)."""

    def edit(stores: Stores) -> None:
        rows = stores["04"]
        mean = rows.metric == "cascade_mean"
        cloud = float(rows.loc[mean & (rows.scale == np.inf), "value"].iloc[0])
        _set(stores, "04", "cascade_mean", lambda r: np.where(r.scale == 0.5, at_half, others) * cloud,
             scale=[s for s in rows.loc[mean, "scale"] if s != np.inf])  # fmt: skip

    return edit


EDITS: dict[tuple[int, str], Callable[[Stores], None]] = {
    (1, S): lambda s: _set(s, "02", "latency_p50", lambda r: 60.0, scenario="warm connection"),
    (1, C): lambda s: _set(s, "02", "latency_p50", lambda r: 10.0, scenario="warm connection"),
    (1, D): lambda s: _set(
        s, "02", "latency_p50", lambda r: np.where(np.arange(len(r)) == 0, 10.0, 90.0), scenario="warm connection"
    ),
    (2, S): _edge_latency(lambda r: 0.5),
    (2, C): _edge_latency(lambda r: -0.5),
    (2, D): _edge_latency(lambda r: _first_case_differs(r, -0.5, 0.5)),
    (3, S): lambda s: _by_role(s, "03", "capacity", {"edge": 100.0, "cloud": 200.0}),
    (3, C): lambda s: _by_role(s, "03", "capacity", {"edge": 100.0, "cloud": 50.0}),
    (3, D): lambda s: _by_role(s, "03", "capacity", {"edge": 100.0, "cloud": 100.0}),
    (4, S): lambda s: _set(s, "03", "answered_within_budget", lambda r: np.where(r.target == "edge only", 1.0, 0.5)),
    (4, C): lambda s: _set(s, "03", "answered_within_budget", lambda r: np.where(r.target == "edge only", 0.5, 1.0)),
    (4, D): lambda s: _set(
        s,
        "03",
        "answered_within_budget",
        lambda r: np.where(r.target == "edge only", _first_case_differs(r, 0.5, 1.0), 0.9),
    ),
    (6, S): lambda s: _set(s, "04", "break_even", lambda r: 12.0, stage=[None]),
    (6, C): lambda s: _set(s, "04", "break_even", lambda r: np.nan, stage=[None]),
    (6, D): lambda s: _set(s, "04", "break_even", lambda r: _first_case_differs(r, np.nan, 12.0), stage=[None]),
    (7, S): _transfer(0.5),
    (7, C): _transfer(0.0),
    (7, D): _transfer(0.01),
    (8, S): _private_edge(lambda r: 0.5),
    (8, C): _private_edge(lambda r: -0.5),
    (8, D): _private_edge(lambda r: _first_case_differs(r, -0.5, 0.5)),
    (9, S): _edge_latency(lambda r: -0.5),
    (9, C): _edge_latency(lambda r: 0.5),
    (9, D): _edge_devices_split_on_the_budget,
    (5, S): _cloud_costs(1e-3, 0.0),
    (5, C): _cloud_costs(np.inf, 0.0),
    (5, D): _cloud_costs(np.inf, 0.125),
    (11, S): _cascade_mean(0.5, 2.0),
    (11, C): _cascade_mean(2.0, 2.0),
    (11, D): _cascade_mean(0.9, 2.0),
    (12, S): _digit_models(0.10, 3.0),
    (12, C): _digit_models(-0.02, 1.0),
    (12, D): _digit_models(0.10, 1.3),
    (13, S): _input(2.5),
    (13, C): _input(1.0),
    (13, D): _input(1.1),
}


@pytest.mark.parametrize(("number", "outcome"), list(EDITS))
def test_a_claim_reaches_each_outcome_from_the_store(number: int, outcome: str) -> None:
    stores = {nb: smoke_rows(nb).copy() for nb in NOTEBOOKS}
    EDITS[(number, outcome)](stores)
    found = evidence.evidence(stores["04"], stores["01"], stores["02"], stores["03"])
    claim = next(c for c in claims.CLAIMS if c.number == number)
    assert claim.judge(found).verdict.startswith(outcome)

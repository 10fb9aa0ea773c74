"""Notebook 04's decisions on hand-computed and synthetic cases: cost, TCO and break-even; cascade and split
selection; the split's two halves against the whole model; claims whose verdicts flip at their thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edgecloud.decisions import claims, hybrid
from edgecloud.decisions.costs import (
    DAYS_PER_MONTH,
    CostModel,
    Fleet,
    break_even_month,
    cloud_model,
    edge_model,
    fallback_monthly,
)
from edgecloud.models import split
from edgecloud.models.zoo import get_model
from edgecloud.results import metrics
from edgecloud.results.analysis_tables import capacity
from edgecloud.results.store import Config, Recorder
from edgecloud.runtimes.onnx_files import export_onnx
from edgecloud.runtimes.ort import ort_session
from edgecloud.runtimes.ort_profile import node_shares
from edgecloud.sentences.analysis import capacity as capacity_finding

VOLUME = 1e6  # inferences a day


def _edge(idle_w: float = 0.0):  # 10 devices at $100 for 24 months, $2 upkeep each, 10 W × 100 ms at $0.20/kWh
    return edge_model(Fleet(10, 100, 24, 2.0, 10.0, idle_w), 100.0, 0.2, 0.0)


def _cloud():  # $0.20/h instances of 10 requests/s, peak 3× the mean, 1000 B responses at $0.09/GB
    return cloud_model(0.2, 1, 10.0, 1000 / 1e9 * 0.09, 5.0, 3.0)


def test_edge_monthly_cost_by_hand() -> None:
    energy = 10 * 0.1 / 3.6e6 * 0.2 * VOLUME * DAYS_PER_MONTH  # 1 J each
    cost = _edge().monthly(VOLUME)
    assert cost.total == pytest.approx(1000 / 24 + 20 + energy)
    assert cost.parts["energy"] == pytest.approx(1.6889, rel=1e-3)


def test_always_on_devices_pay_idle_power_and_only_the_rest_per_inference() -> None:
    cost = _edge(idle_w=3.0).monthly(VOLUME)
    assert cost.parts["idle power"] == pytest.approx(10 * 3.0 * 730 / 1e3 * 0.2)
    assert cost.parts["energy"] == pytest.approx(1.6889 * 7 / 10, rel=1e-3)


def test_cloud_monthly_cost_by_hand() -> None:
    # mean 11.57/s × 3 = 34.7/s at peak: 4 instances of 10/s, each $0.20 × 730 h
    cost = _cloud().monthly(VOLUME)
    assert _cloud().instances(VOLUME) == 4
    assert cost.parts["instances"] == pytest.approx(4 * 0.2 * 730)
    assert cost.parts["transfer"] == pytest.approx(1000 / 1e9 * 0.09 * VOLUME * DAYS_PER_MONTH)


def test_break_even_by_hand_and_never_when_the_edge_runs_dearer() -> None:
    edge, cloud = _edge(), _cloud()
    saving = cloud.running(VOLUME).total - edge.running(VOLUME).total
    assert break_even_month(edge, cloud, VOLUME, 60) == pytest.approx(1000 / saving, abs=1 / 30)
    cheap_cloud = cloud_model(0.001, 1, 1000.0, 0.0, 1.0, 3.0)
    assert break_even_month(edge, cheap_cloud, VOLUME, 60) is None


def test_tco_buys_devices_again_at_the_end_of_their_life() -> None:
    tco = _edge().tco(np.array([0, 23, 24, 25]), VOLUME)
    running = _edge().running(VOLUME).total
    assert tco[0] == pytest.approx(1000)
    assert tco[2] == pytest.approx(1000 + 24 * running)
    assert tco[3] == pytest.approx(2000 + 25 * running)


def test_cascade_latency_is_read_from_requests_measured_end_to_end() -> None:
    """Accuracy and the offloaded share over the labelled set; latency from the measured requests: one kept on the
    edge pays its edge time, one sent pays its measured time to the server's answer (not a composed draw)."""
    confidence = np.array([0.99, 0.6, 0.95, 0.4])
    edge_ok = np.array([True, False, True, False])
    cloud_ok = np.array([True, True, True, True])
    timelines = {
        "confidence": np.array([0.99, 0.6]),
        "edge_ms": np.array([1.0, 2.0]),
        "total_ms": np.array([9.0, 14.0]),
    }
    points = hybrid.cascade(confidence, edge_ok, cloud_ok, timelines, [0.0, 0.9, np.inf], 1e-6, 0.95)
    edge_only, mid, cloud_only = points
    assert (edge_only.accuracy.value, edge_only.offloaded, edge_only.mean_ms) == (0.5, 0.0, 1.5)
    assert (mid.accuracy.value, mid.offloaded, mid.mean_ms) == (1.0, 0.5, (1.0 + 14.0) / 2)
    assert (cloud_only.accuracy.value, cloud_only.mean_ms) == (1.0, (9.0 + 14.0) / 2)
    assert mid.p99_ms == pytest.approx(np.percentile([1.0, 14.0], 99))
    assert mid.usd_per_million == pytest.approx(0.5)
    assert [p.frontier for p in points] == [True, True, False]  # cloud only: no more accurate, slower


def test_split_change_points_are_where_the_lines_cross() -> None:
    lines = [
        hybrid.SplitLine(0, 10.0, 1_000_000),  # all cloud: fast compute, 1 MB to send
        hybrid.SplitLine(5, 30.0, 10_000),  # mid cut: 10 kB
        hybrid.SplitLine(9, 80.0, 0.0),  # all edge
    ]
    changes = hybrid.change_points(lines, 0.1, 10_000)
    bw_edge_mid = 10_000 * 8e-3 / (80 - 30)
    bw_mid_cloud = (1_000_000 - 10_000) * 8e-3 / (30 - 10)
    assert [(round(b, 3), lo, hi) for b, lo, hi in changes] == [
        (round(bw_edge_mid, 3), 9, 5),
        (round(bw_mid_cloud, 3), 5, 0),
    ]
    assert hybrid.best(lines, 10.0).index == 5


def test_split_halves_give_the_whole_models_output() -> None:
    model = get_model("digits_cnn")
    path, x = export_onnx(model), model.inputs(4)
    cuts = split.cuts(path, model.inputs(1))
    assert cuts[0].index == 0 and cuts[-1].all_edge and len(cuts) > 3
    whole = ort_session(path, 1).run(None, x)[0]
    for cut in cuts[1:-1]:
        head, tail = (ort_session(p, 1) for p in split.halves(path, cut))
        middle = head.run(None, x)[0]
        assert middle.nbytes == cut.nbytes * 4  # batch 4 against the batch-1 size
        np.testing.assert_allclose(tail.run(None, {cut.tensor: middle})[0], whole, rtol=1e-5, atol=1e-5)
    shares = node_shares(path, 1, model.inputs(1), runs=5)
    assert shares.sum() == pytest.approx(1.0) and (shares >= 0).all()


def _evidence(**values: float) -> claims.Evidence:
    return {k: claims.Fig(v, f"{k} = {v}") for k, v in values.items()}


S, C, D = claims.SUPPORTED, claims.CONTRADICTED, "depends"
ONE_FIGURE = {  # claim → its deciding figure and a value that gives each outcome
    2: ("edge_meets_latency", {S: 1.0, C: 0.0, D: 0.5}),
    3: ("cloud_over_edge_capacity", {S: 2.0, C: 0.5, D: 1.1}),
    4: ("edge_answers_offline", {S: 1.0, C: 0.0, D: 0.6}),
    5: ("cloud_cost_at_10x", {S: 9.0, C: 1.0, D: 2.0}),
    6: ("break_even_share", {S: 1.0, C: 0.0, D: 0.5}),
    7: ("transfer_avoided_share", {S: 0.2, C: -0.1, D: 0.01}),
    8: ("private_cases_edge_feasible", {S: 1.0, C: 0.0, D: 0.5}),
    9: ("edge_fails_large_model", {S: 1.0, C: 0.0, D: 0.5}),
    11: ("hybrid_wins", {S: 1.0, C: 0.0, D: 0.5}),
    13: ("input_effect", {S: 2.5, C: 1.01, D: 1.1}),
}
TWO_FIGURES = {
    1: {
        S: dict(cloud_p50_min=60, cloud_p50_max=300),
        C: dict(cloud_p50_min=3, cloud_p50_max=30),
        D: dict(cloud_p50_min=3, cloud_p50_max=300),
    },
    10: {
        S: dict(roles_edge_half=1.0, roles_cloud_half=0.9),
        C: dict(roles_edge_half=0.0, roles_cloud_half=0.1),
        D: dict(roles_edge_half=1.0, roles_cloud_half=0.0),
    },
    12: {
        S: dict(architecture_accuracy_gap=0.05, architecture_latency_ratio=3.0),
        C: dict(architecture_accuracy_gap=-0.01, architecture_latency_ratio=1.0),
        D: dict(architecture_accuracy_gap=0.05, architecture_latency_ratio=1.1),
    },
}
CASES = [(n, out, {key: v}) for n, (key, values) in ONE_FIGURE.items() for out, v in values.items()] + [
    (n, out, figures) for n, by_outcome in TWO_FIGURES.items() for out, figures in by_outcome.items()
]


@pytest.mark.parametrize(("number", "outcome", "figures"), CASES)
def test_every_claim_reaches_each_outcome(number, outcome, figures) -> None:
    claim = next(c for c in claims.CLAIMS if c.number == number)
    assert claim.judge(_evidence(**figures)).verdict.startswith(outcome)


def test_every_claim_has_three_outcomes_under_test() -> None:
    tested = {(n, out) for n, out, _ in CASES}
    assert tested == {(c.number, out) for c in claims.CLAIMS for out in (S, C, D)}


def test_a_claim_whose_figure_could_not_be_computed_is_untested() -> None:
    claim = next(c for c in claims.CLAIMS if c.number == 9)
    assert claim.judge(_evidence(edge_fails_large_model=float("nan"))).verdict == claims.UNTESTABLE


def test_every_claim_of_the_reference_list_is_in_the_ledger() -> None:
    assert [c.number for c in claims.CLAIMS] == list(range(1, 14))


def test_fallback_pays_the_cloud_only_for_what_it_sends_on() -> None:
    """Devices 3600 USD over 36 months + 10 USD upkeep + 1e-6 USD energy each; cloud 100 USD per instance of
    10 req/s, 1e-5 USD transfer each; 1M requests a day."""
    edge = CostModel(upfront_usd=3600, life_months=36, fixed_usd_month=10, usd_per_inference=1e-6)
    cloud = CostModel(
        instance_usd_month=100, capacity_rps=10, transfer_usd_per_inference=1e-5, peak_rps=20, peak_to_mean=3
    )
    none = fallback_monthly(edge, cloud, 1e6, 0.0)
    assert none.total == pytest.approx(100 + 10 + 1e-6 * 1e6 * 30.4)
    assert "cloud" not in none.parts
    some = fallback_monthly(edge, cloud, 1e6, 0.25)  # overflow peak 0.25e6/86400 × 3 = 8.7 req/s: one instance
    assert some.parts["edge"] == pytest.approx(100 + 10 + 1e-6 * 0.75e6 * 30.4)
    assert some.parts["cloud"] == pytest.approx(100 + 1e-5 * 0.25e6 * 30.4)


def test_capacity_keeps_valid_in_bound_rates_and_an_fp32_ceiling_share(tmp_path) -> None:
    r00, r01, r02 = (Recorder(n, root=tmp_path) for n in ("00-system", "01-concepts", "02-cloud-edge"))
    r00.add("gemm_rate_peak", 100.0, "GFLOP/s", Config(threads=2, stage="gemm"))
    r01.add("flops", 2e9, "FLOP", Config(model="m"))
    for target, precision, rates in (("cloud", "fp32", (20.0, 25.0)), ("edge", "int8", (40.0, 30.0))):
        for batch, rate in zip((1, 4), rates, strict=True):
            conf = Config(target=target, model="m", precision=precision, threads=2, batch=batch, scenario="batch-sweep")
            r02.add("throughput", rate, "samples/s", conf)
    for target, scenario, qps, p99, valid in (
        ("edge", "loadgen-Offline", None, 900.0, False),
        ("edge", "loadgen-Server", 30.0, 9.0, True),
        ("edge", "loadgen-Server", 35.0, 20.0, True),  # VALID but over the bound
        ("edge", "loadgen-Server", 33.0, 9.5, False),  # within the bound but INVALID
        ("cloud", "loadgen-Server", 10.0, 30.0, True),
    ):
        conf = Config(target=target, model="m", scenario=scenario)
        figures = {"loadgen_samples_per_s": qps or 39.0, "loadgen_p90": p99, "loadgen_p99": p99}
        for metric, value in {**figures, **({"loadgen_target_qps": qps} if qps else {})}.items():
            r02.add(metric, value, metrics.BY_NAME[metric].units[0], conf, valid=valid)
    table = capacity(r02.frame(), r00.frame(), r01.frame(), bound_ms=10.0)
    assert table.loc["edge", "best batch"] == 1 and table.loc["cloud", "best batch"] == 4
    assert table.loc["edge", "Server queries/s (VALID, within bound)"] == 30.0
    assert pd.isna(table.loc["cloud", "Server queries/s (VALID, within bound)"])
    assert pd.isna(table.loc["edge", "Offline samples/s (VALID)"])
    assert table.loc["cloud", "share of fp32 ceiling"] == pytest.approx(25.0 * 2.0 / 100.0)  # 50 GFLOP/s of 100
    assert pd.isna(table.loc["edge", "share of fp32 ceiling"])
    assert "no VALID Server run met the bound on cloud" in capacity_finding(table)


def test_edge_devices_fail_and_the_fallback_sends_their_traffic_to_the_cloud() -> None:
    """0.1 failures a year, 48 h each: MTBF 87,600 h, up 87,600 ÷ 87,648 of the time; a link always up."""
    from edgecloud.decisions.sensitivity import device_availability, fallback_share, outage_shares

    up = device_availability(0.1, 48.0)
    assert up == pytest.approx(87600 / 87648)
    link = np.ones(1000, bool)
    shares = outage_shares(1.0, 2.0, 1.0, link, up)  # the device could take twice the peak, every request in time
    assert shares["edge only"] == pytest.approx(up) and up < 1.0
    assert shares["edge first, cloud fallback"] == pytest.approx(1.0)
    assert fallback_share(2.0, link, up) == pytest.approx(1 - up) and 1 - up > 0

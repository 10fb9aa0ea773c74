"""Use-case scoring on hand-made inputs with known answers: who meets what, why the others fail, where the answer
flips, and how a device factor scales; plus a device and a use case added in YAML."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import yaml
from golden import assert_golden

from edgecloud.decisions import sensitivity
from edgecloud.decisions.costs import TransferPrices
from edgecloud.decisions.devices import Cited, Option, cited, latency_factor, resolve
from edgecloud.decisions.usecases import (
    Context,
    ServerRun,
    WhatIf,
    evaluate,
    feasible_chance,
    network_draws,
    recommend,
    resampled_percentiles,
    uncertainty,
)
from edgecloud.params import CITED_FIELDS, Device, NetworkProfile, Params, UseCase, load_params
from edgecloud.sources import sourced
from edgecloud.timing import Estimate

PROFILE = NetworkProfile(
    rtt_ms=50, rtt_statistic="mean", jitter_ms=0, bandwidth_mbps=1000, loss=0, distance_km=100, source="test"
)


def _option(name: str, role: str, factor: float, price: float = 100.0, hourly: float = 1.0) -> Option:
    return Option(
        name,
        role,
        "modeled",
        "int8",
        factor,
        "test",
        Cited(price, "assumption", "test"),
        Cited(hourly, "assumption", "test") if role == "cloud" else None,
        Cited(5.0, "assumption", "test"),
        Cited(2.0, "assumption", "test"),
        1.0,
        36,
        0.0,
        "",
    )


def _case(budget: float | None, sensitivity: str = "public", **kw) -> UseCase:
    fields = dict(
        model="m",
        latency_budget_ms=budget,
        percentile=99,
        peak_rps=1,
        sensitivity=sensitivity,
        availability_pct=100.0,
        mean_outage_min=1,
        bytes_per_inference=1000,
        fleet_size=10,
        daily_volume=1000,
        network="p",
    )
    fields.update(kw)
    return UseCase(
        **fields,
        sources={k: "assumption: test" for k in fields if k not in {"model", "network", "sensitivity", "percentile"}},
    )


def _context(local_ms: float) -> Context:
    options = {"edge": _option("edge", "edge", 1.0), "cloud": _option("cloud", "cloud", 0.1)}
    samples = {("m", "int8"): np.full(200, local_ms) + np.linspace(0, local_ms / 100, 200)}
    prices = {"p": TransferPrices(access=0.01, ingress=0.0, egress=0.09)}
    families = {"m": "MLP", "resnet50": "convolutional vision"}
    return Context(options, samples, 0.0, {"m": 4000}, families, {}, {"p": PROFILE}, [], 1.0, prices, 0.16, draws=2000)


@pytest.mark.parametrize(
    ("origin", "edge_usd", "cloud_usd"),
    [
        # data in cloud storage: the edge pulls 16 kB out (access 0.01 + egress 0.09 $/GB) and sends 4 kB back
        # (access 0.01 + ingress 0); the cloud option reads it in place and its answers stay there
        ("cloud", (16000 * 0.10 + 4000 * 0.01) / 1e9 * 1e6 * 30.4, 0.0),
        # data on the device: the cloud option pays the 16 kB up (0.01 + 0) and the 4 kB answer down (0.01 + 0.09)
        ("device", 0.0, (16000 * 0.01 + 4000 * 0.10) / 1e9 * 1e6 * 30.4),
    ],
)
def test_transfer_fees_follow_where_the_data_starts(origin, edge_usd, cloud_usd) -> None:
    case = _case(None, bytes_per_inference=16000, daily_volume=1e6, peak_rps=100, data_origin=origin)
    scores = {s.option: s for s in evaluate(_context(1.0), "batch", case)}
    assert scores["edge"].cost.parts["transfer"] == pytest.approx(edge_usd)
    assert scores["cloud"].cost.parts["transfer"] == pytest.approx(cloud_usd)


def test_the_measured_server_is_timed_on_its_served_path_not_in_process() -> None:
    """Served samples (30 ms, serving included) replace in-process ones (1 ms) plus the serving overhead (7 ms)."""
    ctx = _context(1.0)
    ctx.overhead_ms = 7.0
    ctx.options["cloud"] = replace(_option("cloud", "cloud", 1.0), served=True)
    composed = {s.option: s for s in evaluate(ctx, "c", _case(500.0, percentile=50))}["cloud"].latency.value
    ctx.served_ms = {("m", "int8"): np.full(200, 30.0)}
    served = {s.option: s for s in evaluate(ctx, "c", _case(500.0, percentile=50))}["cloud"].latency.value
    assert served - composed == pytest.approx(30.0 - (1.0 + 7.0), abs=1.0)


def test_the_measured_server_takes_its_capacity_from_valid_loadgen_runs_within_the_budget() -> None:
    """Capacity is the highest VALID Server rate whose p99 leaves the network its share of the budget: 50 ms left
    after the network's p99 admits the 40/s run (p99 45 ms), not the 60/s one (p99 55 ms); with no VALID run that
    fits, the option fails on throughput instead of being sized from a model."""
    ctx = _context(1.0)
    ctx.options["cloud"] = replace(_option("cloud", "cloud", 1.0), served=True)
    ctx.served_ms = {("m", "int8"): np.full(200, 20.0)}
    ctx.server_runs = [ServerRun(20.0, 30.0), ServerRun(40.0, 45.0), ServerRun(60.0, 55.0)]
    ctx.server_runs_from = "notebook 02 run r1"
    network = network_draws(ctx, _case(None), ctx.options["cloud"], 2000, WhatIf())
    case = _case(float(np.percentile(network, 99)) + 50.0)
    cloud = {s.option: s for s in evaluate(ctx, "c", case)}["cloud"]
    assert cloud.capacity == 40.0 and "LoadGen Server at 40/s, VALID" in cloud.capacity_note
    assert "notebook 02 run r1" in cloud.capacity_note
    ctx.server_runs = [ServerRun(60.0, 55.0)]
    cloud = {s.option: s for s in evaluate(ctx, "c", case)}["cloud"]
    assert cloud.capacity == 0.0 and "no VALID LoadGen Server run" in cloud.capacity_note
    assert not cloud.feasible and next(r for r in cloud.requirements if r.name == "throughput").margin == -1.0
    ctx.server_runs = None  # no Server runs made: modeled, as before
    assert "modeled" in {s.option: s for s in evaluate(ctx, "c", case)}["cloud"].capacity_note


def test_the_measured_server_at_load_takes_loadgens_latencies_at_the_next_measured_rate_up() -> None:
    """At 30 requests/s on one instance the latency is the 40/s run's queries (45 ms), not the idle served samples
    (20 ms) through the queueing model; a run without recorded latencies leaves the queueing model in charge."""
    ctx = _context(1.0)
    ctx.options["cloud"] = replace(_option("cloud", "cloud", 1.0), served=True)
    ctx.served_ms = {("m", "int8"): np.full(200, 20.0)}
    runs = [ServerRun(20.0, 30.0, np.full(300, 30.0)), ServerRun(40.0, 45.0, np.full(300, 45.0))]
    ctx.server_runs = [*runs, ServerRun(60.0, 55.0, np.full(300, 55.0))]
    network = float(np.percentile(network_draws(ctx, _case(None), ctx.options["cloud"], 2000, WhatIf()), 50))
    case = _case(500.0, percentile=50, peak_rps=30, daily_volume=30 * 86400 / 3)
    cloud = {s.option: s for s in evaluate(ctx, "c", case)}["cloud"]
    assert cloud.instances == 1
    assert cloud.latency.value == pytest.approx(45.0 + network, abs=0.5)
    assert "LoadGen's VALID Server run at 40/s" in next(r for r in cloud.requirements if r.name == "latency").detail
    ctx.server_runs = [replace(r, latencies_ms=np.empty(0)) for r in ctx.server_runs]
    modeled = {s.option: s for s in evaluate(ctx, "c", case)}["cloud"]
    assert modeled.latency.value < 45.0 + network - 5


def test_a_case_only_the_edge_meets() -> None:
    best = recommend(evaluate(_context(5.0), "fast", _case(20)), 0.8)
    assert best.option == "edge" and "meets every requirement" in best.reason
    cloud = next(s for s in evaluate(_context(5.0), "fast", _case(20)) if s.option == "cloud")
    assert not cloud.feasible and cloud.binding.name == "latency"


def test_a_case_only_the_cloud_meets() -> None:
    scores = evaluate(_context(100.0), "heavy", _case(80))
    best = recommend(scores, 0.8)
    assert best.option == "cloud" and best.role == "cloud"
    edge = next(s for s in scores if s.option == "edge")
    # idle it would miss by (80 − 101) / 80; one request a second at 100 ms each adds the wait of a 10%-busy queue
    assert edge.binding.name == "latency" and edge.binding.margin < (80 - 101) / 80 - 0.02


def test_an_edge_device_past_saturation_never_answers_in_time(recwarn) -> None:
    """Twenty 100 ms requests a second on one device: the queue grows without end, so its p99 is infinite (not the
    NaN of interpolating between infinite waits) and the latency requirement fails."""
    edge = next(s for s in evaluate(_context(100.0), "flood", _case(80, peak_rps=20)) if s.option == "edge")
    assert edge.latency.value == float("inf") and not edge.feasible
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_the_chance_of_meeting_a_budget_keeps_the_doubt_of_correlated_samples() -> None:
    """Latencies that come in runs (20 requests slowed by a neighbour, 20 quiet, and so on) hold fewer independent
    observations than samples: resampled one by one, 200 of them make a p60 within 20 ms look impossible (about 0.3%
    of resamples); resampled in runs, the chance stays near one in ten."""
    ctx = _context(1.0)
    local = np.tile(np.repeat([10.0, 30.0], 20), 5)
    case, edge = _case(20.0, percentile=60), ctx.options["edge"]
    chance = feasible_chance(resampled_percentiles(ctx, case, edge, local, np.zeros(2000), WhatIf()), 20.0, 0.95)
    assert 0.03 < chance.value < 0.4


def test_a_margin_inside_the_measurements_noise_is_called_uncertain_with_its_chance() -> None:
    """Samples in runs (24 at 10 ms, 16 at 30 ms): the p55 is 10 ms and meets 20 ms, but a resample with fewer quiet
    runs puts it at 30 ms. Thousands of draws from the same samples hide that (their p55 is 10 ms every time); the
    interval and the chance come from resampling the measurement itself, so the verdict says it is a close call."""
    ctx = _context(1.0)
    ctx.compute_ms[("m", "int8")] = np.tile(np.repeat([10.0, 30.0], [24, 16]), 5)
    edge = next(s for s in evaluate(ctx, "close", _case(20.0, percentile=55)) if s.option == "edge")
    assert edge.latency.value == 10.0 and edge.latency.low <= 20.0 < edge.latency.high
    assert 0.2 < edge.chance.value < 0.95
    assert uncertainty(edge).startswith("uncertain: latency margin +50% (") and "of resamples" in uncertainty(edge)


def test_a_cheaper_option_that_meets_the_requirements_only_by_chance_is_passed_over() -> None:
    """Both options meet a loose budget; the cheaper one meets it in half the resamples only, so the recommendation
    is the dearer one that is sure, and says what it passed over; when no option is sure, the cheapest feasible one
    is recommended as uncertain."""
    scores = evaluate(_context(5.0), "c", _case(500.0))
    cheap, dear = sorted((s for s in scores if s.feasible), key=lambda s: s.cost.total)
    shaky = [replace(s, chance=Estimate(0.5, 0.45, 0.55)) if s is cheap else s for s in scores]
    best = recommend(shaky, 0.8)
    assert best.option == dear.option and "cheapest option that meets every requirement in at least 80%" in best.reason
    assert f"{cheap.option} costs less (${cheap.cost.total:,.0f}) but meets them in only 50%" in best.reason
    assert recommend(shaky, 0.5).option == cheap.option
    unsure = recommend([replace(s, chance=Estimate(0.5, 0.45, 0.55)) for s in scores], 0.8)
    assert unsure.option == cheap.option and "no feasible option meets every requirement in 80%" in unsure.reason


def test_regulated_data_rules_the_cloud_out_whatever_its_speed() -> None:
    scores = evaluate(_context(100.0), "hospital", _case(80, sensitivity="regulated"))
    cloud = next(s for s in scores if s.option == "cloud")
    assert cloud.binding.name == "privacy" and not cloud.feasible


def test_a_case_no_option_meets_renders_the_nearest_miss() -> None:
    best = recommend(evaluate(_context(5.0), "impossible", _case(1)), 0.8)
    assert best.option is None and "no option meets every requirement" in best.reason
    assert "nearest miss is **edge**" in best.reason  # 5 ms misses 1 ms by less than 55 ms does


def test_flip_point_solver_finds_a_known_boundary() -> None:
    found, grid = sensitivity.flips(lambda x: "edge" if x < 3.7 else "cloud", 0.1, 10, 13)
    assert len(found) == 1 and found[0].scale == pytest.approx(3.7, rel=0.02)
    assert (found[0].before, found[0].after) == ("edge", "cloud") and len(grid) == 13


def test_rtt_flip_matches_the_latency_budget() -> None:
    ctx, case = _context(1.0), _case(80)  # cloud: 0.1 ms compute + 50 ms × scale RTT; edge also meets
    ctx.options["edge"] = _option("edge", "edge", 1.0, price=1e6)  # the edge is feasible but dear
    label = lambda s: recommend(evaluate(ctx, "c", case, WhatIf(rtt=s), ci=False), 0.8).option  # noqa: E731
    found, _ = sensitivity.flips(label, 0.5, 4, 9)
    assert len(found) == 1 and found[0].scale == pytest.approx(79.9 / 50, rel=0.03)
    assert (found[0].before, found[0].after) == ("cloud", "edge")


def test_device_factor_divides_like_statistics() -> None:
    """A published p90 is divided by this machine's p90, a published mean by its mean: never by the median."""
    assert latency_factor(2.0, 8.0) == 0.25  # a device 4× faster on the reference model
    local = np.concatenate([np.full(80, 10.0), np.full(20, 30.0)])  # p50 10 ms, p90 30 ms, mean 14 ms
    published = float(sourced("rpi5_resnet50_int8_4t"))
    for statistic, here in (("p90", 30.0), ("mean", 14.0), ("p50", 10.0)):
        device = Device(
            role="edge", reference_latency="rpi5_resnet50_int8_4t", reference_statistic=statistic, price="rpi5_price"
        )
        option = resolve("pi", device, "int8", local)
        assert option.factor == pytest.approx(published / here)
    assert option.kind == "modeled" and "rpi5_resnet50_int8_4t" in option.factor_note
    assert cited("assumption: 300 USD, a mini PC").value == 300.0 and cited("rpi5_price").kind == "sourced"


def test_a_throughput_figure_sets_capacity_never_latency() -> None:
    device = Device(
        role="cloud", reference_throughput="spr_4core_resnet50_int8", price="rpi5_price", hourly="rpi5_price"
    )
    option = resolve("cpu", device, "int8", np.full(50, 10.0))
    assert np.isnan(option.factor) and option.reference_rps == float(sourced("spr_4core_resnet50_int8"))
    ctx = _context(10.0)
    ctx.families["m"] = "convolutional vision"
    ctx.compute_ms[("resnet50", "int8")] = np.full(50, 10.0)
    ctx.options = {"cpu": option}
    timed, batch = evaluate(ctx, "c", _case(100.0))[0], evaluate(ctx, "c", _case(None))[0]
    latency = next(r for r in timed.requirements if r.name == "latency")
    assert not latency.passed and "only a throughput figure" in latency.detail
    throughput = next(r for r in batch.requirements if r.name == "throughput")
    assert "(published rate)" in throughput.detail  # the rate as published, this server's batching not added
    assert throughput.value / batch.cost_model.instances(1000) == pytest.approx(option.reference_rps, rel=0.02)


def test_a_factor_is_never_applied_across_model_families() -> None:
    """A ResNet-50 figure says nothing about an MLP: the option is 'not modeled', neither feasible nor ranked."""
    ctx = _context(1.0)
    ctx.options["pi"] = replace(_option("pi", "edge", 0.001, price=1.0), reference_model="resnet50")
    scores = {s.option: s for s in evaluate(ctx, "c", _case(10.0))}
    assert not scores["pi"].modeled and not scores["pi"].feasible
    assert "not modeled for this family" in scores["pi"].binding.detail
    assert scores["edge"].modeled  # an option with no reference model (measured) covers every family
    assert recommend(list(scores.values()), 0.8).option != "pi"


def test_a_device_and_a_use_case_added_in_yaml(tmp_path, root) -> None:
    (tmp_path / "base.yaml").write_text((root / "params" / "default.yaml").read_text())
    mine = {
        "extends": "base.yaml",
        "usecases": {
            "devices": {
                "my-board": {
                    "role": "edge",
                    "reference_latency": "orin_nx_resnet50_ss_p90",
                    "price": "assumption: 150 USD, my board",
                    "power": "assumption: 9 W",
                }
            },
            "cases": {
                "my-doorbell": {
                    "model": "mobilenetv2",
                    "latency_budget_ms": 300,
                    "peak_rps": 1,
                    "sensitivity": "personal",
                    "availability_pct": 99,
                    "mean_outage_min": 5,
                    "bytes_per_inference": 16000,
                    "fleet_size": 10,
                    "daily_volume": 1000,
                    "network": "home-wifi",
                    "sources": dict.fromkeys(CITED_FIELDS, "assumption: mine"),
                }
            },
        },
    }
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(mine))
    params = load_params(tmp_path / "mine.yaml")
    assert "my-board" in params.usecases.devices and "raspberry-pi-5" in params.usecases.devices
    assert "my-doorbell" in params.usecases.cases and "card-fraud" in params.usecases.cases


def test_every_use_case_number_cites_a_figure_that_matches_or_an_assumption() -> None:
    for name, case in Params().usecases.cases.items():
        for field, ref in case.sources.items():
            if not ref.startswith("assumption: "):
                assert getattr(case, field) == pytest.approx(float(sourced(ref))), f"{name}.{field} copies {ref}"
    for device in Params().usecases.devices.values():
        for ref in (device.price, device.hourly, device.power, device.reference_latency, device.reference_throughput):
            if ref and not ref.startswith("assumption: "):
                sourced(ref)  # KeyError when the figure is missing


def test_cloud_capacity_follows_the_closed_loop_curve_within_the_budget() -> None:
    ctx = _context(10.0)
    ctx.cloud_curve, ctx.curve_request_ms = [(100.0, 30.0), (300.0, 90.0)], 10.0  # 1 and 3 requests' worth
    from edgecloud.decisions.usecases import server_parallelism

    assert server_parallelism(ctx, 50.0) == pytest.approx(1.0)
    assert server_parallelism(ctx, 100.0) == pytest.approx(3.0)
    assert server_parallelism(ctx, None) == pytest.approx(3.0)
    assert server_parallelism(ctx, 5.0) == 1.0  # one request at a time always fits


def test_a_device_measured_on_another_machine_scales_by_its_measured_time(tmp_path) -> None:
    from edgecloud.experiments.usecases import measured_elsewhere
    from edgecloud.params import Timing
    from edgecloud.results import Config, MissingResults, Recorder
    from edgecloud.timing import from_samples

    rec = Recorder("02-cloud-edge-measurements", root=tmp_path)
    cfg = Config(
        target="edge-2t",
        model="efficientnet_lite0",
        runtime="ort",
        precision="int8",
        threads=2,
        batch=1,
        network="none",
    )
    rec.latency(from_samples(np.full(50, 0.009) + np.linspace(0, 1e-5, 50), cfg, Timing(bootstrap_resamples=100)))
    rows = rec.frame().assign(machine="raspberry-pi-5-mine")
    device = Device(role="edge", measured_target="edge-2t", measured_machine="raspberry-pi-5-mine", price="rpi5_price")
    samples = {("efficientnet_lite0", "int8"): np.full(50, 3.0)}
    factor, note = measured_elsewhere(rows, device, samples, "my-pi")
    assert factor == pytest.approx(3.0, rel=0.01) and "raspberry-pi-5-mine" in note
    option = resolve("my-pi", device, "int8", np.full(5, 3.0), (factor, note))
    assert option.kind == "measured elsewhere" and option.factor == factor
    with pytest.raises(MissingResults, match="no complete notebook-02 run"):
        measured_elsewhere(rows.assign(machine="other"), device, samples, "my-pi")
    params = Params.model_validate({"usecases": {"devices": {"my-pi": device.model_dump()}}})
    assert params.usecases.devices["my-pi"].measured_machine == "raspberry-pi-5-mine"


def test_scores_and_the_recommendation_are_pinned() -> None:
    """Every figure of a scored case (latency with its interval, each requirement's margin, the monthly cost and its
    parts) for a fixed seed, against a reviewed golden copy: a silent change in the scoring fails here."""
    ctx = _context(20.0)
    case = _case(80.0, daily_volume=50_000, fleet_size=25)
    scores = evaluate(ctx, "pinned", case)
    swept = evaluate(ctx, "pinned", case, WhatIf(rtt=2.0, bandwidth=0.5, volume=3.0, edge_speed=2.0), ci=False)
    assert_golden("usecase_scores", {"scores": scores, "swept": swept, "recommended": recommend(scores, 0.8)})


def test_connectivity_and_outage_shares_by_hand() -> None:
    rng = np.random.default_rng(0)
    trace = sensitivity.connectivity_trace(0.99, 10, 200_000, rng)
    assert trace.dtype == bool and len(trace) == 200_000 and abs(trace.mean() - 0.99) < 0.005
    assert sensitivity.connectivity_trace(1.0, 10, 50, rng).all()
    link = np.r_[np.ones(90, bool), np.zeros(10, bool)]
    assert sensitivity.fallback_share(0.6, link) == pytest.approx(0.4 * 0.9)
    assert sensitivity.fallback_share(1.5, link) == 0.0
    shares = sensitivity.outage_shares(0.98, 0.6, 0.95, link)
    assert shares == pytest.approx(
        {"cloud only": 0.9 * 0.95, "edge only": 0.6 * 0.98, "edge first, cloud fallback": 0.6 * 0.98 + 0.4 * 0.9 * 0.95}
    )


def test_a_tail_the_decisions_read_is_measured_until_it_can_be_trusted(tmp_path, monkeypatch) -> None:
    """A p99 from notebook 01's 23 samples is their maximum, and one stray sample flipped a recommendation: a model
    whose use case asks for p99 is measured here until 5 samples lie beyond it (one asked only for p50 keeps 01's);
    a rerun on the same notebook-01 run reads and records those samples again instead of measuring."""
    import pandas as pd

    from edgecloud.experiments import usecases as experiment
    from edgecloud.results import query
    from edgecloud.results.store import MissingResults, Recorder
    from edgecloud.timing import samples_for

    assert (samples_for(99), samples_for(95), samples_for(90), samples_for(50)) == (500, 100, 50, 1)
    few = pd.DataFrame({"run_id": ["20260101T000000-a"]})  # notebook 01's run: 23 samples of anything asked
    real, runs03 = query.samples_of, []
    monkeypatch.setattr(
        query, "samples_of", lambda frame, cfg: real(frame, cfg) if "latency_ms" in frame else np.full(23, 1.0)
    )

    def latest(notebook: str, table: str = "rows") -> pd.DataFrame:
        if notebook != experiment.NOTEBOOK:
            return few
        if not runs03:
            raise MissingResults("no run of notebook 03 yet")
        return runs03[-1]

    monkeypatch.setattr(experiment, "latest_here", latest)
    shared = load_params("params/default.yaml").shared
    rec = Recorder(experiment.NOTEBOOK, root=tmp_path / "first")
    assert len(experiment.LocalSamples(shared, rec, {"fraud_mlp": 50.0})[("fraud_mlp", "fp32")]) == 23
    measured = experiment.LocalSamples(shared, rec, {"fraud_mlp": 99.0})[("fraud_mlp", "fp32")]
    assert len(measured) >= 500
    runs03.append(rec.stored()[1].assign(run_id="20260102T000000-b"))
    rerun = Recorder(experiment.NOTEBOOK, root=tmp_path / "rerun")
    again = experiment.LocalSamples(shared, rerun, {"fraud_mlp": 99.0})[("fraud_mlp", "fp32")]
    assert np.allclose(again, measured) and len(rerun.stored()[1]) == len(measured)
    runs03[-1] = runs03[-1].assign(run_id="20251231T000000-c")  # measured before notebook 01's run: not reused
    fresh = experiment.LocalSamples(shared, Recorder(experiment.NOTEBOOK, root=tmp_path / "3"), {"fraud_mlp": 99.0})
    assert not np.allclose(fresh[("fraud_mlp", "fp32")][:500], measured[:500])

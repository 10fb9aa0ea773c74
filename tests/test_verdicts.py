"""Sentences rendered from data change when the data change: each verdict on both (or all) of its outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edgecloud import sentences
from edgecloud.decisions import choices
from edgecloud.params import Params, Timing
from edgecloud.results import Config, Recorder, tables
from edgecloud.scenarios import invalid_reason
from edgecloud.sentences import cloud_edge as cloud_edge_says
from edgecloud.sentences import concepts as concepts_says
from edgecloud.timing import Estimate, from_samples

TIMING = Timing(bootstrap_resamples=200)


def test_compare_p50_names_the_faster_or_says_noise() -> None:
    assert sentences.compare_p50("edge", "cloud", Estimate(-2.0, -3.0, -1.0)).startswith("edge is faster than cloud")
    assert sentences.compare_p50("edge", "cloud", Estimate(2.0, 1.0, 3.0)).startswith("cloud is faster than edge")
    assert "do not differ beyond noise" in sentences.compare_p50("edge", "cloud", Estimate(0.1, -1.0, 1.0))


def _served(rec: Recorder, protocol: str, payload: str, p50_s: float, up: int, overhead: tuple[float, float, float]):
    rng = np.random.default_rng(len(protocol) + len(payload))
    cfg = Config(target="cloud-cpu", batch=1, payload=payload, protocol=protocol, network="loopback")
    rec.latency(from_samples(rng.normal(p50_s, p50_s / 50, 200), cfg, TIMING))
    rec.latency(
        from_samples(rng.normal(p50_s, p50_s / 50, 200), cfg.with_(target="in-process", network="none"), TIMING)
    )
    rec.add("payload_bytes", up, "bytes", cfg)
    rec.add("response_bytes", 4000, "bytes", cfg)
    rec.add("serving_overhead_p50", overhead[0], "ms", cfg, ci=overhead[1:])


def _profiles(mbps: float) -> dict:
    profile = Params().measurements.network_profiles["4g"]
    return {"p": profile.model_copy(update={"bandwidth_mbps": mbps})}


def test_payload_choice_weighs_bytes_against_loopback_time(tmp_path) -> None:
    rec = Recorder("02-cloud-edge-measurements", root=tmp_path)
    _served(rec, "grpc", "uint8", 0.004, 150_000, (1.0, 0.5, 1.5))  # fast on loopback, big on the wire
    _served(rec, "grpc", "jpeg", 0.006, 16_000, (-1.0, -1.5, -0.5))  # slower to encode, small on the wire
    rows = rec.frame()
    slow_link = choices.choose_payload(rows, _profiles(10))
    fast_link = choices.choose_payload(rows, _profiles(10_000))
    assert (slow_link.payload, fast_link.payload) == ("jpeg", "uint8")
    text = cloud_edge_says.payload(rows, tables.cloud(rows), slow_link)
    assert "send **jpeg over grpc**" in text and "below zero beyond noise" in text
    assert "not different from zero" not in text
    text = cloud_edge_says.payload(rows, tables.cloud(rows), fast_link)
    assert "send **uint8 over grpc**" in text and "a cost beyond noise" in text


def _edge_and_cloud(tmp_path, differences: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    """Stored rows as notebook 02 leaves them: the edge target's p50, and each profile's p50 minus it with its CI."""
    rec = Recorder("02-cloud-edge-measurements", root=tmp_path)
    rec.add("latency_p50", 10.0, "ms", Config(target="edge-1t", batch=1, network="none"))
    for name, (d, low, high) in differences.items():
        cfg = Config(target="cloud-cpu", network=name, scenario="warm connection", batch=1)
        rec.add("p50_minus_edge", d, "ms", cfg, "modeled", ci=(low, high), note=f"cloud over {name} minus edge-1t")
    return rec.frame()


def test_cloud_vs_edge_follows_the_data(tmp_path) -> None:
    rows = _edge_and_cloud(tmp_path, {"near": (-5.0, -5.1, -4.9), "same": (0.01, -0.05, 0.07), "far": (70, 69, 71)})
    text, wins = cloud_edge_says.cloud_vs_edge(rows)
    assert wins == ["near"]
    assert "faster beyond noise on **near**" in text and "no difference beyond noise on same" in text
    assert "edge-1t" in text
    text, wins = cloud_edge_says.cloud_vs_edge(_edge_and_cloud(tmp_path / "b", {"far": (70, 69, 71)}))
    assert wins == [] and "**no profile**" in text


def test_loadgen_headline_comes_only_from_valid_runs() -> None:
    lg = pd.DataFrame(
        {
            "target": ["cloud-cpu", "cloud-cpu", "edge-1t"],
            "scenario": ["Server", "Server", "Server"],
            "target_qps": [100.0, 50.0, 400.0],
            "p99_ms": [9.0, 8.0, 5.0],
            "valid": [False, True, False],
            "why INVALID": ["too few queries for early stopping", "", "shorter than min_duration"],
        }
    )
    text = cloud_edge_says.loadgen(lg, 15.0)
    assert "**cloud-cpu: 50 QPS**" in text and "edge-1t" not in text.split("Highest")[1]
    assert "2 of 3 LoadGen runs are INVALID" in text and "shorter than min_duration (1)" in text
    assert "met the run's bound: none." in cloud_edge_says.loadgen(lg.assign(valid=False), 15.0)
    # a capacity run records its own, looser bound: VALID at 181 ms within 250 ms counts there, not against 15 ms
    run = {"target": "cloud-cpu", "scenario": "Server", "target_qps": 104.0, "p99_ms": 181.0, "valid": True}
    ladder = pd.concat(
        [lg.assign(bound_ms=np.nan), pd.DataFrame([{**run, "why INVALID": "", "bound_ms": 250.0}])], ignore_index=True
    )
    assert "**cloud-cpu: 104 QPS** (p99 181 ms ≤ 250 ms)" in cloud_edge_says.loadgen(ladder, 15.0)


def test_invalid_reason_is_read_from_the_summary() -> None:
    text = (
        "Result is : INVALID\n  Performance constraints satisfied : NO\n  Min duration satisfied : Yes\n"
        "  Min queries satisfied : Yes\n  Early stopping satisfied: NO\n"
        " * Would need to run at least 5180 more queries,\n"
    )
    assert invalid_reason(text) == (
        "latency bound not met; too few queries for early stopping; early stopping needs 5180 more queries"
    )


@pytest.mark.parametrize(("overhead_ns", "negligible"), [(60, True), (600, False)])
def test_loop_overhead_is_negligible_only_when_it_is(tmp_path, overhead_ns, negligible) -> None:
    rec = Recorder("00-system-under-test", root=tmp_path)
    rec.add("measure_overhead", overhead_ns, "ns", Config(stage="timing loop"))
    rec.add("timer_resolution", 40, "ns", Config(stage="clock"))
    mech = pd.DataFrame({"model": ["digits"], "config": ["ort-fp32"], "p50_ms": [0.02]})
    text = concepts_says.overhead_against(mech, rec.frame())
    assert ("not negligible" not in text) == negligible


def test_energy_is_measured_or_says_it_was_not(tmp_path) -> None:
    rec = Recorder("02-cloud-edge-measurements", root=tmp_path)
    assert cloud_edge_says.energy(rec.frame()).startswith("**Not measured:**")
    rec.add("energy_per_inference", 0.05, "J", Config(target="cloud-cpu", concurrency=4), note="RAPL package")
    assert "**50.0 mJ**" in cloud_edge_says.energy(rec.frame())


def test_the_split_check_counts_every_measured_real_cut_and_only_those() -> None:
    """A cut all on the edge (or all in the cloud) times the whole model again: it says nothing about the split
    prediction and is not counted; a real cut measured as a runner-up is."""
    import pandas as pd

    from edgecloud.sentences import analysis
    from edgecloud.vocabulary import ALL_CLOUD, ALL_EDGE

    index = pd.MultiIndex.from_tuples(
        [("4g", "9"), ("same-zone", "0"), ("home-wifi", "5"), ("same-zone", "3")], names=["network", "stage"]
    )
    check = pd.DataFrame(
        {
            "cut": [ALL_EDGE, ALL_CLOUD, "after node 5 (x)", "after node 3 (y)"],
            "predicted p50": [10.0, 20.0, 30.0, 22.0],
            "measured p50": [10.0, 20.0, 40.0, 21.0],
            "p50 error": [0.0, 0.0, -0.25, 0.05],
            "best predicted": [True, True, True, False],
        },
        index=index,
    )
    text = analysis.split(check, pd.DataFrame())
    assert "within 15% on **1 of 2** measured real splits" in text
    assert "the largest miss -25% (after node 5 (x), home-wifi)" in text
    text = analysis.split(check.iloc[:2], pd.DataFrame())
    assert "no split prediction is checked" in text


def test_the_summary_names_the_network_models_worst_miss_with_its_interval() -> None:
    """The largest error by magnitude, signed, with its profile; an interval only where the tail had one."""
    nan = float("nan")
    emu = pd.DataFrame(
        {"error_p90": [0.05, -0.3, 0.2], "error_p90_low": [0.0, -0.5, nan], "error_p90_high": [0.1, -0.1, nan]},
        index=["same-zone", "4g", "5g"],
    )
    assert cloud_edge_says.worst_error(emu, "p90") == "-30% (4g, CI -50% to -10%)"
    assert cloud_edge_says.worst_error(emu.drop(index="4g"), "p90") == "+20% (5g)"

"""Statistics on synthetic samples with known answers, and the sampling rules of measure()."""

from __future__ import annotations

import time

import numpy as np
import pytest

from edgecloud.params import Timing
from edgecloud.results.store import Config
from edgecloud.timing import (
    block_length,
    bootstrap_percentiles,
    clocked,
    cold_start,
    collect_pair,
    difference,
    from_samples,
    measure,
    percentile,
    ratio,
    tail_untrusted,
    wilson,
)


def test_percentiles_of_a_known_uniform_sample() -> None:
    samples = np.random.default_rng(0).permutation(np.arange(1, 10_001) / 1000.0)  # 1 ms … 10 s, uniform, iid order
    est = bootstrap_percentiles(samples, 0.95, 500, seed=1)
    assert est["p50"].value == pytest.approx(5.0005, rel=1e-6)
    assert est["p90"].value == pytest.approx(9.0001, rel=1e-4)
    assert est["p99"].value == pytest.approx(9.9001, rel=1e-4)
    for e in est.values():
        assert e.low <= e.value <= e.high
    assert est["p50"].high - est["p50"].low < 0.3  # ±1.96·sqrt(n·p·q)/n of the range


def test_interval_covers_the_true_median_of_a_lognormal() -> None:
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(40):
        sample = rng.lognormal(0.0, 0.5, 400)
        est = bootstrap_percentiles(sample, 0.95, 300, seed=0)["p50"]
        hits += est.low <= 1.0 <= est.high  # the true median of lognormal(0, σ) is 1
    assert hits >= 34  # ~95% coverage, allowing sampling error


def test_moments_noise_flag_and_untrusted_tails() -> None:
    timing = Timing(bootstrap_resamples=100)
    steady = from_samples(np.full(50, 0.002) + np.linspace(0, 1e-5, 50), Config(stage="steady"), timing)
    assert steady.warnings == (
        "p99 untrusted: fewer than 5 samples beyond it (n=50)",
        "p99.9 untrusted: fewer than 5 samples beyond it (n=50)",
    )
    noisy = from_samples(np.r_[np.full(500, 1.0), np.full(500, 2.0)], Config(stage="noisy"), timing)
    assert noisy.warnings[0].startswith("noisy: IQR/median")
    assert noisy.mean == pytest.approx(1.5)
    assert noisy.cov == pytest.approx(noisy.std / 1.5)
    assert "p50" in str(noisy) and "n=1000" in str(noisy)


def test_measure_reaches_min_count_and_min_time() -> None:
    calls = []
    m = measure(lambda: calls.append(1), Config(), Timing(warmup=2, min_time_s=0.001, min_count=37))
    assert m.n >= 37 and len(calls) == m.n + 2
    t0 = time.perf_counter()
    m = measure(lambda: time.sleep(0.001), Config(), Timing(warmup=0, min_time_s=0.05, min_count=5))
    assert time.perf_counter() - t0 >= 0.05 and m.n >= 5
    assert 0.001 <= m.median < 0.02
    capped = measure(lambda: None, Config(), Timing(warmup=0, min_time_s=10, min_count=5, max_count=50))
    assert capped.n == 50


def test_collect_pair_alternates_the_two_calls_and_drops_both_warm_ups() -> None:
    calls: list[str] = []

    def call(name: str, seconds: float):
        return lambda: calls.append(name) or seconds

    timing = Timing(warmup=2, min_time_s=1e-9, min_count=5)
    a, b = collect_pair(call("a", 0.001), call("b", 0.002), Config(target="a"), Config(target="b"), timing)
    assert calls == ["a", "b"] * 7  # two warm-up pairs, then five timed pairs, always a before b
    assert (a.n, b.n, a.config.target, b.config.target) == (5, 5, "a", "b")
    assert set(a.samples) == {0.001} and set(b.samples) == {0.002}


def test_difference_interval_covers_the_truth_and_separates_real_gaps() -> None:
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(40):  # same distribution: zero lies inside about 95% of the intervals
        same = difference(rng.lognormal(0.0, 0.2, 400), rng.lognormal(0.0, 0.2, 400), resamples=200)
        covered += same.low <= 0.0 <= same.high
    assert covered >= 34
    a, b = rng.lognormal(0.0, 0.2, 600), rng.lognormal(0.0, 0.2, 600)
    slower = difference(a + 0.5, b, resamples=400)
    assert slower.low > 0.3 and slower.low <= slower.value <= slower.high
    speedup = ratio(a * 3, b, resamples=400)
    assert 2.5 < speedup.low <= speedup.value <= speedup.high < 3.5


def test_block_bootstrap_widens_intervals_for_correlated_samples() -> None:
    rng = np.random.default_rng(2)
    walk = 1.0 + np.cumsum(rng.normal(0, 0.01, 2000))  # drifting, serially correlated latencies
    shuffled = rng.permutation(walk)
    correlated = bootstrap_percentiles(walk, 0.95, 300, 0)["p50"]
    independent = bootstrap_percentiles(shuffled, 0.95, 300, 0)["p50"]
    assert correlated.high - correlated.low > 2 * (independent.high - independent.low)
    assert block_length(1000) == 10


def test_statistics_are_reproducible_and_pinned() -> None:
    """Same samples and seed, same numbers: a report can be rebuilt exactly. Pinned values guard every step of the
    bootstrap (block length, resample count, chunking, interval quantiles) against a silent change."""
    x = np.random.default_rng(7).lognormal(0.0, 0.3, 250)
    y = x[::-1] * 1.1
    est = bootstrap_percentiles(x, 0.9, 300, seed=4)
    assert est == bootstrap_percentiles(x, 0.9, 300, seed=4)
    got = [
        est["p50"],
        est["p99"],
        difference(y, x, 90, 0.9, 300, seed=2),
        ratio(y, x, 50, 0.95, 300, seed=2),
        percentile(x, 75, 0.95, 300, np.random.default_rng(9)),
        percentile(x, 75, 0.95, 300, np.random.default_rng(9), independent=True),
        wilson(45, 60, 0.9),
    ]
    pinned = [
        (0.96473, 0.9449, 0.990136),
        (1.79041, 1.57744, 1.89969),
        (0.133656, 0.0411571, 0.22835),
        (1.1, 1.05684, 1.14441),
        (1.15527, 1.08929, 1.22683),
        (1.15527, 1.08098, 1.22198),
        (0.75, 0.648624, 0.829802),
    ]
    assert [tuple(float(f"{v:.6g}") for v in (e.value, e.low, e.high)) for e in got] == pinned


def test_a_percentiles_interval_depends_on_how_the_samples_were_drawn() -> None:
    walk = 1.0 + np.cumsum(np.random.default_rng(2).normal(0, 0.01, 2000))
    blocks = percentile(walk, 50, 0.95, 300, np.random.default_rng(0))
    draws = percentile(walk, 50, 0.95, 300, np.random.default_rng(0), independent=True)
    assert blocks.low < draws.low <= draws.value == blocks.value <= draws.high < blocks.high


def test_cold_start_times_load_and_first_call_apart() -> None:
    def load() -> str:
        time.sleep(0.02)
        return "model"

    loaded, cold = cold_start(load, lambda m: time.sleep(0.01))
    assert loaded == "model" and 0.02 <= cold.load_s < 0.2 and 0.01 <= cold.first_call_s < cold.load_s


def test_a_measurement_prints_its_configuration_and_flags() -> None:
    m = from_samples(np.full(40, 0.004), Config(target="edge-1t", batch=1), Timing(bootstrap_resamples=100))
    assert m.label == "edge-1t/1"
    assert str(m) == (
        "edge-1t/1: p50 4.000 ms (CI 4.000-4.000), p99 4.000 ms, n=40 [p90 untrusted: fewer than 5 samples beyond it "
        "(n=40); p99 untrusted: fewer than 5 samples beyond it (n=40); p99.9 untrusted: fewer than 5 samples beyond it "
        "(n=40)]"
    )
    assert tail_untrusted(99, 500) is False and tail_untrusted(99, 499) is True and tail_untrusted(50, 1) is False
    assert clocked(lambda: time.sleep(0.01))() >= 0.01

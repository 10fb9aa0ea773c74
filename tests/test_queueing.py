"""The queueing model against numbers worked by hand: Erlang C, the Pollaczek–Khinchine mean wait, the capacity
within a budget, and a use case that meets its budget idle but not at its load."""

from __future__ import annotations

import numpy as np
import pytest
from test_usecases import _case, _context

from edgecloud.decisions import queueing
from edgecloud.decisions.usecases import evaluate


def test_erlang_c_by_hand() -> None:
    assert queueing.erlang_c(1, 0.7) == pytest.approx(0.7)  # one server: the chance of waiting is its utilisation
    assert queueing.erlang_c(2, 1.0) == pytest.approx(1 / 3)  # (1/2 ÷ 1/2) ÷ (1 + 1 + 1)
    assert queueing.erlang_c(2, 2.5) == 1.0  # overloaded


def test_one_server_waits_as_pollaczek_khinchine_says() -> None:
    """Deterministic 10 ms service at 50/s: ρ = 0.5, mean wait ρS ÷ 2(1 − ρ) = 5 ms; exponential service doubles it."""
    rng = np.random.default_rng(0)
    fixed = queueing.wait_draws(np.full(1000, 10.0), 50.0, 1, 200_000, rng)
    assert fixed.mean() == pytest.approx(5.0, rel=0.02) and (fixed > 0).mean() == pytest.approx(0.5, abs=0.01)
    spread = queueing.wait_draws(rng.exponential(10.0, 100_000), 50.0, 1, 200_000, rng)
    assert spread.mean() == pytest.approx(10.0, rel=0.05)
    assert np.isinf(queueing.wait_draws(np.full(10, 10.0), 100.0, 1, 5, rng)).all()  # at the service rate


def test_capacity_within_a_budget_is_where_the_percentile_reaches_it() -> None:
    rng = np.random.default_rng(1)
    service, rest = np.full(4000, 10.0), np.zeros(4000)
    rate = queueing.capacity_within(service, rest, 1, 99, 30.0, rng)
    # checked against a plain sequential simulation of the same queue at that rate: p99 of wait + 10 ms ≈ 30 ms
    gaps, wait, waits = np.random.default_rng(2).exponential(1000 / rate, 100_000), 0.0, []
    for gap in gaps:
        waits.append(wait)
        wait = max(0.0, wait + 10.0 - gap)
    assert np.percentile(np.asarray(waits) + 10.0, 99) == pytest.approx(30.0, rel=0.1)
    assert 25 < rate < 35
    assert queueing.capacity_within(service, rest, 1, 99, 9.0, rng) == 0.0  # even idle it misses
    assert queueing.capacity_within(service, rest, 1, 99, None, rng) == pytest.approx(100.0)  # batch: flat out


def test_a_device_that_meets_the_budget_idle_misses_it_at_its_load() -> None:
    ctx = _context(10.0)  # the edge option takes 10 ms a request
    quiet, busy = (
        {s.option: s for s in evaluate(ctx, "c", _case(25.0, peak_rps=rate))}["edge"] for rate in (5.0, 90.0)
    )
    assert quiet.feasible and quiet.utilisation == pytest.approx(0.05, rel=0.02)
    latency = next(r for r in busy.requirements if r.name == "latency")
    assert busy.utilisation == pytest.approx(0.9, rel=0.02) and not latency.passed


def test_runs_from_an_empty_queue_follow_lindley_and_serve_idle_arrivals_at_the_idle_speed() -> None:
    """With one service pool, run_latencies is service + Lindley's wait (the vectorised recursion) on the same draws;
    a query that finds the server idle takes its idle service time, one that waits its back-to-back time."""
    rng = np.random.default_rng(3)
    jobs, gaps = rng.exponential(4.0, (5, 400)), rng.exponential(1.0, (5, 400))
    same = queueing.run_latencies(jobs, jobs, gaps * 1e3 / 150.0)
    for row in range(5):
        expected = jobs[row] + queueing.lindley_waits(jobs[row], 150.0, jobs[row], gaps[row])
        np.testing.assert_allclose(same[row], expected)
    slow = queueing.run_latencies(jobs, jobs + 1.0, gaps * 1e3 / 150.0)
    waited = same > jobs + 1e-12
    assert slow[0, 0] == pytest.approx(jobs[0, 0] + 1.0)  # the first query of a run finds the server idle
    assert (slow >= same).all() and waited.any() and (slow[~waited] > same[~waited]).all()


def test_the_bench_models_a_run_with_the_services_of_its_own_log() -> None:
    """A LoadGen run's log of (start, end): 10 ms for a query that woke the worker, 5 ms back to back. At a trickle
    every query finds the worker idle, so the modeled p99 is the idle 10 ms; near saturation waits add to it."""
    from edgecloud.acceptance import modeled_run_p99s

    starts, ends, t = [], [], 0.0
    for k in range(200):
        t += 0.05 if k % 2 == 0 else 0.00001  # every other query was queued behind the one before
        starts.append(t)
        t += 0.010 if k % 2 == 0 else 0.005
        ends.append(t)
    log = np.column_stack([starts, ends])
    rng = np.random.default_rng(4)
    assert np.median(modeled_run_p99s(log, None, 0.01, rng, runs=20)) == pytest.approx(10.0)
    busy = modeled_run_p99s(log, None, 90.0, rng, runs=20)
    assert len(busy) == 20 and np.median(busy) > 20.0
    # LoadGen's own schedule, when given, replaces the Poisson draws: one query a second never waits; 200 at once
    # queue up behind the first (one idle service, then back-to-back ones: p99 about 10 + 197 × 5 ms)
    apart = modeled_run_p99s(log, np.arange(200.0), 500.0, rng, runs=5)
    assert apart == pytest.approx(np.full(5, 10.0))
    burst = modeled_run_p99s(log, np.zeros(200), 0.01, rng, runs=5)
    assert burst == pytest.approx(np.full(5, 10 + 197 * 5.0), rel=0.01)

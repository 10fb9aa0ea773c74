"""Latency under load: the wait in an M/G/c queue (Poisson arrivals, a measured service-time distribution, c
servers), so a device near its capacity is not credited with its idle latency.

One server (every edge device) is simulated: Lindley's recursion over resampled measured service times and Poisson
gaps gives M/G/1's waiting-time distribution. More servers use an approximation: the chance of waiting is Erlang's
C formula; the wait, when there is one, is exponential with the Allen–Cunneen mean (1 + Cs²)/2 ÷ (cμ − λ), where Cs
is the service time's coefficient of variation.
`make bench` checks the p99 it gives against MLPerf LoadGen Server runs on this machine.
"""

from __future__ import annotations

import math

import numpy as np

MAX_LOAD = 0.99  # the highest utilisation a capacity search considers
STEPS = 12  # bisection steps: the load is found to within MAX_LOAD / 2^12


def erlang_c(servers: int, offered: float) -> float:
    """The chance an arrival waits in an M/M/c queue with `offered` = λ/μ (Erlang's C formula); 1 when overloaded."""
    rho = offered / servers
    if rho >= 1:
        return 1.0
    terms = sum(offered**k / math.factorial(k) for k in range(servers))
    top = offered**servers / math.factorial(servers) / (1 - rho)
    return top / (terms + top)


def wait_draws(service_ms: np.ndarray, rate_per_s: float, servers: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of the wait (ms) before service at rate_per_s arrivals on `servers` servers; inf when overloaded.
    One server: simulated exactly (Lindley's recursion over resampled service times); more: Allen–Cunneen."""
    if servers == 1:
        return lindley_waits(service_ms, rate_per_s, rng.choice(service_ms, n), rng.exponential(1.0, n))
    return scaled_waits(service_ms, rate_per_s, servers, rng.random(n), rng.exponential(1.0, n))


def lindley_waits(service_ms: np.ndarray, rate_per_s: float, jobs: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Waits (ms) of successive arrivals at one FIFO server: W(n+1) = max(0, W(n) + S(n) − A(n+1)), with jobs the
    service times and gaps unit-exponential interarrival draws; vectorised as W(n) = U(n) − min(0, min U(≤n))."""
    if rate_per_s <= 0:
        return np.zeros(len(jobs))
    if rate_per_s * float(np.mean(service_ms)) / 1e3 >= 1:
        return np.full(len(jobs), np.inf)
    steps = jobs[:-1] - gaps[1:] * 1e3 / rate_per_s
    walk = np.concatenate([[0.0], np.cumsum(steps)])
    return walk - np.minimum(np.minimum.accumulate(walk), 0.0)


def run_latencies(busy_ms: np.ndarray, idle_ms: np.ndarray, gaps_ms: np.ndarray) -> np.ndarray:
    """Latencies (ms) of runs of one FIFO server from an empty queue, one run per row of gaps_ms (each query's time
    since the one before; the first column is unused): a query that waits is served back to back, in busy_ms, one
    that finds the server idle in idle_ms (each per query, same shape). Lindley's recursion, one step per query for
    all runs at once."""
    latencies = np.empty(np.shape(gaps_ms))
    wait = np.zeros(latencies.shape[0])
    for k in range(latencies.shape[1]):
        if k:
            wait = np.maximum(0.0, latencies[:, k - 1] - gaps_ms[:, k])
        latencies[:, k] = wait + np.where(wait > 0, busy_ms[:, k], idle_ms[:, k])
    return latencies


def scaled_waits(
    service_ms: np.ndarray, rate_per_s: float, servers: int, uniform: np.ndarray, exponential: np.ndarray
) -> np.ndarray:
    """Waits (ms) from given uniform and unit-exponential draws, so one set of draws serves every rate."""
    mu = 1e3 / float(np.mean(service_ms))
    if rate_per_s <= 0:
        return np.zeros(len(uniform))
    if rate_per_s >= servers * mu:
        return np.full(len(uniform), np.inf)
    cs2 = float(np.var(service_ms) / np.mean(service_ms) ** 2)
    mean_wait_ms = (1 + cs2) / 2 / (servers * mu - rate_per_s) * 1e3
    return np.where(uniform < erlang_c(servers, rate_per_s / mu), exponential * mean_wait_ms, 0.0)


def latency_at(
    service_ms: np.ndarray, rest_ms: np.ndarray, rate_per_s: float, servers: int, rng: np.random.Generator
) -> np.ndarray:
    """Draws of latency at a load: service, plus the wait at that rate, plus what the rest of the path adds."""
    return service_ms + wait_draws(service_ms, rate_per_s, servers, len(service_ms), rng) + rest_ms


def capacity_within(
    service_ms: np.ndarray,
    rest_ms: np.ndarray,
    servers: int,
    q: float,
    budget_ms: float | None,
    rng: np.random.Generator,
) -> float:
    """The highest arrival rate (per s) whose q-th latency percentile stays within the budget (0 when even an idle
    server misses it); with no budget, the service rate itself (a batch job can run its servers flat out)."""
    full = servers / (float(np.mean(service_ms)) / 1e3)
    if budget_ms is None:
        return full
    uniform, exponential = rng.random(len(service_ms)), rng.exponential(1.0, len(service_ms))
    jobs = rng.choice(service_ms, len(service_ms))

    def meets(load: float) -> bool:  # the same draws at every load, so the percentile grows with it monotonically
        if servers == 1:
            waits = lindley_waits(service_ms, load * full, jobs, exponential)
        else:
            waits = scaled_waits(service_ms, load * full, servers, uniform, exponential)
        return float(np.percentile(service_ms + waits + rest_ms, q)) <= budget_ms

    if not meets(0.0):
        return 0.0
    low, high = 0.0, MAX_LOAD
    if meets(high):
        return high * full
    for _ in range(STEPS):
        mid = (low + high) / 2
        low, high = (mid, high) if meets(mid) else (low, mid)
    return low * full

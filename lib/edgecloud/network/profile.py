"""What a network profile's RTT is: the fiber propagation floor plus a gamma excess whose rtt_statistic (mean,
median or p95) is rtt_ms and whose standard deviation is jitter_ms; each direction takes half of the floor and half of
the gamma's shape. The analytic model and the packet-level emulation both draw from this, and from nothing else of
each other."""

from __future__ import annotations

import functools

import numpy as np

FIBER_MS_PER_KM = 10.0 / 1000.0  # light in fiber covers about 200 000 km/s: 10 ms round trip per 1000 km


def propagation_floor_ms(distance_km: float) -> float:
    """The least possible RTT over distance_km of fiber."""
    return distance_km * FIBER_MS_PER_KM


def one_way_ms(profile, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """One-way delays: half the RTT's floor plus a gamma with half its shape (two directions sum to one RTT)."""
    floor, k, scale = profile.rtt_gamma()
    if k == 0:
        return np.full(shape, floor / 2)
    return floor / 2 + rng.gamma(k / 2, scale, shape)


def slowest_one_way_ms(profile, n: int, packets: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of the slowest of `packets` one-way delays, without drawing them all: the maximum of k independent
    draws has CDF F^k, so it is F's inverse at U^(1/k)."""
    floor, k, scale = profile.rtt_gamma()
    if k == 0:
        return np.full(n, floor / 2)
    from scipy import stats

    return floor / 2 + stats.gamma.ppf(rng.random(n) ** (1.0 / packets), k / 2, scale=scale)


def sample_rtt_ms(profile, n: int, rng: np.random.Generator) -> np.ndarray:
    """RTT samples: propagation floor plus gamma excess (the profile's rtt_statistic at rtt_ms, sd jitter_ms)."""
    return one_way_ms(profile, (n,), rng) + one_way_ms(profile, (n,), rng)


@functools.cache
def rtt_gamma(rtt_ms: float, statistic: str, jitter_ms: float, distance_km: float) -> tuple[float, float, float]:
    """Floor, shape and scale of an RTT distribution (fitted once per set of figures)."""
    floor = propagation_floor_ms(distance_km)
    excess = rtt_ms - floor
    if jitter_ms == 0 or excess <= 0:
        return rtt_ms, 0.0, 0.0
    return (floor, *gamma_with_statistic(excess, jitter_ms, statistic))


def gamma_with_statistic(value: float, sd: float, statistic: str) -> tuple[float, float]:
    """Shape and scale of the gamma distribution with standard deviation sd whose mean, median or p95 is value."""
    from scipy import optimize, stats

    def shape_scale(mean: float) -> tuple[float, float]:
        return (mean / sd) ** 2, sd**2 / mean

    if statistic == "mean":
        return shape_scale(value)
    q = {"median": 0.5, "p95": 0.95}[statistic]

    def miss(mean: float) -> float:
        shape, scale = shape_scale(mean)
        return float(stats.gamma.ppf(q, shape, scale=scale)) - value

    return shape_scale(optimize.brentq(miss, 1e-6 * value, value + 10 * sd))

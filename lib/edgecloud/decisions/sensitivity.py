"""How robust a recommendation is: where it flips as RTT, bandwidth or volume change, how it depends on device
speed, and what share of requests each strategy answers in time through outages."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Flip:
    """The scale of an input at which the recommendation changes, and from what to what."""

    scale: float
    before: str
    after: str


def boundary(label: Callable[[float], str], a: float, b: float, rel_tol: float = 0.02) -> float:
    """The scale between a and b where label changes (label(a) != label(b)), by bisection on a log scale."""
    left = label(a)
    while b / a > 1 + rel_tol:
        mid = math.sqrt(a * b)
        if label(mid) == left:
            a = mid
        else:
            b = mid
    return math.sqrt(a * b)


def flips(label: Callable[[float], str], lo: float, hi: float, points: int) -> tuple[list[Flip], list[tuple]]:
    """Every change of label along a log grid from lo to hi, each refined by bisection; and the grid's labels."""
    grid = np.geomspace(lo, hi, points)
    labels = [label(float(x)) for x in grid]
    out = []
    for (x0, l0), (x1, l1) in zip(zip(grid, labels, strict=True), zip(grid[1:], labels[1:], strict=True), strict=False):
        if l0 != l1:
            out.append(Flip(boundary(label, float(x0), float(x1)), l0, l1))
    return out, list(zip(grid.tolist(), labels, strict=True))


def connectivity_trace(
    availability: float, mean_outage_min: float, minutes: int, rng: np.random.Generator
) -> np.ndarray:
    """Per-minute link state from alternating exponential up and down periods with the given availability."""
    if availability >= 1:
        return np.ones(minutes, bool)
    mean_up = mean_outage_min * availability / (1 - availability)
    state, out, up = [], 0, bool(rng.random() < availability)
    while out < minutes:
        length = max(1, round(rng.exponential(mean_up if up else mean_outage_min)))
        state.append(np.full(length, up))
        out += length
        up = not up
    return np.concatenate(state)[:minutes]


def device_availability(failures_per_year: float, repair_hours: float) -> float:
    """The share of time an edge device works: MTBF ÷ (MTBF + MTTR)."""
    mtbf = 8760.0 / failures_per_year if failures_per_year > 0 else math.inf
    return 1.0 if math.isinf(mtbf) else mtbf / (mtbf + repair_hours)


def fallback_share(edge_capacity_share: float, link_up: np.ndarray, device_up: float = 1.0) -> float:
    """Share of all requests that edge first with cloud fallback sends to the cloud while the link is up: the
    overflow beyond the edge's capacity when the device works, and everything when it is down."""
    served = min(1.0, edge_capacity_share)
    return (device_up * (1 - served) + (1 - device_up)) * float(np.mean(link_up))


def outage_shares(
    edge_within: float, edge_capacity_share: float, cloud_within: float, link_up: np.ndarray, device_up: float = 1.0
) -> dict[str, float]:
    """Share of requests answered within budget: cloud only, edge only, and edge first with cloud fallback.

    edge_within and cloud_within: probability that one request meets the budget on a working path;
    edge_capacity_share: share of the peak load the edge device can take (the rest overflows to the cloud);
    device_up: the share of time the edge device works (it fails and waits for repair)."""
    up, served = float(np.mean(link_up)), min(1.0, edge_capacity_share)
    return {
        "cloud only": up * cloud_within,
        "edge only": device_up * served * edge_within,
        "edge first, cloud fallback": device_up * (served * edge_within + (1 - served) * up * cloud_within)
        + (1 - device_up) * up * cloud_within,
    }

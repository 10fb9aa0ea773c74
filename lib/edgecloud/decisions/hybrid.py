"""Hybrid strategies as decisions: a confidence cascade (small edge model, cloud model for the rest) and split
computing (edge head, cloud tail), each chosen from measured parts."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from edgecloud.timing import Estimate, wilson


@dataclass(frozen=True)
class CascadePoint:
    """One confidence threshold: answers below it go to the cloud."""

    threshold: float
    accuracy: Estimate
    offloaded: float
    mean_ms: float
    p99_ms: float
    usd_per_million: float
    frontier: bool = False


def cascade(
    confidence: np.ndarray,
    edge_correct: np.ndarray,
    cloud_correct: np.ndarray,
    timelines: dict[str, np.ndarray],
    thresholds: list[float],
    cloud_usd_per_inference: float,
    level: float,
) -> list[CascadePoint]:
    """Every threshold: accuracy with a Wilson interval and the share offloaded over a labelled test set; latency
    from requests measured end to end (`timelines`: per request the edge model's confidence, its time `edge_ms`, and
    `total_ms` to the server's answer over the network, which a request below the threshold pays); cloud $ per 1M.
    The frontier keeps the thresholds no other beats on both accuracy and mean latency."""
    points = []
    for t in thresholds:
        offload = confidence < t
        correct = np.where(offload, cloud_correct, edge_correct)
        latency = np.where(timelines["confidence"] < t, timelines["total_ms"], timelines["edge_ms"])
        points.append(
            CascadePoint(
                t,
                wilson(int(correct.sum()), len(correct), level),
                float(offload.mean()),
                float(latency.mean()),
                float(np.percentile(latency, 99)),
                float(offload.mean() * cloud_usd_per_inference * 1e6),
            )
        )
    return [CascadePoint(**{**p.__dict__, "frontier": not any(_dominates(q, p) for q in points)}) for p in points]


def _dominates(a: CascadePoint, b: CascadePoint) -> bool:
    better = (a.accuracy.value >= b.accuracy.value, a.mean_ms <= b.mean_ms)
    return all(better) and (a.accuracy.value > b.accuracy.value or a.mean_ms < b.mean_ms)


@dataclass(frozen=True)
class SplitLine:
    """One cut as a line in 1/bandwidth: fixed ms (head, tail, serving, RTT) plus bytes on the wire."""

    index: int
    fixed_ms: float
    wire_bytes: float  # 0 for all on the edge

    def at(self, bandwidth_mbps: float) -> float:
        return self.fixed_ms + self.wire_bytes * 8e-3 / bandwidth_mbps


def best(lines: list[SplitLine], bandwidth_mbps: float) -> SplitLine:
    return min(lines, key=lambda line: line.at(bandwidth_mbps))


def change_points(lines: list[SplitLine], low_mbps: float, high_mbps: float) -> list[tuple[float, int, int]]:
    """The bandwidths in [low, high] where the best cut changes (the lower envelope of the lines), with the cut
    below and above each, from the exact intersections of the lines."""
    x_low, x_high = 1 / high_mbps, 1 / low_mbps  # x = 1/bandwidth: each cut is a straight line in x
    xs = {x_low, x_high}
    for i, a in enumerate(lines):
        for b in lines[i + 1 :]:
            if a.wire_bytes != b.wire_bytes:
                x = (b.fixed_ms - a.fixed_ms) / ((a.wire_bytes - b.wire_bytes) * 8e-3)
                if x_low < x < x_high:
                    xs.add(x)
    xs = sorted(xs)
    mids = [(u + v) / 2 for u, v in pairwise(xs)]
    winners = [best(lines, 1 / x).index for x in mids]
    return [
        (1 / xs[k + 1], winners[k + 1], winners[k])  # bandwidth, best below it, best above it
        for k in range(len(winners) - 1)
        if winners[k] != winners[k + 1]
    ][::-1]

"""Choices that later steps build on, each made in one place from stored results: the payload and protocol a
deployment should send, and the edge target that cloud options are compared with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from edgecloud.network.model import transfer_ms
from edgecloud.results.query import select
from edgecloud.vocabulary import CLOUD_CPU, IN_PROCESS


@dataclass(frozen=True)
class PayloadChoice:
    """The protocol and payload a deployment should use, and why (from this run's data)."""

    protocol: str
    payload: str
    up_bytes: int
    down_bytes: int
    score_ms: float
    runner_up: str
    runner_up_ms: float


def choose_payload(rows: pd.DataFrame, profiles: dict) -> PayloadChoice:
    """The protocol × payload with the lowest loopback p50 plus its transfer time up and down, averaged over the
    network profiles: the one that crosses real networks best. The only place the payload is chosen."""
    served = select(rows, "latency_p50", target=CLOUD_CPU, network="loopback", batch=1).set_index(
        ["protocol", "payload"]
    )
    up = select(rows, "payload_bytes").set_index(["protocol", "payload"]).value
    down = select(rows, "response_bytes").set_index(["protocol", "payload"]).value
    nets = list(profiles.values())
    scores = {
        key: float(served.value[key])
        + float(np.mean([transfer_ms(up[key], p.bandwidth_mbps) + transfer_ms(down[key], p.down_mbps) for p in nets]))
        for key in served.index
    }
    ranked = sorted(scores, key=scores.get)
    best, second = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
    return PayloadChoice(
        best[0], best[1], int(up[best]), int(down[best]), scores[best], "/".join(second), scores[second]
    )


def fastest_edge(rows: pd.DataFrame) -> pd.Series:
    """The stored p50 row (batch 1, in this process, no network) of the edge target with the lowest p50: the edge
    that cloud options are compared with. The only place it is chosen."""
    edge = select(rows, "latency_p50", network="none", batch=1)
    return edge[edge.target != IN_PROCESS].sort_values("value").iloc[0]

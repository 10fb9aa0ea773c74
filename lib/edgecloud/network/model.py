"""The analytic network model: what a request/response exchange costs over a profile, per request.

Model, per request: network time = RTT + upload bytes ÷ bandwidth + download bytes ÷ bandwidth
  + one more RTT when the connection is new (TCP handshake) + one retransmission timeout when a packet is lost.
RTT = fiber propagation floor (10 ms per 1000 km of path) + a gamma-distributed excess whose mean puts the RTT's
mean at the profile's rtt_ms and whose standard deviation is the profile's jitter_ms.
"""

from __future__ import annotations

import math

import numpy as np

from edgecloud.params import NetworkProfile

FIBER_MS_PER_KM = 10.0 / 1000.0  # light in fiber covers about 200 000 km/s: 10 ms round trip per 1000 km
MSS_BYTES = 1448  # TCP payload per packet on a 1500-byte MTU path with timestamps
MIN_RTO_MS = 200.0  # Linux's minimum retransmission timeout


def propagation_floor_ms(distance_km: float) -> float:
    """The least possible RTT over distance_km of fiber."""
    return distance_km * FIBER_MS_PER_KM


def sample_rtt_ms(profile: NetworkProfile, n: int, rng: np.random.Generator) -> np.ndarray:
    """RTT samples: propagation floor plus gamma excess (mean rtt_ms, standard deviation jitter_ms)."""
    floor = propagation_floor_ms(profile.distance_km)
    excess = profile.rtt_ms - floor
    if profile.jitter_ms == 0 or excess <= 0:
        return np.full(n, profile.rtt_ms)
    shape, scale = (excess / profile.jitter_ms) ** 2, profile.jitter_ms**2 / excess
    return floor + rng.gamma(shape, scale, n)


def transfer_ms(nbytes: float, bandwidth_mbps: float) -> float:
    """Serialization time of nbytes on a link of bandwidth_mbps."""
    return nbytes * 8 / (bandwidth_mbps * 1e6) * 1e3


def network_time_ms(
    profile: NetworkProfile,
    up_bytes: int,
    down_bytes: int,
    n: int,
    rng: np.random.Generator,
    new_connection: bool = False,
    with_loss: bool = True,
) -> np.ndarray:
    """n modeled network times (ms) for one request/response exchange over the profile."""
    rtt = sample_rtt_ms(profile, n, rng)
    total = rtt + transfer_ms(up_bytes, profile.bandwidth_mbps) + transfer_ms(down_bytes, profile.bandwidth_mbps)
    if new_connection:
        total = total + sample_rtt_ms(profile, n, rng)
    if with_loss and profile.loss > 0:
        packets = math.ceil(up_bytes / MSS_BYTES) + math.ceil(down_bytes / MSS_BYTES)
        p_request = 1 - (1 - profile.loss) ** packets
        rto = max(MIN_RTO_MS, profile.rtt_ms + 4 * profile.jitter_ms)
        total = total + rng.binomial(1, p_request, n) * rto
    return total


def end_to_end_ms(
    loopback_ms: np.ndarray,
    profile: NetworkProfile,
    up_bytes: int,
    down_bytes: int,
    rng: np.random.Generator,
    **kwargs: bool,
) -> np.ndarray:
    """Modeled end-to-end latency: measured loopback samples plus independent network-time samples."""
    return np.asarray(loopback_ms) + network_time_ms(profile, up_bytes, down_bytes, len(loopback_ms), rng, **kwargs)

"""The analytic network model: what a request/response exchange costs over a profile, per request.

Each direction of the exchange is a TCP transfer that starts from the initial window (Linux restarts slow start
after an idle longer than the RTO, which is how an edge device sending one request every few hundred ms meets the
network): the message goes out in windows of 10, 20, 40 … segments, each but the last costing a stall of one RTT
less the time to serialize it (Kurose & Ross's slow-start latency), plus the whole message's bytes ÷ the direction's
bandwidth. The last packet of a window arrives with the slowest one-way delay among its packets, since a path keeps
packet order. A lost packet costs one RACK reordering-window detection and retransmission (1.25 RTT), or, when it is
a message's last packet, a tail-loss probe (2 RTT, plus the 200 ms delayed-ACK allowance for a lone packet), at most
one RTO (RTT + 200 ms). A new connection adds the TCP handshake and, with TLS 1.3, one more RTT.
RTT = fiber propagation floor (10 ms per 1000 km of path) + a gamma excess fitted so that the profile's rtt_statistic
(mean, median or p95) is rtt_ms and its standard deviation is jitter_ms (NetworkProfile.rtt_gamma); each direction
takes half of the floor and half of the gamma's shape.
"""

from __future__ import annotations

import math

import numpy as np

from edgecloud.params import NetworkProfile

FIBER_MS_PER_KM = 10.0 / 1000.0  # light in fiber covers about 200 000 km/s: 10 ms round trip per 1000 km
MSS_BYTES = 1448  # TCP payload per packet on a 1500-byte MTU path with timestamps
INITIAL_WINDOW = 10  # segments (RFC 6928; Linux's default)
MIN_RTO_MS = 200.0  # Linux's minimum retransmission timeout, also its delayed-ACK allowance in the loss probe
RACK_COST_RTT = 1.25  # a lost packet with later ones delivered: detected a quarter RTT after their SACK, resent
TLP_COST_RTT = 2.0  # a lost last packet: the tail-loss probe fires after 2 smoothed RTTs


def propagation_floor_ms(distance_km: float) -> float:
    """The least possible RTT over distance_km of fiber."""
    return distance_km * FIBER_MS_PER_KM


def one_way_ms(profile: NetworkProfile, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """One-way delays: half the RTT's floor plus a gamma with half its shape (two directions sum to one RTT)."""
    floor, k, scale = profile.rtt_gamma()
    if k == 0:
        return np.full(shape, floor / 2)
    return floor / 2 + rng.gamma(k / 2, scale, shape)


def sample_rtt_ms(profile: NetworkProfile, n: int, rng: np.random.Generator) -> np.ndarray:
    """RTT samples: propagation floor plus gamma excess (the profile's rtt_statistic at rtt_ms, sd jitter_ms)."""
    return one_way_ms(profile, (n,), rng) + one_way_ms(profile, (n,), rng)


def transfer_ms(nbytes: float, bandwidth_mbps: float) -> float:
    """Serialization time of nbytes on a link of bandwidth_mbps."""
    return nbytes * 8 / (bandwidth_mbps * 1e6) * 1e3


def windows(nbytes: int) -> list[int]:
    """Segments sent per round trip in slow start from the initial window: 10, 20, 40 … until the message is out."""
    left, size, out = max(1, math.ceil(nbytes / MSS_BYTES)), INITIAL_WINDOW, []
    while left > 0:
        out.append(min(size, left))
        left, size = left - size, size * 2
    return out


def direction_ms(
    profile: NetworkProfile, nbytes: int, mbps: float, n: int, rng: np.random.Generator, with_loss: bool
) -> np.ndarray:
    """n modeled times (ms) from a message's first byte sent to its last byte delivered, one direction."""
    seg = transfer_ms(MSS_BYTES, mbps)
    wins = windows(nbytes)
    total = np.full(n, transfer_ms(nbytes, mbps))
    for i, w in enumerate(wins):
        arrival = one_way_ms(profile, (n, w), rng).max(axis=1)  # order kept: the slowest packet of the window
        if i == len(wins) - 1:
            total += arrival
        else:
            rtt = arrival + one_way_ms(profile, (n,), rng)
            total += np.maximum(0.0, seg + rtt - w * seg)
    if with_loss and profile.loss > 0:
        packets = sum(wins)
        rtt = sample_rtt_ms(profile, n, rng)
        rto = rtt + MIN_RTO_MS
        tail = np.minimum(TLP_COST_RTT * rtt + (MIN_RTO_MS if packets == 1 else 0.0), rto)
        total += rng.binomial(packets - 1, profile.loss, n) * RACK_COST_RTT * rtt
        total += rng.binomial(1, profile.loss, n) * tail
    return total


def network_time_ms(
    profile: NetworkProfile,
    up_bytes: int,
    down_bytes: int,
    n: int,
    rng: np.random.Generator,
    new_connection: bool = False,
    with_loss: bool = True,
    tls: bool = False,
) -> np.ndarray:
    """n modeled network times (ms) for one request/response exchange over the profile."""
    total = direction_ms(profile, up_bytes, profile.bandwidth_mbps, n, rng, with_loss)
    total += direction_ms(profile, down_bytes, profile.down_mbps, n, rng, with_loss)
    for _ in range(int(new_connection) * (1 + int(tls))):
        total += sample_rtt_ms(profile, n, rng)
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

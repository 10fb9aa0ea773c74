"""The analytic network model: what a request/response exchange costs over a profile, per request.

Each direction of the exchange is a TCP transfer that starts from the initial window (Linux halves the window per
RTO of idle down to the initial one, which is how an edge device sending a request now and then meets the network;
given the idle in RTOs, the window a steady run of requests settles at): the message goes out in windows of 10, 20,
40 … segments, each but the last costing a stall of one RTT
less the time to serialize it (Kurose & Ross's slow-start latency), plus the whole message's bytes ÷ the direction's
bandwidth. The last packet of a window arrives with the slowest one-way delay among its packets, since a path keeps
packet order. A lost packet costs one RACK reordering-window detection and retransmission (1.25 RTT), or, when it is
a message's last packet, a tail-loss probe (2 RTT, plus the 200 ms delayed-ACK allowance for a lone packet), at most
one RTO (RTT + 200 ms). A new connection adds the TCP handshake and, with TLS 1.3, one more RTT.
The RTT of a path is its profile's distribution (`network.profile`), which the emulation draws from too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from edgecloud.network.profile import one_way_ms, sample_rtt_ms, slowest_one_way_ms

if TYPE_CHECKING:  # annotations only: the model takes a profile's numbers
    from edgecloud.params import NetworkProfile


MSS_BYTES = 1448  # TCP payload per packet on a 1500-byte MTU path with timestamps
INITIAL_WINDOW = 10  # segments (RFC 6928; Linux's default)
HISTORY = 30  # messages a modeled connection has carried before the one timed
CUBIC_BETA = 0.7
CA_GAIN = 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA)  # CUBIC's TCP-friendly growth: 0.53 segment per window acked
MIN_RTO_MS = 200.0  # Linux's minimum retransmission timeout, also its delayed-ACK allowance in the loss probe
RACK_COST_RTT = 1.25  # a lost packet with later ones delivered: detected a quarter RTT after their SACK, resent
TLP_COST_RTT = 2.0  # a lost last packet: the tail-loss probe fires after 2 smoothed RTTs


def transfer_ms(nbytes: float, bandwidth_mbps: float) -> float:
    """Serialization time of nbytes on a link of bandwidth_mbps."""
    return nbytes * 8 / (bandwidth_mbps * 1e6) * 1e3


def loss_limited_mbps(profile: NetworkProfile) -> float:
    """The throughput TCP sustains under random loss p at the profile's mean RTT: MSS × √(3/2) ÷ (RTT × √p)
    (Mathis, Semke, Mahdavi and Ott, 1997)."""
    floor, shape, scale = profile.rtt_gamma()
    rtt_s = (floor + shape * scale) / 1e3
    return MSS_BYTES * 8 * math.sqrt(1.5) / (rtt_s * math.sqrt(profile.loss)) / 1e6


def segments(nbytes: int) -> int:
    return max(1, math.ceil(nbytes / MSS_BYTES))


def start_windows(
    nbytes: int, loss: float, idle_rtos: int | None, n: int, rng: np.random.Generator, history: int = HISTORY
) -> np.ndarray:
    """The congestion window (segments) each of n messages of nbytes starts with, on a connection that has carried
    `history` such messages before, each after idle_rtos RTOs of idle (None: long enough for a full restart).

    Linux, per message: after idle it halves the window once per RTO, not below min(initial window, window), and
    keeps 3/4 of the old window as the slow-start threshold (tcp_cwnd_restart); sending grows the window by one per
    segment acknowledged below the threshold and, above it, at CUBIC's TCP-friendly rate (CA_GAIN per window of
    segments acknowledged); a loss sets window and threshold to CUBIC_BETA of the window when it is found, grown
    only by the segments acknowledged before the lost one. So on a lossy path the window after a loss stays below
    the initial window for several messages."""
    k = segments(nbytes)
    if loss == 0:  # deterministic: one connection's history stands for all n
        return np.full(n, _history(k, 0.0, idle_rtos, 1, rng, history)[0])
    return _history(k, loss, idle_rtos, n, rng, history)


def _history(k: int, loss: float, idle_rtos: int | None, n: int, rng: np.random.Generator, history: int) -> np.ndarray:
    """n connections' windows over history + 1 messages of k segments each; the windows the last one starts with."""
    window, threshold = np.full(n, float(INITIAL_WINDOW)), np.full(n, np.inf)
    for _ in range(history + 1):
        floor_ = np.minimum(INITIAL_WINDOW, window)
        halved = window / 2.0 ** (64 if idle_rtos is None else idle_rtos)
        threshold = np.maximum(threshold, 0.75 * window)
        window = np.maximum(np.floor(halved), floor_)
        start = window.copy()
        slow = np.clip(threshold - window, 0, k)
        grown = window + slow + CA_GAIN * (k - slow) / np.maximum(window + slow, 1.0)
        lost = rng.random(n) < 1 - (1 - loss) ** k if loss else np.zeros(n, bool)
        # the window when the loss is found: grown by the segments acknowledged before the lost one (uniform)
        before = np.floor(rng.random(n) * k)
        at_loss = window + np.minimum(slow, before) + CA_GAIN * np.maximum(before - slow, 0) / np.maximum(window, 1.0)
        threshold = np.where(lost, np.maximum(2.0, CUBIC_BETA * at_loss), threshold)
        window = np.where(lost, threshold, grown)
    return np.maximum(1, np.floor(start)).astype(int)


def windows(nbytes: int, first: int = INITIAL_WINDOW) -> list[int]:
    """Segments sent per round trip in slow start from the first window (doubling) until the message is out."""
    left, size, out = segments(nbytes), first, []
    while left > 0:
        out.append(min(size, left))
        left, size = left - size, size * 2
    return out


def direction_ms(
    profile: NetworkProfile,
    nbytes: int,
    mbps: float,
    n: int,
    rng: np.random.Generator,
    with_loss: bool,
    idle_rtos: int | None = None,
) -> np.ndarray:
    """n modeled times (ms) from a message's first byte sent to its last byte delivered, one direction."""
    seg = transfer_ms(MSS_BYTES, mbps)
    total = np.full(n, transfer_ms(nbytes, mbps))
    if with_loss and profile.loss > 0:  # beyond the first window a long transfer goes no faster than loss allows
        rest = max(0, nbytes - INITIAL_WINDOW * MSS_BYTES)
        total += transfer_ms(rest, min(mbps, loss_limited_mbps(profile))) - transfer_ms(rest, mbps)
    starts = start_windows(nbytes, profile.loss if with_loss else 0.0, idle_rtos, n, rng)
    for first in np.unique(starts):
        rows = np.nonzero(starts == first)[0]
        wins = windows(nbytes, int(first))
        for i, w in enumerate(wins):
            arrival = slowest_one_way_ms(profile, len(rows), w, rng)  # order kept: the slowest arrives last
            if i == len(wins) - 1:
                total[rows] += arrival
            else:
                rtt = arrival + one_way_ms(profile, (len(rows),), rng)
                total[rows] += np.maximum(0.0, seg + rtt - w * seg)
    if with_loss and profile.loss > 0:
        packets = segments(nbytes)
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
    idle_rtos: int | None = None,
) -> np.ndarray:
    """n modeled network times (ms) for one request/response exchange over the profile; idle_rtos is the idle
    before each request in RTOs (None: long enough for a full slow-start restart)."""
    total = direction_ms(profile, up_bytes, profile.bandwidth_mbps, n, rng, with_loss, idle_rtos)
    total += direction_ms(profile, down_bytes, profile.down_mbps, n, rng, with_loss, idle_rtos)
    for _ in range(int(new_connection) * (1 + int(tls))):
        total += sample_rtt_ms(profile, n, rng)
    return total


def end_to_end_ms(
    loopback_ms: np.ndarray,
    profile: NetworkProfile,
    up_bytes: int,
    down_bytes: int,
    rng: np.random.Generator,
    **kwargs: bool | int | None,
) -> np.ndarray:
    """Modeled end-to-end latency: measured loopback samples plus independent network-time samples."""
    return np.asarray(loopback_ms) + network_time_ms(profile, up_bytes, down_bytes, len(loopback_ms), rng, **kwargs)

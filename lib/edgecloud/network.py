"""The path between client and cloud: a documented latency model, and a delaying TCP proxy that emulates it.

Model, per request: network time = RTT + upload bytes ÷ bandwidth + download bytes ÷ bandwidth
  + one more RTT when the connection is new (TCP handshake) + one retransmission timeout when a packet is lost.
RTT = fiber propagation floor (10 ms per 1000 km of path) + a gamma-distributed excess whose mean puts the RTT's
mean at the profile's rtt_ms and whose standard deviation is the profile's jitter_ms.
"""

from __future__ import annotations

import json
import math
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from edgecloud.params import NetworkProfile

FIBER_MS_PER_KM = 10.0 / 1000.0  # light in fiber covers about 200 000 km/s: 10 ms round trip per 1000 km
MSS_BYTES = 1448  # TCP payload per packet on a 1500-byte MTU path with timestamps
MIN_RTO_MS = 200.0  # Linux's minimum retransmission timeout
CONTROL_BYTES = 64  # smaller upstream messages are protocol control frames, not requests


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


class DelayProxy:
    """A TCP proxy that delays each message by half an RTT per direction and paces bytes at a bandwidth.

    It runs in its own process (a network element, not a thread competing for this interpreter's GIL) and sleeps
    with time.sleep, which is precise to tens of microseconds. One RTT is drawn per request and split between the
    request and its response, as in the model. Loss is not emulated. Use it as a context manager.
    """

    def __init__(
        self,
        target_port: int,
        profile: NetworkProfile | None = None,
        bandwidth_mbps: float | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
    ):
        self.target_port, self.profile, self.bandwidth_mbps = target_port, profile, bandwidth_mbps
        self.seed, self.host, self.port = seed, host, 0

    def __enter__(self) -> DelayProxy:
        spec = json.dumps(
            {
                "host": self.host,
                "target_port": self.target_port,
                "seed": self.seed,
                "bandwidth_mbps": self.bandwidth_mbps,
                "profile": self.profile.model_dump() if self.profile else None,
            }
        )
        self._process = subprocess.Popen(
            [sys.executable, "-m", "edgecloud.network", spec], stdout=subprocess.PIPE, text=True
        )
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self._process.kill()
            raise RuntimeError(f"delay proxy did not start: {line!r}")
        self.port = int(line)
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.kill()
        self._process.wait()


def _proxy_main(host: str, target_port: int, profile: dict | None, bandwidth_mbps: float | None, seed: int) -> None:
    """Proxy process: print the listening port, then relay each connection through a delaying, pacing link."""
    rng = np.random.default_rng(seed)
    prof = NetworkProfile(**profile) if profile else None
    listener = socket.create_server((host, 0))
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        server = socket.create_connection(("127.0.0.1", target_port))
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _Link(client, server, lambda: float(sample_rtt_ms(prof, 1, rng)[0]) if prof else 0.0, bandwidth_mbps)


class _Link:
    """Both directions of one proxied connection: a reader and a writer thread each."""

    def __init__(
        self, client: socket.socket, server: socket.socket, rtt_ms: Callable[[], float], bandwidth_mbps: float | None
    ):
        self.rtt_ms, self.bandwidth_mbps = rtt_ms, bandwidth_mbps
        self._return_delay: float | None = None  # half of the current request's RTT, for its response
        self._lock = threading.Lock()
        for src, dst, upstream in ((client, server, True), (server, client, False)):
            q: queue.SimpleQueue = queue.SimpleQueue()
            threading.Thread(target=self._read, args=(src, q, upstream), daemon=True).start()
            threading.Thread(target=self._write, args=(dst, q), daemon=True).start()

    def _half_rtt(self, upstream: bool, nbytes: int) -> float:
        """A request draws the RTT its response shares; protocol control frames (HTTP/2 PING, WINDOW_UPDATE:
        under CONTROL_BYTES) travel with the current draw instead of replacing it."""
        with self._lock:
            if self._return_delay is None or (upstream and nbytes >= CONTROL_BYTES):
                self._return_delay = self.rtt_ms() / 2e3
            return self._return_delay

    def _read(self, src: socket.socket, q: queue.SimpleQueue, upstream: bool) -> None:
        """Stamp each chunk with its release time: after the link is free, plus the message's half RTT."""
        link_free = last_release = delay = 0.0
        try:
            while chunk := src.recv(65536):
                now = time.monotonic()
                if now >= last_release:  # the link was idle: a new message draws its delay
                    delay = self._half_rtt(upstream, len(chunk))
                tx = transfer_ms(len(chunk), self.bandwidth_mbps) / 1e3 if self.bandwidth_mbps else 0.0
                link_free = max(link_free, now) + tx
                last_release = max(last_release, link_free + delay)
                q.put((last_release, chunk))
        except OSError:
            pass
        q.put(None)

    @staticmethod
    def _write(dst: socket.socket, q: queue.SimpleQueue) -> None:
        try:
            while (item := q.get()) is not None:
                release, chunk = item
                if (wait := release - time.monotonic()) > 0:
                    time.sleep(wait)
                dst.sendall(chunk)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


if __name__ == "__main__":
    _proxy_main(**json.loads(sys.argv[1]))

"""The path between client and cloud: a documented latency model, and a delaying TCP proxy that emulates it.

Model, per request: network time = RTT + upload bytes ÷ bandwidth + download bytes ÷ bandwidth
  + one more RTT when the connection is new (TCP handshake) + one retransmission timeout when a packet is lost.
RTT = fiber propagation floor (10 ms per 1000 km of path) + a gamma-distributed excess whose mean puts the RTT's
mean at the profile's rtt_ms and whose standard deviation is the profile's jitter_ms.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable

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


async def precise_sleep_until(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    """Sleep until loop time `deadline`; epoll rounds timeouts up to whole milliseconds, so yield-spin the last one."""
    if (remaining := deadline - loop.time()) > 0.0015:
        await asyncio.sleep(remaining - 0.0015)
    while loop.time() < deadline:
        await asyncio.sleep(0)


class DelayProxy:
    """A TCP proxy on 127.0.0.1 that delays each direction by half an RTT sample and paces bytes at a bandwidth.

    It runs its own asyncio loop in a daemon thread; use it as a context manager. Loss is not emulated.
    """

    def __init__(self, target_port: int, rtt_ms: Callable[[], float] | float, bandwidth_mbps: float | None = None):
        self.target_port = target_port
        self.rtt_ms = rtt_ms if callable(rtt_ms) else (lambda: float(rtt_ms))
        self.bandwidth_mbps = bandwidth_mbps
        self.port = 0
        self._return_delay: float | None = None  # the second half of the RTT drawn for the current request
        self._ready = threading.Event()

    def __enter__(self) -> DelayProxy:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("delay proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(self._pipe(client_r, server_w, upstream=True), self._pipe(server_r, client_w, False))
        except (asyncio.CancelledError, ConnectionError):
            pass  # the proxy is stopping or a peer hung up: nothing left to forward
        finally:
            client_w.close()
            server_w.close()

    def _half_rtt(self, upstream: bool) -> float:
        """Half of one RTT sample per request: drawn by the request, reused by its response (as in the model)."""
        if upstream or self._return_delay is None:
            half = self.rtt_ms() / 2e3
            self._return_delay = half if upstream else None
            return half
        half, self._return_delay = self._return_delay, None
        return half

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, upstream: bool) -> None:
        """Forward src → dst: a burst leaves half an RTT later, paced at the bandwidth, never reordered.

        A new delay is taken when the link is idle (a new message), so jitter applies per message, as in the model.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        link_free, last_release, delay = 0.0, 0.0, 0.0

        async def sender() -> None:
            while (item := await queue.get()) is not None:
                release, chunk = item
                await precise_sleep_until(loop, release)
                dst.write(chunk)
                await dst.drain()
            dst.close()

        task = asyncio.create_task(sender())
        try:
            while chunk := await src.read(65536):
                now = loop.time()
                if now >= last_release:
                    delay = self._half_rtt(upstream)
                tx = transfer_ms(len(chunk), self.bandwidth_mbps) / 1e3 if self.bandwidth_mbps else 0.0
                link_free = max(link_free, now) + tx
                last_release = max(last_release, link_free + delay)
                queue.put_nowait((last_release, chunk))
            queue.put_nowait(None)
            await task
        finally:
            task.cancel()

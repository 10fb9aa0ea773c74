"""A delaying TCP proxy in its own process: the network element of the emulation (see emulation.py)."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from edgecloud.processes import die_with_parent

if TYPE_CHECKING:
    from edgecloud.params import NetworkProfile

CONTROL_BYTES = 64  # smaller upstream messages are protocol control frames, not requests


class DelayProxy:
    """A TCP proxy that delays each message by half an RTT per direction and paces bytes at a bandwidth (the
    emulation without root), or, with no profile and no bandwidth, a plain relay (the ends of a packet-level path).

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
        congestion: str | None = None,
        target_host: str = "127.0.0.1",
        prefix: tuple[str, ...] = (),
    ):
        self.target_port, self.profile, self.bandwidth_mbps = target_port, profile, bandwidth_mbps
        self.seed, self.host, self.port, self.congestion = seed, host, 0, congestion
        self.target_host, self.prefix = target_host, prefix

    def __enter__(self) -> DelayProxy:
        self.launch()
        return self.wait_ready()

    def launch(self) -> None:
        """Start the proxy's process (a new interpreter: about 0.3 s until it listens; `wait_ready` waits)."""
        spec = json.dumps(
            {
                "host": self.host,
                "target_port": self.target_port,
                "seed": self.seed,
                "bandwidth_mbps": self.bandwidth_mbps,
                "profile": self.profile.model_dump() if self.profile else None,
                "congestion": self.congestion,
                "target_host": self.target_host,
            }
        )
        self._process = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "edgecloud.network.proxy", spec],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=die_with_parent,
        )

    def wait_ready(self) -> DelayProxy:
        """Wait for the launched proxy's listening port."""
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self._process.kill()
            raise RuntimeError(f"delay proxy did not start: {line!r}")
        self.port = int(line)
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.kill()
        self._process.wait()


def start_all(stack: ExitStack, proxies: list[DelayProxy]) -> list[DelayProxy]:
    """Launch the proxies at once, then wait for each one's port (their interpreters start side by side instead of one
    after another); each is stopped when the stack closes, also when a later one fails to start."""
    for proxy in proxies:
        proxy.launch()
        stack.push(proxy.__exit__)
    return [proxy.wait_ready() for proxy in proxies]


def _no_delay() -> float:
    return 0.0


def _rtt_sampler(profile: dict, seed: int) -> Callable[[], float]:
    """One RTT (ms) per call, drawn from the profile's distribution and fitted now, not during the first request;
    numpy, pydantic and scipy are imported only here, so a plain relay starts in a fraction of the time."""
    import numpy as np

    from edgecloud.network.profile import sample_rtt_ms
    from edgecloud.params import NetworkProfile

    prof, rng = NetworkProfile(**profile), np.random.default_rng(seed)
    prof.rtt_gamma()
    return lambda: float(sample_rtt_ms(prof, 1, rng)[0])


def _proxy_main(
    host: str,
    target_host: str,
    target_port: int,
    profile: dict | None,
    bandwidth_mbps: float | None,
    seed: int,
    congestion: str | None,
) -> None:
    """Proxy process: print the listening port, then relay each connection through a delaying, pacing link (or a
    plain relay when there is no profile), with the given TCP congestion control on both of its sockets."""
    rtt_ms = _rtt_sampler(profile, seed) if profile else _no_delay
    listener = socket.create_server((host, 0))
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        server = socket.socket()
        if congestion:
            server.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, congestion.encode())
        server.connect((target_host, target_port))
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if congestion:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, congestion.encode())
        _Link(client, server, rtt_ms, bandwidth_mbps)


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
                tx = len(chunk) * 8 / (self.bandwidth_mbps * 1e6) if self.bandwidth_mbps else 0.0
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

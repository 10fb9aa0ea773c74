"""The network model on known inputs, and the delaying proxy against its configured delay and bandwidth."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from edgecloud.network import netns
from edgecloud.network.model import network_time_ms, propagation_floor_ms, sample_rtt_ms, transfer_ms
from edgecloud.network.proxy import DelayProxy
from edgecloud.params import NetworkProfile


def profile(**kw) -> NetworkProfile:
    base = dict(rtt_ms=50.0, jitter_ms=0.0, bandwidth_mbps=8.0, loss=0.0, distance_km=1000, source="test")
    return NetworkProfile(**{**base, **kw})


def test_known_values() -> None:
    assert propagation_floor_ms(1000) == pytest.approx(10.0)
    assert transfer_ms(1_000_000, 8.0) == pytest.approx(1000.0)  # 8 Mbit at 8 Mbit/s
    rng = np.random.default_rng(0)
    t = network_time_ms(profile(), up_bytes=10_000, down_bytes=1_000, n=5, rng=rng)
    assert t == pytest.approx(np.full(5, 50.0 + 10.0 + 1.0))
    cold = network_time_ms(profile(), 10_000, 1_000, 5, rng, new_connection=True)
    assert cold == pytest.approx(np.full(5, 50.0 + 50.0 + 11.0))


def test_rtt_distribution_has_the_profile_mean_jitter_and_floor() -> None:
    rtt = sample_rtt_ms(profile(rtt_ms=40.0, jitter_ms=5.0, distance_km=2000), 200_000, np.random.default_rng(1))
    assert rtt.mean() == pytest.approx(40.0, rel=0.01)
    assert rtt.std() == pytest.approx(5.0, rel=0.02)
    assert rtt.min() >= 20.0


def test_loss_adds_a_retransmission_timeout_at_the_expected_rate() -> None:
    t = network_time_ms(profile(loss=0.01), 1448 * 10, 0, 100_000, np.random.default_rng(2))
    p = 1 - 0.99**10
    assert np.mean(t > 200) == pytest.approx(p, rel=0.05)


def test_profiles_below_the_fiber_floor_are_rejected() -> None:
    with pytest.raises(ValueError, match="below the fiber floor"):
        profile(rtt_ms=5.0, distance_km=1000)


@pytest.fixture
def echo_port():
    srv = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join()
    srv.close()


def _round_trip(port: int, nbytes: int) -> float:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t0 = time.perf_counter()
        s.sendall(b"x" * nbytes)
        got = 0
        while got < nbytes:
            got += len(s.recv(65536))
        return (time.perf_counter() - t0) * 1e3


def test_proxy_adds_the_configured_delay(echo_port) -> None:
    direct = np.median([_round_trip(echo_port, 100) for _ in range(5)])
    with DelayProxy(echo_port, profile(rtt_ms=40.0, distance_km=100)) as proxy:
        delayed = [_round_trip(proxy.port, 100) for _ in range(5)]
    assert np.median(delayed) - direct == pytest.approx(40.0, abs=3.0)


def test_proxy_draws_a_jittered_rtt_per_request(echo_port) -> None:
    """One RTT per request from the profile's distribution: the spread shows, and the mean stays the profile's."""
    direct = np.median([_round_trip(echo_port, 100) for _ in range(5)])
    with DelayProxy(echo_port, profile(rtt_ms=30.0, jitter_ms=8.0, distance_km=500)) as proxy:
        delays = np.array([_round_trip(proxy.port, 100) for _ in range(40)]) - direct
    assert delays.std() > 4.0  # a fixed delay would have almost none
    assert delays.mean() == pytest.approx(30.0, rel=0.2)
    assert delays.min() >= 5.0 - 1.0  # never below the 500 km fiber floor


def test_proxy_paces_bytes_at_the_bandwidth(echo_port) -> None:
    with DelayProxy(echo_port, None, bandwidth_mbps=8.0) as proxy:
        elapsed = _round_trip(proxy.port, 50_000)  # 50 kB each way at 1 MB/s: about 50 ms + 50 ms
    assert elapsed == pytest.approx(100.0, abs=25.0)


@pytest.mark.skipif(not netns.available(), reason="needs root, ip and tc")
def test_tc_tbf_limits_the_bandwidth_into_the_namespace() -> None:
    with netns.ShapedLinks([8.0]) as link:  # 200 kB at 1 MB/s: about 200 ms
        srv = socket.create_server((link.host_ips[0], 0))
        port = srv.getsockname()[1]

        def sink():
            conn, _ = srv.accept()
            with conn:
                got = 0
                while got < 200_000 and (data := conn.recv(65536)):
                    got += len(data)
                conn.sendall(b"k")

        threading.Thread(target=sink, daemon=True).start()
        code = (
            f"import socket,time;s=socket.create_connection(('{link.host_ips[0]}',{port}));t=time.perf_counter();"
            "s.sendall(b'x'*200000);s.recv(1);print((time.perf_counter()-t)*1e3)"
        )
        out = subprocess.run(
            [*link.exec_prefix(), sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        srv.close()
    assert float(out.stdout) == pytest.approx(200.0 * 1.04, rel=0.15)  # payload plus TCP/IP headers
    assert link.ns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout

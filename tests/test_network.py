"""The network model on known inputs; the delay box (packet level) and the delaying proxy against their settings."""

from __future__ import annotations

import ast
import itertools
import json
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest

from edgecloud.network import emulation, model, netns
from edgecloud.network.model import MSS_BYTES, network_time_ms, transfer_ms
from edgecloud.network.profile import one_way_ms, propagation_floor_ms, sample_rtt_ms, slowest_one_way_ms
from edgecloud.network.proxy import DelayProxy, start_all
from edgecloud.network.wire import WireCounter
from edgecloud.params import NetworkProfile
from edgecloud.payloads import Payload


def profile(**kw) -> NetworkProfile:
    base = dict(rtt_ms=50.0, rtt_statistic="mean", jitter_ms=0.0, bandwidth_mbps=8.0, loss=0.0, distance_km=1000)
    base["source"] = "test"
    return NetworkProfile(**{**base, **kw})


def test_known_values() -> None:
    assert propagation_floor_ms(1000) == pytest.approx(10.0)
    assert transfer_ms(1_000_000, 8.0) == pytest.approx(1000.0)  # 8 Mbit at 8 Mbit/s
    rng = np.random.default_rng(0)
    t = network_time_ms(profile(), up_bytes=10_000, down_bytes=1_000, n=5, rng=rng)
    assert t == pytest.approx(np.full(5, 50.0 + 10.0 + 1.0))
    cold = network_time_ms(profile(), 10_000, 1_000, 5, rng, new_connection=True)
    assert cold == pytest.approx(np.full(5, 50.0 + 50.0 + 11.0))


def test_the_models_error_interval_counts_the_baselines_sampling_noise_too() -> None:
    """The model's input is 60 baseline samples, as noisy as the emulated path's: an emulated path that is steady
    must not make a model built on a noisy baseline look precisely right or wrong."""
    from edgecloud.network import check
    from edgecloud.params import Timing

    rng, path = np.random.default_rng(0), profile(rtt_ms=2.0, bandwidth_mbps=1000, distance_km=10)
    baseline = 5.0 + rng.gamma(1.0, 3.0, 60)  # a noisy server
    emulated = np.median(baseline) + 2.1 + rng.normal(0, 0.01, 60)  # steady, near the model's p50
    found = check.compare(baseline, emulated, path, 10_000, 1_000, rng, Timing())
    p50 = found.error("p50")
    assert found.emulated["p50"].high - found.emulated["p50"].low < 0.02  # the emulated side alone: no doubt
    assert p50.low < -0.02 and p50.high > 0.02  # the baseline's median moves by more than that among resamples


def test_slow_start_costs_a_round_trip_beyond_the_initial_window() -> None:
    """10 segments go in the first RTT; the 11th waits for an ACK (Linux restarts slow start after idle)."""
    fast = profile(bandwidth_mbps=1e6)
    one, two = (network_time_ms(fast, MSS_BYTES * k, 100, 3, np.random.default_rng(0)) for k in (10, 11))
    assert one == pytest.approx(np.full(3, 50.0), abs=0.1)
    assert two == pytest.approx(np.full(3, 100.0), abs=0.1)
    slow = profile(bandwidth_mbps=1.0)  # 10 segments take 116 ms to send, longer than the RTT: no stall
    assert network_time_ms(slow, MSS_BYTES * 11, 0, 1, np.random.default_rng(0))[0] == pytest.approx(
        50 + transfer_ms(MSS_BYTES * 11, 1.0) + transfer_ms(0, 1.0), abs=0.1
    )


def test_a_loss_leaves_the_next_messages_a_smaller_window() -> None:
    """Without loss every message starts at the initial window; with loss some start below it (CUBIC's β after the
    loss, slow regrowth), the more so the higher the loss; never above it after a long idle."""
    rng = np.random.default_rng(3)
    clean = model.start_windows(MSS_BYTES * 10, 0.0, None, 2000, rng)
    assert (clean == model.INITIAL_WINDOW).all()
    low, high = (model.start_windows(MSS_BYTES * 10, p, None, 4000, rng) for p in (0.002, 0.02))
    assert 0 < np.mean(low < 10) < np.mean(high < 10)
    assert high.max() <= model.INITIAL_WINDOW
    warm = model.start_windows(MSS_BYTES * 400, 0.0, 2, 100, rng)  # big messages, short idle: the window stays open
    assert (warm > model.INITIAL_WINDOW).all()


def test_a_loss_cuts_the_window_it_was_found_at_not_the_one_the_message_would_have_ended_with() -> None:
    """A slow-start message of 10 segments from a window of 10 ends at 20; a loss at segment j is found at 10 + j
    (j uniform in 0..9), so CUBIC's 0.7 leaves the next message below 10 segments when j ≤ 4: half the time."""
    starts = model.start_windows(MSS_BYTES * 10, 1.0, None, 4000, np.random.default_rng(5), history=1)
    assert np.mean(starts < model.INITIAL_WINDOW) == pytest.approx(0.5, abs=0.05)


def test_downlink_has_its_own_bandwidth() -> None:
    asym = profile(bandwidth_mbps=1e6, downlink_mbps=8.0)
    assert network_time_ms(asym, 100, 10_000, 1, np.random.default_rng(0))[0] == pytest.approx(60.0, abs=0.1)


@pytest.mark.parametrize(("statistic", "q"), [("mean", None), ("median", 50), ("p95", 95)])
def test_rtt_distribution_puts_the_profile_statistic_at_rtt_ms(statistic: str, q: float | None) -> None:
    p = profile(rtt_ms=40.0, rtt_statistic=statistic, jitter_ms=5.0, distance_km=2000)
    rtt = sample_rtt_ms(p, 400_000, np.random.default_rng(1))
    assert (rtt.mean() if q is None else np.percentile(rtt, q)) == pytest.approx(40.0, rel=0.01)
    assert rtt.std() == pytest.approx(5.0, rel=0.02)
    assert rtt.min() >= 20.0


@pytest.mark.parametrize("packets", [1, 10, 160])
def test_the_slowest_of_a_windows_delays_is_drawn_with_the_law_of_the_maximum(packets: int) -> None:
    """A window's last packet arrives with the slowest of its delays: drawn at once from F^k, it has the quantiles
    of the maximum of k separate draws."""
    p, rng = profile(rtt_ms=40.0, jitter_ms=5.0, distance_km=2000), np.random.default_rng(3)
    direct = one_way_ms(p, (20_000, packets), rng).max(axis=1)
    drawn = slowest_one_way_ms(p, 20_000, packets, rng)
    for q in (10, 50, 90, 99):
        assert np.percentile(drawn, q) == pytest.approx(np.percentile(direct, q), rel=0.01), q


def test_loss_costs_a_rack_recovery_or_a_tail_probe_at_the_expected_rate(monkeypatch) -> None:
    """10 segments up, 1 down, RTT 50, windows held at the initial one: each of the 9 non-tail losses costs 1.25 RTT,
    a lost tail 2 RTT, and a lost lone packet 2 RTT + 200 ms capped at one RTO (RTT + 200 ms)."""
    monkeypatch.setattr(model, "start_windows", lambda nbytes, loss, idle, n, rng: np.full(n, model.INITIAL_WINDOW))
    p = profile(loss=0.01, bandwidth_mbps=1e6)
    t = network_time_ms(p, MSS_BYTES * 10, 100, 400_000, np.random.default_rng(2))
    expected = 0.01 * (9 * 62.5 + 100 + 250)
    assert t.mean() - 50.0 == pytest.approx(expected, rel=0.05)
    assert np.mean(t > 50.01) == pytest.approx(1 - 0.99**11, rel=0.05)


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


def test_wire_counter_counts_each_direction_per_request(echo_port) -> None:
    with WireCounter(echo_port) as counter, socket.create_connection(("127.0.0.1", counter.port)) as s:

        def send() -> None:
            s.sendall(b"x" * 3000)
            got = 0
            while got < 3000:
                got += len(s.recv(65536))

        assert counter.per_request(send, n=4) == (3000, 3000)


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


def test_a_plain_relay_starts_without_numpy_pydantic_or_scipy() -> None:
    """Each emulated path starts two relays at once: their interpreters must not pay for the profile's arithmetic."""
    code = "import sys, edgecloud.network.proxy; print(sorted({'numpy', 'pydantic', 'scipy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_proxies_start_side_by_side_and_a_failed_start_stops_the_others(echo_port) -> None:
    started = [DelayProxy(echo_port) for _ in range(3)]
    with ExitStack() as stack:
        relays = start_all(stack, started)
        assert [_round_trip(r.port, 100) > 0 for r in relays] == [True] * 3
    assert all(r._process.poll() is not None for r in relays)
    broken = [DelayProxy(echo_port), DelayProxy(echo_port, prefix=("false",))]
    with pytest.raises(RuntimeError, match="did not start"), ExitStack() as stack:
        start_all(stack, broken)
    assert broken[0]._process.poll() is not None  # the one that did start was stopped


needs_netns = pytest.mark.skipif(not netns.available(), reason="needs root, ip, tc and /dev/net/tun")


def _in_namespace(paths: netns.EmulatedPaths, code: str) -> str:
    out = subprocess.run(
        [*paths.exec_prefix(), sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout


@needs_netns
def test_tc_tbf_limits_the_bandwidth_into_the_namespace() -> None:
    spec = netns.PathSpec(netns.OneWay(mbps=8.0), netns.OneWay(mbps=8.0))
    with netns.EmulatedPaths([spec]) as paths:  # 200 kB at 1 MB/s: about 200 ms
        srv = socket.create_server((paths.host_ips[0], 0))
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
            f"import socket,time;s=socket.create_connection(('{paths.host_ips[0]}',{port}));t=time.perf_counter();"
            "s.sendall(b'x'*200000);s.recv(1);print((time.perf_counter()-t)*1e3)"
        )
        elapsed = float(_in_namespace(paths, code))
        srv.close()
    assert elapsed == pytest.approx(200.0 * 1.04, rel=0.15)  # payload plus TCP/IP headers
    assert paths.ns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


@needs_netns
def test_delay_box_draws_a_delay_per_packet_from_the_profile() -> None:
    """UDP pings through a 30 ms mean, 8 ms sd RTT profile: the spread shows, the mean is the profile's, and
    nothing arrives before the 500 km fiber floor."""
    p = profile(rtt_ms=30.0, jitter_ms=8.0, distance_km=500)
    with netns.EmulatedPaths([emulation.path_spec(p)]) as paths:
        echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        echo.bind((paths.host_ips[0], 0))
        threading.Thread(target=lambda: [echo.sendto(*echo.recvfrom(64)) for _ in range(200)], daemon=True).start()
        code = (
            "import socket,time,json;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);out=[]\n"
            "for i in range(200):\n"
            f" t=time.perf_counter();s.sendto(b'p',('{paths.host_ips[0]}',{echo.getsockname()[1]}));s.recv(64)\n"
            " out.append((time.perf_counter()-t)*1e3)\n"
            "print(json.dumps(out))"
        )
        rtt = np.array(json.loads(_in_namespace(paths, code)))
    assert rtt.mean() == pytest.approx(30.0, rel=0.1)
    assert rtt.std() == pytest.approx(8.0, rel=0.3)
    assert rtt.min() >= 5.0


@needs_netns
def test_delay_box_drops_packets_at_the_profile_loss() -> None:
    """2000 UDP datagrams one way through 10% loss: about 1800 arrive (binomial sd 13)."""
    p = profile(rtt_ms=2.0, distance_km=10, loss=0.10, bandwidth_mbps=100.0)
    with netns.EmulatedPaths([emulation.path_spec(p)]) as paths:
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind((paths.host_ips[0], 0))
        sink.settimeout(1.0)
        got = []

        def count():
            try:
                while sink.recv(256):
                    got.append(1)
            except TimeoutError:
                pass

        reader = threading.Thread(target=count)
        reader.start()
        code = (
            "import socket,time;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            f"for i in range(2000): s.sendto(b'x'*100,('{paths.host_ips[0]}',{sink.getsockname()[1]}));"
            " time.sleep(1e-4)"
        )
        _in_namespace(paths, code)
        reader.join()
    assert len(got) == pytest.approx(1800, abs=60)


def test_delay_box_imports_nothing_from_the_model() -> None:
    """The emulator must not share code with what it checks: standard library only."""
    tree = ast.parse(Path(netns.BOX).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported - {"__future__"} <= set(sys.stdlib_module_names)


def test_a_cascade_request_is_timed_from_the_edge_model_to_the_servers_answer() -> None:
    """Every input runs the edge model, then goes to the server (so each threshold reads its own latency from the
    same requests); the total includes the edge time."""
    from edgecloud.network import netclient

    sent = []

    def edge(x: np.ndarray) -> np.ndarray:
        return np.array([[5.0, 0.0]]) if x[0, 0] > 0 else np.array([[0.0, 0.0]])

    def server(x: np.ndarray) -> np.ndarray:
        sent.append(float(x[0, 0]))
        return np.array([[0.0, 1.0]])

    out = netclient.cascade_timelines(edge, server, np.array([[1.0], [-1.0]], np.float32))
    assert out["confidence"] == pytest.approx([np.exp(5) / (np.exp(5) + 1), 0.5])
    assert sent == [1.0, -1.0] and out["cloud_class"] == [1, 1]
    assert all(total >= e > 0 for total, e in zip(out["total_ms"], out["edge_ms"], strict=True))


def test_a_split_request_is_timed_from_the_head_to_the_tails_answer(monkeypatch) -> None:
    """A split's head runs on every request inside its timing, and the server gets the head's activation, never the
    raw input (pairing separately timed heads and tails hid their correlation); another path in the same run sends
    its own request to its own model."""
    from edgecloud.network import netclient

    got = []

    class Server:
        def infer(self, model: str, payload: Payload) -> None:
            got.append((model, payload))

        def close(self) -> None:
            pass

    def head(payload: Payload) -> Payload:
        time.sleep(0.02)
        return Payload("tensor", {"act": payload.arrays["x"] * 2})

    monkeypatch.setattr(netclient, "connect", lambda *a: Server())
    monkeypatch.setattr(netclient, "head_step", lambda **spec: head)
    x = Payload("tensor", {"x": np.ones((1, 3), np.float32)})
    split = netclient.Request("tail", x, {"onnx_path": "head.onnx", "tail_input": "act", "threads": 1})
    requests = {"a": split, "b": netclient.Request("whole", x)}
    out = netclient.interleaved_latencies_ms({"a": "h:1", "b": "h:2"}, "grpc", requests, 3)
    assert len(out["a"]) == 3 and min(out["a"]) >= 20 and len(got) == 2 * (netclient.DEVICES_PER_PATH["grpc"] + 3)
    assert {m for m, p in got if list(p.arrays) == ["act"] and p.arrays["act"][0, 0] == 2} == {"tail"}
    assert {m for m, p in got if list(p.arrays) == ["x"]} == {"whole"}


def test_every_emulated_device_idles_before_each_request_and_devices_take_turns(monkeypatch) -> None:
    """Each connection of a path waits its path's idle time between its own requests (so TCP restarts slow start as
    for a lone device), requests never overlap, and a path's devices share the waiting."""
    from edgecloud.network import netclient

    sent: list[tuple[int, float, float]] = []

    class Device:
        def infer(self, model: str, payload: Payload) -> None:
            t0 = time.perf_counter()
            time.sleep(0.002)
            sent.append((id(self), t0, time.perf_counter()))

        def close(self) -> None:
            pass

    monkeypatch.setattr(netclient, "connect", lambda *a: Device())
    x = Payload("tensor", {"x": np.ones((1, 3), np.float32)})
    t0 = time.perf_counter()
    requests = {"a": netclient.Request("m", x)}
    out = netclient.interleaved_latencies_ms({"a": "h:1"}, "grpc", requests, 9, idle_s={"a": 0.05}, devices=3)
    wall = time.perf_counter() - t0
    assert len(out["a"]) == 9 and len({who for who, _, _ in sent}) == 3
    timed = sent[netclient.WARMUP :]
    assert all(b[1] >= a[2] for a, b in itertools.pairwise(timed))  # one request at a time
    for who in {w for w, _, _ in timed}:
        mine = [(s, e) for w, s, e in timed if w == who]
        assert all(s2 - e1 >= 0.05 for (_, e1), (s2, _) in itertools.pairwise(mine))
    assert wall < 9 * 0.05  # a lone device would idle nine times


def test_http_paths_carry_one_connection_so_none_outlives_the_servers_keep_alive(monkeypatch) -> None:
    """Every connection waits its turn among all paths', so over HTTP/1.1, whose idle connections MLServer's uvicorn
    closes after 5 s, each path carries one (eight paths of three left some idle 11 s, and a request racing the close
    failed); gRPC keeps three. Each connection's idle counts from its warm-up, so the first request waits its idle."""
    from edgecloud.network import netclient

    made: list[tuple[str, list[float]]] = []

    class Device:
        def __init__(self, sent: list[float]) -> None:
            self.sent = sent

        def infer(self, model: str, payload: Payload) -> None:
            self.sent.append(time.perf_counter())

        def close(self) -> None:
            pass

    def connect(protocol: str, *a: str) -> Device:
        made.append((protocol, []))
        return Device(made[-1][1])

    monkeypatch.setattr(netclient, "connect", connect)
    x = Payload("tensor", {"x": np.ones((1, 3), np.float32)})
    paths = {f"p{i}": f"h:{i}" for i in range(8)}
    requests = {name: netclient.Request("m", x) for name in paths}
    for protocol, each in (("grpc", 3), ("http", 1)):
        made.clear()
        netclient.interleaved_latencies_ms(paths, protocol, requests, 2, idle_s=dict.fromkeys(paths, 0.01))
        assert [p for p, _ in made] == [protocol] * len(paths) * each
    for _, sent in made:  # over HTTP: three warm-up requests, then two that each waited their idle
        assert len(sent) == netclient.WARMUP + 2 and sent[3] - sent[2] >= 0.01 and sent[4] - sent[3] >= 0.01


def test_a_failing_client_in_the_namespace_reports_its_own_error() -> None:
    """The client's stderr is the only clue when it fails inside a namespace: it must reach the notebook's error."""
    with pytest.raises(emulation.EmulationFailed, match=r"KeyError: 'addresses'"):
        emulation._in_namespace(["env"], {"protocol": "grpc"})  # `env` runs it here, with no path to use

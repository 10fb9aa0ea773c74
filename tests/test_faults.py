"""Server faults and load: every request sent is ok or a counted error, a dead server or a silent one never hangs
the client, and a taken port moves the server to another."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from edgecloud.models import get_model
from edgecloud.params import Timing
from edgecloud.results.store import Config
from edgecloud.serving import ServedModel, Server
from edgecloud.targets.served import closed_loop

MODEL = ServedModel("digits", "digits_cnn", threads=1)
TIMING = Timing(bootstrap_resamples=100)


@pytest.fixture(scope="module")
def digits():
    return get_model("digits_cnn")


def test_a_bounded_load_test_loses_nothing(digits) -> None:
    with Server([MODEL]) as srv:
        r = closed_loop(
            srv, "grpc", "digits", digits, "tensor", 8, 10_000, TIMING, Config(), duration_s=2.0, timeout_s=5.0
        )
    assert r.sent == r.ok + sum(r.errors.values())
    assert r.ok > 100 and r.errors == {}
    print(f"\nload test: 8 clients for 2 s: sent {r.sent}, ok {r.ok}, errors {r.errors}, {r.throughput_rps:.0f}/s")


def test_a_server_that_dies_mid_run_gives_counted_errors_and_no_hang(digits) -> None:
    with Server([MODEL]) as srv:
        threading.Timer(0.7, srv.process.kill).start()
        t0 = time.monotonic()
        r = closed_loop(
            srv, "http", "digits", digits, "tensor", 4, 100_000, TIMING, Config(), duration_s=2.5, timeout_s=1.0
        )
        elapsed = time.monotonic() - t0
    assert r.ok > 0 and sum(r.errors.values()) > 0 and set(r.errors) <= {"connection", "timeout"}
    assert r.sent == r.ok + sum(r.errors.values())
    assert elapsed < 2.5 + 1.0 + 3.0


class _Silent:
    """A TCP port that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.http_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.grpc_url = f"127.0.0.1:{self.sock.getsockname()[1]}"


def test_requests_that_time_out_are_counted_not_dropped(digits) -> None:
    silent = _Silent()
    try:
        r = closed_loop(
            silent, "http", "digits", digits, "tensor", 2, 1000, TIMING, Config(), duration_s=1.0, timeout_s=0.3
        )
    finally:
        silent.sock.close()
    assert r.ok == 0 and r.latency is None and r.errors.get("timeout", 0) == r.sent > 0
    with pytest.raises(RuntimeError, match=r"all \d+ requests failed"):
        r.require_success()


def test_a_port_already_in_use_leads_to_another_port() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        with Server([MODEL], http_port=port) as srv:
            assert srv.http_port != port
    finally:
        taken.close()


def test_a_client_that_cannot_start_fails_the_load_test_instead_of_hanging(digits, monkeypatch) -> None:
    """One of the clients cannot connect (here: no file descriptors left): the others are released and the caller
    gets that error, where before every thread waited at the start line forever."""
    from edgecloud.targets import served

    real, made = served.connect, []

    def second_fails(*args, **kwargs):
        made.append(1)
        if len(made) == 2:
            raise OSError("Too many open files")
        return real(*args, **kwargs)

    monkeypatch.setattr(served, "connect", second_fails)
    silent, outcome = _Silent(), []

    def run() -> None:
        try:
            closed_loop(silent, "http", "digits", digits, "tensor", 3, 10, TIMING, Config(), timeout_s=0.3)
        except RuntimeError as e:
            outcome.append(e)

    try:
        loop = threading.Thread(target=run, daemon=True)
        loop.start()
        loop.join(timeout=20)
    finally:
        silent.sock.close()
    assert not loop.is_alive(), "the load test hung on a client that never started"
    assert outcome and "could not start" in str(outcome[0]) and "Too many open files" in str(outcome[0])

"""The cloud target: MLServer starts, answers like in-process for every payload and protocol, and always stops."""

from __future__ import annotations

import numpy as np
import psutil
import pytest

from edgecloud.client import connect
from edgecloud.models import get_model
from edgecloud.network.wire import WireCounter
from edgecloud.payloads import make_payload, samples, to_model_inputs
from edgecloud.runtimes import load_session
from edgecloud.serving import ServedModel, Server, ServerFailed

MODEL = ServedModel("eff", "efficientnet_lite0", threads=1)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _group(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["pid"]) if _pgid(p.pid) == pid]


def _pgid(pid: int) -> int | None:
    import os

    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


@pytest.fixture(scope="module")
def server():
    with Server(
        [MODEL, ServedModel("eff-batched", "efficientnet_lite0", threads=1, max_batch_size=4, max_batch_time_ms=2)]
    ) as srv:
        yield srv
    assert _gone(srv.process.pid) and not _group(srv.process.pid)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
@pytest.mark.parametrize("kind", ["tensor", "uint8", "jpeg"])
def test_round_trip_matches_in_process(server, protocol, kind) -> None:
    model = get_model("efficientnet_lite0")
    session = load_session(model, "ort", "fp32", 1)
    payload = make_payload(model, kind, samples(model, 2))
    expected = session.run(to_model_inputs(model, payload))
    client = connect(protocol, server.http_url, server.grpc_url)
    try:
        out, timeline = client.infer("eff", payload)
    finally:
        client.close()
    assert out.shape == expected.shape
    assert np.abs(out - expected).max() <= 1e-4 * max(1.0, np.abs(expected).max())
    parts = timeline.breakdown_ms()
    assert parts["compute"] > 0 and parts["total"] >= parts["compute"]
    assert timeline.batch_size == 2


def test_wire_bytes_include_what_each_protocol_adds_to_the_payload(server) -> None:
    """JSON spells JPEG bytes in base64 (a third more) and the response's floats in decimal; gRPC adds only frames."""
    model = get_model("efficientnet_lite0")
    payload = make_payload(model, "jpeg", samples(model, 1))
    raw = sum(len(b) for b in payload.arrays["input"])
    found = {}
    for protocol, port in (("http", server.http_port), ("grpc", server.grpc_port)):
        with WireCounter(port) as counter:
            client = connect(protocol, f"http://127.0.0.1:{counter.port}", f"127.0.0.1:{counter.port}")
            try:
                found[protocol] = counter.per_request(lambda c=client: c.infer("eff", payload), n=2)
            finally:
                client.close()
    assert found["http"][0] > raw * 4 / 3 > found["grpc"][0] > raw
    assert found["grpc"][1] < 4000 + 1000 < found["http"][1]


def _pings(stream: bytes) -> int:
    """HTTP/2 PING frames (type 6, not ACKs) in one direction of a connection (RFC 9113: 9-byte frame headers)."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    at, found = len(preface) if stream.startswith(preface) else 0, 0
    while at + 9 <= len(stream):
        length, kind, flags = int.from_bytes(stream[at : at + 3]), stream[at + 3], stream[at + 4]
        found += kind == 6 and not flags & 1
        at += 9 + length
    return found


def test_grpc_sends_no_http2_pings_either_way(server) -> None:
    """BDP probing off on both ends (client.GRPC_HTTP2_OPTIONS): no PING competes with a request for TCP's window."""
    model = get_model("efficientnet_lite0")
    payload = make_payload(model, "jpeg", samples(model, 1))
    with WireCounter(server.grpc_port, record=True) as counter:
        client = connect("grpc", "", f"127.0.0.1:{counter.port}")
        try:
            for _ in range(5):
                client.infer("eff", payload)
        finally:
            client.close()
    up, down = counter.captured
    assert len(up) > 5 * 13000 and len(down) > 5 * 4000
    assert (_pings(bytes(up)), _pings(bytes(down))) == (0, 0)


def test_adaptive_batching_merges_concurrent_requests(server) -> None:
    from edgecloud.params import Timing
    from edgecloud.results.store import Config
    from edgecloud.targets.served import closed_loop

    model = get_model("efficientnet_lite0")
    r = closed_loop(server, "grpc", "eff-batched", model, "jpeg", 4, 6, Timing(), Config(scenario="batched"))
    assert r.latency.n == 24 and r.mean_batch > 1.0 and r.throughput_rps > 0
    assert r.latency.config == Config(scenario="batched", concurrency=4)  # labelled as the store will hold it


def test_server_stops_after_an_exception_in_the_block() -> None:
    with pytest.raises(RuntimeError, match="cell failed"), Server([MODEL]) as srv:
        pid = srv.process.pid
        raise RuntimeError("cell failed")
    assert _gone(pid) and not _group(pid)


def test_a_model_that_cannot_load_fails_clearly_and_leaves_nothing() -> None:
    srv = Server([ServedModel("bad", "no_such_model")], ready_timeout_s=60)
    with pytest.raises(ServerFailed, match="no_such_model") as err, srv:
        pass
    assert "MLServer" in str(err.value)
    assert _gone(srv.process.pid) and not _group(srv.process.pid)


def test_cloud_remote_measures_any_open_inference_protocol_url(server, smoke, tmp_path) -> None:
    from edgecloud.experiments import cloud_edge
    from edgecloud.results import Recorder, tables

    section = smoke.measurements.model_copy(update={"remote_url": server.http_url, "remote_model": "eff"})
    rec = Recorder(cloud_edge.NOTEBOOK, root=tmp_path)
    cloud_edge.remote(cloud_edge.CloudEdgeSession(section, smoke.shared, rec))
    rows, samples = rec.stored()
    assert set(rows.target) == {"cloud-remote"}
    n = tables.extra_targets(rows).loc[("cloud-remote", 1), "n"]
    assert n >= smoke.shared.timing.min_count and len(samples) == n


def test_a_server_without_edgecloud_timestamps_still_gives_a_timeline() -> None:
    from edgecloud.client import Timeline

    t = Timeline.from_stamps(0, 1_000_000, {}, 5_000_000, 1)
    parts = t.breakdown_ms()
    assert parts["transport_and_queue"] == 4.0 and parts["compute"] == 0.0 and t.batch_size == 1


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_a_text_model_with_two_integer_inputs_is_served_like_in_process(protocol) -> None:
    model = get_model("minilm")
    session = load_session(model, "ort", "fp32", 1)
    payload = make_payload(model, "tensor", samples(model, 2))
    assert set(payload.arrays) == {"input_ids", "attention_mask"} and payload.arrays["input_ids"].dtype == np.int64
    with Server([ServedModel("text", "minilm", threads=1)]) as srv:
        client = connect(protocol, srv.http_url, srv.grpc_url)
        try:
            out, _ = client.infer("text", payload)
        finally:
            client.close()
    expected = session.run(payload.arrays)
    assert out.shape == expected.shape and np.abs(out - expected).max() < 1e-4
    with pytest.raises(ValueError, match="only payload kind is 'tensor'"):
        make_payload(model, "jpeg", samples(model, 1))


def test_server_side_jpeg_decoding_is_counted_as_server_work_not_transport(server) -> None:
    """The breakdown puts JPEG decoding on the server (server_preprocess), not in transport and queueing."""
    model = get_model("efficientnet_lite0")
    client = connect("grpc", server.http_url, server.grpc_url)
    try:
        parts = {}
        for kind in ("tensor", "jpeg"):
            payload = make_payload(model, kind, samples(model, 1))
            for _ in range(3):
                client.infer("eff", payload)  # warm
            runs = [client.infer("eff", payload)[1].breakdown_ms() for _ in range(7)]
            parts[kind] = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
    finally:
        client.close()
    payload = make_payload(model, "jpeg", samples(model, 1))
    local = [_timed(lambda: to_model_inputs(model, payload)) for _ in range(15)]
    assert parts["jpeg"]["server_preprocess"] >= 0.5 * float(np.median(local))  # the decode is counted there
    assert all(p["server_preprocess"] > 0 and p["compute"] > 0 for p in parts.values())


def _timed(fn) -> float:
    import time

    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def test_the_server_quantizes_with_the_same_calibration_as_every_notebook() -> None:
    """shared.calibration_samples reaches the served int8 model's settings: a server calibrated on its own count
    (it was 128 whatever params said) measures another int8 model than the edge targets it is compared with."""
    from edgecloud.params import load_params
    from edgecloud.targets.served import served_models

    params = load_params("params/smoke.yaml")
    models = served_models(params.measurements, 0, (), params.shared.calibration_samples)
    assert {m.settings()["parameters"]["extra"]["calibration_samples"] for m in models} == {8}


def test_the_batched_deployment_sleeps_between_operators_and_the_latency_one_spins() -> None:
    """The batched (throughput) deployment's ONNX Runtime threads do not spin, by default, and the setting reaches the
    session the server's runtime loads (in a child: MLServer's protos clash with the client's in one process); the
    unbatched one keeps ONNX Runtime's spinning."""
    import json
    import subprocess
    import sys

    from edgecloud.params import load_params
    from edgecloud.targets.served import BATCHED, UNBATCHED, served_models

    params = load_params("params/smoke.yaml")
    models = {
        m.name: m.settings() for m in served_models(params.measurements, 0, (), params.shared.calibration_samples)
    }
    code = (
        "import asyncio, json, sys\n"
        "from mlserver.settings import ModelSettings\n"
        "from edgecloud.mlserver_runtime import EdgecloudRuntime\n"
        "out = {}\n"
        "for name, settings in json.load(sys.stdin).items():\n"
        "    runtime = EdgecloudRuntime(ModelSettings(**settings))\n"
        "    asyncio.run(runtime.load())\n"
        "    options = runtime.session.handle.session.get_session_options()\n"
        "    out[name] = options.get_session_config_entry('session.intra_op.allow_spinning')\n"
        "print(json.dumps(out))\n"
    )
    picked = json.dumps({n: models[n] for n in (UNBATCHED, BATCHED)})
    done = subprocess.run([sys.executable, "-c", code], input=picked, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {UNBATCHED: "1", BATCHED: "0"}

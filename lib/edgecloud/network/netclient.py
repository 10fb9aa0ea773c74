"""The emulation client: the same request over several paths, interleaved so they share conditions.

Runs in-process, or as `python -m edgecloud.network.netclient < SPEC` inside a network namespace (it imports no torch;
the JSON spec comes on stdin, since a tensor payload is too long for a command line).
"""

from __future__ import annotations

import base64
import io
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecloud.client import connect
from edgecloud.payloads import Payload

WARMUP = 3
# connections per emulated path, taking turns: each still idles as long as a lone device would before its request, so
# a path's n requests take about n / DEVICES_PER_PATH idle periods instead of n. Over HTTP/1.1 one: every connection
# waits its turn among all paths', and with three a path some idled 11 s, past the 5 s after which MLServer's uvicorn
# closes one (a request racing that close failed a fresh-clone report; one after it paid a new handshake).
DEVICES_PER_PATH = {"grpc": 3, "http": 1}


def encode_array(array: np.ndarray, kind: str) -> object:
    """JPEG bytes as base64 strings; any other array as base64 .npy (never pickled)."""
    if kind == "jpeg":
        return [base64.b64encode(b).decode() for b in array]
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode()


def decode_array(data: object, kind: str) -> np.ndarray:
    if kind == "jpeg":
        return np.array([base64.b64decode(j) for j in data], dtype=object)
    return np.load(io.BytesIO(base64.b64decode(data)), allow_pickle=False)


def payload_to_json(payload: Payload) -> dict:
    """A payload as JSON-safe text (JPEG bytes base64; tensors as .npy, never pickled)."""
    return {"kind": payload.kind, "arrays": {k: encode_array(v, payload.kind) for k, v in payload.arrays.items()}}


def payload_from_json(doc: dict) -> Payload:
    return Payload(doc["kind"], {k: decode_array(v, doc["kind"]) for k, v in doc["arrays"].items()})


@dataclass(frozen=True)
class Request:
    """What a path sends: the served model, the payload, and a split's device half to run on the payload first
    (`head_step`'s keywords: onnx_path, tail_input, threads)."""

    model: str
    payload: Payload
    head: dict | None = None

    def to_json(self) -> dict:
        return {"model": self.model, "payload": payload_to_json(self.payload), "head": self.head}

    @classmethod
    def from_json(cls, doc: dict) -> Request:
        return cls(doc["model"], payload_from_json(doc["payload"]), doc["head"])


def interleaved_latencies_ms(
    addresses: dict[str, str],
    protocol: str,
    requests: dict[str, Request],
    n: int,
    seed: int = 0,
    idle_s: dict[str, float] | None = None,
    devices: int | None = None,
) -> dict[str, list[float]]:
    """n requests over every path (host:port), each its own Request, one at a time, interleaved: each path carries
    `devices` connections (by default the protocol's DEVICES_PER_PATH), like as many devices; each time a random path
    with a connection idle for the path's idle_s (counted from its last request, warm-up included) sends one on its
    longest-idle connection (so TCP restarts slow start there, as for a device sending one request every so often). A
    request with a head runs it on the payload first, inside the timing. Returns latencies (ms) per path."""
    devices = devices or DEVICES_PER_PATH[protocol]
    clients = {
        (name, d): connect(protocol, f"http://{addr}", addr) for name, addr in addresses.items() for d in range(devices)
    }
    heads = {json.dumps(r.head): head_step(**r.head) for r in requests.values() if r.head}
    sends = {name: heads.get(json.dumps(r.head), lambda p: p) for name, r in requests.items()}
    idle = (idle_s or {}).get

    def send(key: tuple[str, int]) -> None:
        request = requests[key[0]]
        clients[key].infer(request.model, sends[key[0]](request.payload))

    try:
        last_end: dict[tuple[str, int], float] = {}
        for name in addresses:  # every connection set up, and the path warm
            for i in range(max(WARMUP, devices)):
                send((name, i % devices))
                last_end[(name, i % devices)] = time.perf_counter()
        out: dict[str, list[float]] = {name: [] for name in addresses}
        rng = np.random.default_rng(seed)
        while pending := [key for key in clients if len(out[key[0]]) < n]:
            now = time.perf_counter()
            ready = [key for key in pending if now - last_end[key] >= idle(key[0], 0.0)]
            if not ready:
                time.sleep(min(last_end[key] + idle(key[0], 0.0) for key in pending) - now)
                continue
            paths = sorted({name for name, _ in ready})
            name = paths[rng.integers(len(paths))]
            key = min((k for k in ready if k[0] == name), key=last_end.__getitem__)
            t0 = time.perf_counter()
            send(key)
            last_end[key] = time.perf_counter()
            out[name].append((last_end[key] - t0) * 1e3)
        return out
    finally:
        for client in clients.values():
            client.close()


def softmax_confidence(logits: np.ndarray) -> float:
    """The largest class probability of one row of logits."""
    z = np.exp(logits - logits.max())
    return float(z.max() / z.sum())


def cascade_timelines(
    edge_run: Callable[[np.ndarray], np.ndarray], infer: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray
) -> dict[str, list[float]]:
    """Each input, one request after another, as a cascade's device sees it: the edge model answers (its time and
    confidence), then the same input goes to the server; `total_ms` is from before the edge model to the server's
    answer, so a threshold that offloads the input pays `total_ms` and one that keeps it pays `edge_ms`."""
    out: dict[str, list[float]] = {"edge_ms": [], "total_ms": [], "confidence": [], "cloud_class": []}
    for i in range(len(inputs)):
        x = inputs[i : i + 1]
        t0 = time.perf_counter()
        confidence = softmax_confidence(edge_run(x)[0])
        t1 = time.perf_counter()
        answer = infer(x)
        t2 = time.perf_counter()
        out["edge_ms"].append((t1 - t0) * 1e3)
        out["total_ms"].append((t2 - t0) * 1e3)
        out["confidence"].append(confidence)
        out["cloud_class"].append(int(np.argmax(answer)))
    return out


def cascade_over(address: str, protocol: str, model: str, edge_onnx: str, inputs: np.ndarray) -> dict[str, list]:
    """cascade_timelines with the edge model in ONNX Runtime (one thread) and the server at address."""
    from edgecloud.runtimes.ort import ort_session

    session = ort_session(Path(edge_onnx), 1)
    name = session.get_inputs()[0].name
    client = connect(protocol, f"http://{address}", address)
    try:
        for _ in range(WARMUP):
            client.infer(model, Payload("tensor", {name: inputs[:1]}))
        return cascade_timelines(
            lambda x: session.run(None, {name: x})[0],
            lambda x: client.infer(model, Payload("tensor", {name: x}))[0],
            inputs,
        )
    finally:
        client.close()


def head_step(onnx_path: str, tail_input: str, threads: int) -> Callable[[Payload], Payload]:
    """A split's device half: its head in ONNX Runtime, whose activation becomes the served tail's input."""
    from edgecloud.runtimes.ort import ort_session

    session = ort_session(Path(onnx_path), threads)
    return lambda payload: Payload("tensor", {tail_input: session.run(None, payload.arrays)[0]})


if __name__ == "__main__":
    spec = json.loads(sys.stdin.read())
    if "cascade" in spec:
        c = spec["cascade"]
        found = cascade_over(
            c["address"], spec["protocol"], spec["model"], c["edge_onnx"], decode_array(c["inputs"], "")
        )
        print(json.dumps(found))
        sys.exit(0)
    if "streams" in spec:
        from edgecloud.network.token_stream import interleaved_completions

        print(json.dumps(interleaved_completions(spec["urls"], **spec["streams"])))
        sys.exit(0)
    found = interleaved_latencies_ms(
        spec["addresses"],
        spec["protocol"],
        {name: Request.from_json(doc) for name, doc in spec["requests"].items()},
        spec["n"],
        spec["seed"],
        spec["idle_s"],
        spec["devices"],
    )
    print(json.dumps(found))

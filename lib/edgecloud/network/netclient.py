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

import numpy as np

from edgecloud.client import connect
from edgecloud.payloads import Payload

WARMUP = 3


def _encode(array: np.ndarray, kind: str) -> object:
    if kind == "jpeg":
        return [base64.b64encode(b).decode() for b in array]
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode()


def _decode(data: object, kind: str) -> np.ndarray:
    if kind == "jpeg":
        return np.array([base64.b64decode(j) for j in data], dtype=object)
    return np.load(io.BytesIO(base64.b64decode(data)), allow_pickle=False)


def payload_to_json(payload: Payload) -> dict:
    """A payload as JSON-safe text (JPEG bytes base64; tensors as .npy, never pickled)."""
    return {"kind": payload.kind, "arrays": {k: _encode(v, payload.kind) for k, v in payload.arrays.items()}}


def payload_from_json(doc: dict) -> Payload:
    return Payload(doc["kind"], {k: _decode(v, doc["kind"]) for k, v in doc["arrays"].items()})


def interleaved_latencies_ms(
    addresses: dict[str, str], protocol: str, model: str, payload: Payload, n: int, seed: int = 0
) -> dict[str, list[float]]:
    """n rounds; each round sends one request over every path (host:port), in a fresh random order (so no path
    always follows a long idle gap). Returns latencies (ms) per path."""
    clients = {name: connect(protocol, f"http://{addr}", addr) for name, addr in addresses.items()}
    try:
        for client in clients.values():
            for _ in range(WARMUP):
                client.infer(model, payload)
        out: dict[str, list[float]] = {name: [] for name in clients}
        rng, names = np.random.default_rng(seed), list(clients)
        for _ in range(n):
            for name in rng.permutation(names):
                t0 = time.perf_counter()
                clients[name].infer(model, payload)
                out[name].append((time.perf_counter() - t0) * 1e3)
        return out
    finally:
        for client in clients.values():
            client.close()


if __name__ == "__main__":
    spec = json.loads(sys.stdin.read())
    found = interleaved_latencies_ms(
        spec["addresses"], spec["protocol"], spec["model"], payload_from_json(spec["payload"]), spec["n"], spec["seed"]
    )
    print(json.dumps(found))

"""The emulation client: the same gRPC/JPEG request over several paths, interleaved so they share conditions.

Runs in-process, or as `python -m edgecloud.netclient SPEC` inside a network namespace (it imports no torch).
"""

from __future__ import annotations

import base64
import json
import sys
import time

import numpy as np

from edgecloud.client import GrpcClient, Payload

WARMUP = 3


def interleaved_latencies_ms(
    urls: dict[str, str], model: str, jpeg: bytes, n: int, seed: int = 0
) -> dict[str, list[float]]:
    """n rounds; each round sends one request over every path, in a fresh random order (so no path always follows a
    long idle gap). Returns latencies (ms) per path."""
    payload = Payload("jpeg", np.array([jpeg], dtype=object))
    clients = {name: GrpcClient(url) for name, url in urls.items()}
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
    spec = json.loads(sys.argv[1])
    jpeg = base64.b64decode(spec["jpeg"])
    print(json.dumps(interleaved_latencies_ms(spec["urls"], spec["model"], jpeg, spec["n"], spec["seed"])))

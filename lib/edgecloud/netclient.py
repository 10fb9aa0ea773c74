"""The measuring client that netns.ShapedLink runs inside its namespace: gRPC requests, latencies as JSON."""

from __future__ import annotations

import json
import sys
import time

from edgecloud.client import GrpcClient
from edgecloud.models import get_model
from edgecloud.targets import UNBATCHED, frames, served_request


def main(spec: dict) -> list[float]:
    """Send spec['n'] requests (after two warm-ups) and return their wall-clock latencies in ms."""
    model = get_model(spec["model"], spec["seed"])
    pixels = frames(model, 1)
    client = GrpcClient(spec["url"])
    try:
        for _ in range(2):
            served_request(client, UNBATCHED, model, spec["kind"], pixels)
        out = []
        for _ in range(spec["n"]):
            t0 = time.perf_counter()
            served_request(client, UNBATCHED, model, spec["kind"], pixels)
            out.append((time.perf_counter() - t0) * 1e3)
        return out
    finally:
        client.close()


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))

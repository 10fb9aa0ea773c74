"""The network model checked against emulation: the same gRPC requests over an emulated path vs model + loopback.

With root and iproute2 (as in CI) the bandwidth is a real kernel bottleneck (`tc tbf` on a veth pair into a network
namespace where the client runs) and the delaying proxy adds the RTT; otherwise the proxy also paces the bytes.
The model's input is the same harness with no delay and no limit, so the harness's own cost cancels out.
"""

from __future__ import annotations

from contextlib import ExitStack

import numpy as np

from edgecloud import netns, network, targets
from edgecloud.client import GrpcClient
from edgecloud.models import ImageClassifier
from edgecloud.params import NetworkProfile, Timing
from edgecloud.timing import bootstrap_percentiles

MODEL_DRAWS = 20  # network-time draws per loopback sample, so the model's median carries no sampling noise


class Emulator:
    """Sends n gRPC/JPEG requests to the unbatched served model over an emulated path; use as a context manager."""

    def __init__(self, grpc_port: int, model: ImageClassifier, n: int, seed: int, timing: Timing):
        self.grpc_port, self.model, self.n, self.seed = grpc_port, model, n, seed
        self.timing = timing.model_copy(update={"min_time_s": 0.0, "min_count": n, "max_count": n, "warmup": 2})
        self.pixels = targets.frames(model, 1)
        self.use_tc = netns.available()
        self.method = "tc tbf bandwidth + delay proxy" if self.use_tc else "delay proxy (delay and pacing)"

    def __enter__(self) -> Emulator:
        self._stack = ExitStack()
        self.link = self._stack.enter_context(netns.ShapedLink()) if self.use_tc else None
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def latencies_ms(self, profile: NetworkProfile | None) -> np.ndarray:
        """Request latencies over the profile's path, or over the bare harness when profile is None."""
        if self.link:
            self.link.set_rate(profile.bandwidth_mbps if profile else netns.UNLIMITED_MBPS)
            with network.DelayProxy(self.grpc_port, profile, None, self.seed, host=netns.HOST_IP) as proxy:
                return self.link.client_latencies_ms(proxy.port, self.model.name, "jpeg", self.n, self.seed)
        bandwidth = profile.bandwidth_mbps if profile else None
        with network.DelayProxy(self.grpc_port, profile, bandwidth, self.seed) as proxy:
            client = GrpcClient(f"127.0.0.1:{proxy.port}")
            try:
                m, _ = targets.served_latency(client, targets.UNBATCHED, self.model, "jpeg", self.pixels, self.timing)
            finally:
                client.close()
        return m.samples * 1e3


def compare(
    baseline_ms: np.ndarray,
    emulated_ms: np.ndarray,
    profile: NetworkProfile,
    up_bytes: int,
    down_bytes: int,
    rng: np.random.Generator,
    timing: Timing,
) -> dict:
    """Model median (many draws) against the emulated median with its bootstrap CI; error = model / emulated − 1."""
    loop = rng.choice(baseline_ms, MODEL_DRAWS * len(baseline_ms))
    modeled = float(np.median(network.end_to_end_ms(loop, profile, up_bytes, down_bytes, rng, with_loss=False)))
    est = bootstrap_percentiles(emulated_ms, timing.confidence, timing.bootstrap_resamples, 0)["p50"]
    return {
        "emulated_p50_ms": est.value,
        "modeled_p50_ms": modeled,
        "error": modeled / est.value - 1,
        "error_low": modeled / est.high - 1,
        "error_high": modeled / est.low - 1,
        "n": len(emulated_ms),
    }

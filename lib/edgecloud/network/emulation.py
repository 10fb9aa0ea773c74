"""The network model checked against emulation: the same requests over emulated paths vs model + loopback.

Every path (a bare baseline and one per profile) is set up at once and requests go round-robin over them, so they
share the machine's conditions. As root with iproute2 (as in CI) each path's bandwidth is a real kernel bottleneck,
`tc tbf` on its own veth pair into a network namespace where the client runs, and a delaying proxy adds the RTT;
otherwise the proxy paces the bytes too. The model's input is the baseline path, so the harness's cost cancels out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np

from edgecloud.network import model as network
from edgecloud.network import netns
from edgecloud.network.netclient import interleaved_latencies_ms, payload_to_json
from edgecloud.network.proxy import DelayProxy
from edgecloud.params import NetworkProfile, Timing
from edgecloud.payloads import Payload
from edgecloud.timing import Estimate, bootstrap_percentiles

BASELINE = "baseline"
MODEL_DRAWS = 20  # network-time draws per loopback sample, so the model's median carries no sampling noise


def method() -> str:
    return "tc tbf bandwidth + delay proxy" if netns.available() else "delay proxy (delay and pacing)"


def emulate(
    port: int, protocol: str, model: str, payload: Payload, profiles: dict[str, NetworkProfile], n: int, seed: int
) -> dict[str, np.ndarray]:
    """Latencies (ms) of n interleaved requests to the server's port over the baseline path and every profile's."""
    routes: dict[str, NetworkProfile | None] = {BASELINE: None, **profiles}
    use_tc = netns.available()
    with ExitStack() as stack:
        if use_tc:
            links = stack.enter_context(netns.ShapedLinks([p.bandwidth_mbps if p else None for p in routes.values()]))
            hosts = links.host_ips
        else:
            hosts = ["127.0.0.1"] * len(routes)
        addresses = {}
        for i, ((name, profile), host) in enumerate(zip(routes.items(), hosts, strict=True)):
            pacing = None if use_tc or profile is None else profile.bandwidth_mbps
            proxy = stack.enter_context(DelayProxy(port, profile, pacing, seed + i, host=host))
            addresses[name] = f"{host}:{proxy.port}"
        if use_tc:
            spec = {"addresses": addresses, "protocol": protocol, "model": model, "n": n, "seed": seed}
            out = subprocess.run(
                [*links.exec_prefix(), sys.executable, "-m", "edgecloud.network.netclient"],
                input=json.dumps({**spec, "payload": payload_to_json(payload)}),
                check=True,
                capture_output=True,
                text=True,
                timeout=900,
            )
            found = json.loads(out.stdout.strip().splitlines()[-1])
        else:
            found = interleaved_latencies_ms(addresses, protocol, model, payload, n, seed)
    return {name: np.asarray(v) for name, v in found.items()}


@dataclass(frozen=True)
class ModelCheck:
    """The model's median against the emulated median (with its CI); error = model / emulated − 1."""

    emulated_p50: Estimate
    modeled_p50_ms: float
    n: int

    @property
    def error(self) -> Estimate:
        e = self.emulated_p50
        return Estimate(
            self.modeled_p50_ms / e.value - 1, self.modeled_p50_ms / e.high - 1, self.modeled_p50_ms / e.low - 1
        )


def compare(
    baseline_ms: np.ndarray,
    emulated_ms: np.ndarray,
    profile: NetworkProfile,
    up_bytes: int,
    down_bytes: int,
    rng: np.random.Generator,
    timing: Timing,
) -> ModelCheck:
    """Model median (many draws over the baseline samples) against the emulated median with its bootstrap CI."""
    loop = rng.choice(baseline_ms, MODEL_DRAWS * len(baseline_ms))
    modeled = float(np.median(network.end_to_end_ms(loop, profile, up_bytes, down_bytes, rng, with_loss=False)))
    est = bootstrap_percentiles(emulated_ms, timing.confidence, timing.bootstrap_resamples, 0)["p50"]
    return ModelCheck(est, modeled, len(emulated_ms))

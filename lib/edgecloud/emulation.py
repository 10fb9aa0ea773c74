"""The network model checked against emulation: the same gRPC requests over emulated paths vs model + loopback.

Every path (a bare baseline and one per profile) is set up at once and requests go round-robin over them, so they
share the machine's conditions. As root with iproute2 (as in CI) each path's bandwidth is a real kernel bottleneck,
`tc tbf` on its own veth pair into a network namespace where the client runs, and a delaying proxy adds the RTT;
otherwise the proxy paces the bytes too. The model's input is the baseline path, so the harness's cost cancels out.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from contextlib import ExitStack

import numpy as np

from edgecloud import netns, network
from edgecloud.models import ImageClassifier, encode_jpeg
from edgecloud.netclient import interleaved_latencies_ms
from edgecloud.params import NetworkProfile, Timing
from edgecloud.targets import UNBATCHED, frames
from edgecloud.timing import bootstrap_percentiles

BASELINE = "baseline"
MODEL_DRAWS = 20  # network-time draws per loopback sample, so the model's median carries no sampling noise


def method() -> str:
    return "tc tbf bandwidth + delay proxy" if netns.available() else "delay proxy (delay and pacing)"


def emulate(
    grpc_port: int, model: ImageClassifier, profiles: dict[str, NetworkProfile], n: int, seed: int
) -> dict[str, np.ndarray]:
    """Latencies (ms) of n interleaved requests over the baseline path and every profile's path."""
    paths: dict[str, NetworkProfile | None] = {BASELINE: None, **profiles}
    jpeg = encode_jpeg(frames(model, 1)[0])
    use_tc = netns.available()
    with ExitStack() as stack:
        if use_tc:
            rates = [p.bandwidth_mbps if p else None for p in paths.values()]
            links = stack.enter_context(netns.ShapedLinks(rates))
            hosts = links.host_ips
        else:
            hosts = ["127.0.0.1"] * len(paths)
        urls = {}
        for i, ((name, profile), host) in enumerate(zip(paths.items(), hosts, strict=True)):
            pacing = None if use_tc or profile is None else profile.bandwidth_mbps
            proxy = stack.enter_context(network.DelayProxy(grpc_port, profile, pacing, seed + i, host=host))
            urls[name] = f"{host}:{proxy.port}"
        if use_tc:
            spec = json.dumps(
                {"urls": urls, "model": UNBATCHED, "jpeg": base64.b64encode(jpeg).decode(), "n": n, "seed": seed}
            )
            out = subprocess.run(
                [*links.exec_prefix(), sys.executable, "-m", "edgecloud.netclient", spec],
                check=True,
                capture_output=True,
                text=True,
                timeout=900,
            )
            found = json.loads(out.stdout.strip().splitlines()[-1])
        else:
            found = interleaved_latencies_ms(urls, UNBATCHED, jpeg, n, seed)
    return {name: np.asarray(v) for name, v in found.items()}


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

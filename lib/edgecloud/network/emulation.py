"""The network model checked against emulation: the same requests over emulated paths vs model + loopback.

Every path (a bare baseline and one per profile) is set up at once and requests go one at a time over them in random
order, so they share the machine's conditions; each path carries DEVICES_PER_PATH connections taking turns (three
over gRPC, one over HTTP/1.1, whose idle connections the server closes), like devices that each idle between their
requests. As root with iproute2 and TUN (as in CI) the emulation is
packet-level and shares no code with the model: the client runs in a network namespace, the delay box delays each
packet by its own draw from the profile's RTT distribution, keeps order and drops with the profile's loss, and `tc
tbf` limits each direction's bandwidth, so real TCP meets the RTT, slow start and loss recovery. A plain relay on
the host end reaches the server. Otherwise (no root) a delaying proxy draws one RTT per request from the same
distribution and paces bytes at the profile's bandwidth, with no TCP behaviour of its own, so agreement there says
little, and the method says so. The model's input is the baseline path (same relay, no delay), so the harness's own
cost cancels out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import numpy as np
from scipy import stats

from edgecloud.network import netns
from edgecloud.network.netclient import (
    Request,
    cascade_over,
    encode_array,
    interleaved_latencies_ms,
)
from edgecloud.network.proxy import DelayProxy, start_all
from edgecloud.network.token_stream import interleaved_completions
from edgecloud.params import NetworkProfile
from edgecloud.payloads import Payload

BASELINE = "baseline"
IDLE_RTOS = 2  # a path waits this many retransmission timeouts between its requests: TCP halves its window twice


def method() -> str:
    if netns.available():
        return "packet-level: TUN delay box (per-packet delay and loss) + tc tbf bandwidth"
    return "delay proxy (the model's own delay and pacing: not an independent check)"


def path_spec(profile: NetworkProfile | None) -> netns.PathSpec:
    """The delay box's settings for a profile: half the RTT's floor and gamma shape each way, its loss, its rates."""
    if profile is None:
        return netns.PathSpec(netns.OneWay(), netns.OneWay())
    floor, shape, scale = profile.rtt_gamma()
    one_way = dict(floor_ms=floor / 2, shape=shape / 2, scale_ms=scale, loss=profile.loss)
    return netns.PathSpec(
        netns.OneWay(**one_way, mbps=profile.bandwidth_mbps), netns.OneWay(**one_way, mbps=profile.down_mbps)
    )


def idle_s(profile: NetworkProfile | None, rtos: int = IDLE_RTOS) -> float:
    """Idle time before each request on a path: rtos × an RTO (the RTT's 95th percentile + Linux's 200 ms), a bound
    above the real RTO (smoothed RTT + 200 ms)."""
    if profile is None:
        return rtos * 0.2
    floor, shape, scale = profile.rtt_gamma()
    p95 = floor + (float(stats.gamma.ppf(0.95, shape, scale=scale)) if shape else 0.0)
    return rtos * (p95 + 200.0) / 1e3


@contextmanager
def _paths(port: int, routes: dict[str, NetworkProfile | None], seed: int) -> Iterator[tuple[dict, list | None]]:
    """Every route set up at once: (host:port per route for the client, the namespace's exec prefix or None when
    the client runs here, behind delaying proxies)."""
    with ExitStack() as stack:
        prefix = None
        if netns.available():  # client → relay in the namespace → emulated path → relay on the host → server
            links = stack.enter_context(netns.EmulatedPaths([path_spec(p) for p in routes.values()], seed))
            hosts, prefix = links.host_ips, links.exec_prefix()
            far = [DelayProxy(port, seed=seed + i, host=h, congestion=netns.CONGESTION) for i, h in enumerate(hosts)]
            near = [
                DelayProxy(f.port, congestion=netns.CONGESTION, target_host=h, prefix=prefix)
                for f, h in zip(start_all(stack, far), hosts, strict=True)
            ]
            proxies = start_all(stack, near)
        else:  # the client here, each route behind a delaying proxy
            delaying = [
                DelayProxy(port, p, p.bandwidth_mbps if p else None, seed + i) for i, p in enumerate(routes.values())
            ]
            proxies = start_all(stack, delaying)
        addresses = {name: f"127.0.0.1:{p.port}" for name, p in zip(routes, proxies, strict=True)}
        yield addresses, prefix


class EmulationFailed(RuntimeError):
    """The client inside the network namespace exited with an error; the message ends with its own."""


def _in_namespace(prefix: list, spec: dict) -> dict:
    """Run the emulation client inside the namespace with a JSON spec; its JSON answer."""
    out = subprocess.run(
        [*prefix, sys.executable, "-m", "edgecloud.network.netclient"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if out.returncode != 0:
        raise EmulationFailed(f"the emulation client failed inside the namespace: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def emulate_cascade(
    port: int,
    protocol: str,
    model: str,
    edge_onnx: str,
    inputs: np.ndarray,
    name: str,
    profile: NetworkProfile,
    seed: int,
) -> dict[str, np.ndarray]:
    """A cascade request by request over one emulated path: each input through the edge model here, then through the
    server over the path (`netclient.cascade_timelines`); arrays of edge_ms, total_ms, confidence, cloud_class."""
    with _paths(port, {name: profile}, seed) as (addresses, prefix):
        if prefix is None:
            found = cascade_over(addresses[name], protocol, model, edge_onnx, inputs)
        else:
            doc = {"address": addresses[name], "edge_onnx": edge_onnx, "inputs": encode_array(inputs, "")}
            found = _in_namespace(prefix, {"protocol": protocol, "model": model, "cascade": doc})
    return {k: np.asarray(v) for k, v in found.items()}


def emulate(
    port: int,
    protocol: str,
    model: str,
    payload: Payload,
    profiles: dict[str, NetworkProfile],
    n: int,
    seed: int,
    idle_rtos: int = IDLE_RTOS,
    head: dict | None = None,
) -> dict[str, np.ndarray]:
    """Latencies (ms) of n interleaved requests to the server's port over the baseline path and every profile's
    (`emulate_routes` with the same request on each)."""
    request = Request(model, payload, head)
    routes = {name: (profile, request) for name, profile in {BASELINE: None, **profiles}.items()}
    return emulate_routes(port, protocol, routes, n, seed, idle_rtos)


def emulate_routes(
    port: int,
    protocol: str,
    routes: dict[str, tuple[NetworkProfile | None, Request]],
    n: int,
    seed: int,
    idle_rtos: int = IDLE_RTOS,
    devices: int | None = None,
) -> dict[str, np.ndarray]:
    """Latencies (ms) of n interleaved requests to the server's port per route, each route its own emulated path
    (None: no delay) and request, each path idle for idle_rtos RTOs before each request (0 for single-packet
    requests, where it changes nothing). A request's head (a split's device half) runs on its payload first, on the
    same clock, so a split is timed end to end."""
    paths = {name: profile for name, (profile, _) in routes.items()}
    requests = {name: request for name, (_, request) in routes.items()}
    idle = {name: idle_s(p, idle_rtos) for name, p in paths.items()}
    with _paths(port, paths, seed) as (addresses, prefix):
        if prefix is not None:
            spec = {"addresses": addresses, "protocol": protocol, "n": n, "seed": seed, "idle_s": idle}
            docs = {name: r.to_json() for name, r in requests.items()}
            found = _in_namespace(prefix, {**spec, "requests": docs, "devices": devices})
        else:
            found = interleaved_latencies_ms(addresses, protocol, requests, n, seed, devices=devices)
    return {name: np.asarray(v) for name, v in found.items()}


def emulate_streams(
    port: int, profiles: dict[str, NetworkProfile], stream: dict, seed: int
) -> dict[str, list[list[float]]]:
    """Streamed completions (`token_stream.interleaved_completions` with the keyword arguments in stream) from the
    OpenAI-compatible server at port, over the baseline path (the same relays, no delay: the harness's own cost) and
    each profile's emulated path, each prompt on every path in turn; arrival times (s) per path."""
    routes: dict[str, NetworkProfile | None] = {BASELINE: None, **profiles}
    with _paths(port, routes, seed) as (addresses, prefix):
        urls = {name: f"http://{address}/v1" for name, address in addresses.items()}
        if prefix is not None:
            return _in_namespace(prefix, {"urls": urls, "streams": stream})
        return interleaved_completions(urls, **stream)

"""The cloud/edge measurement steps of notebook 02, each returning a tidy table and recording into a Run.

`python -m edgecloud measure` runs them all without Jupyter (for a Raspberry Pi or a cloud VM).
"""

from __future__ import annotations

import os
import queue
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from edgecloud import network, paths, scenarios, targets
from edgecloud.client import GrpcClient, HttpJsonClient, connect
from edgecloud.emulation import BASELINE, compare, emulate
from edgecloud.emulation import method as emulation_method
from edgecloud.models import ImageClassifier, get_model
from edgecloud.params import MeasurementsSection, Params, Shared
from edgecloud.resources import ResourceMonitor
from edgecloud.results import Run, machine_id
from edgecloud.runtimes import load_session
from edgecloud.serving import Server

NOTEBOOK = "02-cloud-edge-measurements"
BEST = ("grpc", "jpeg")  # the payload that crosses a network best: compressed bytes over binary gRPC
RESPONSE_BYTES = 1000 * 4 + 200  # 1000 float32 class scores plus gRPC framing


class Bench:
    """Everything one measurement session shares: params, the model, edge sessions, the server and the Run."""

    def __init__(self, section: MeasurementsSection, shared: Shared, run: Run | None = None):
        self.section, self.shared, self.timing = section, shared, shared.timing
        self.model: ImageClassifier = get_model(section.model, shared.seed)  # type: ignore[assignment]
        self.run = run or Run(NOTEBOOK)
        self.pixels = targets.frames(self.model, 1)
        self.rng = np.random.default_rng(shared.seed)
        self.edge = {t.name: load_session(self.model, t.runtime, t.precision, t.threads) for t in section.edge_targets}
        self.server: Server | None = None

    def start_server(self, stack: ExitStack) -> Server:
        self.server = stack.enter_context(Server(targets.served_models(self.section, self.shared.seed)))
        return self.server

    def client(self, protocol: str) -> HttpJsonClient | GrpcClient:
        return connect(protocol, self.server.http_url, self.server.grpc_url)


def edge_latency(b: Bench) -> pd.DataFrame:
    """Each edge target: camera frame → preprocess → model, in-process, batch 1."""
    rows = []
    for t in b.section.edge_targets:
        m = targets.edge_latency(b.edge[t.name], b.pixels, b.timing, target=t.name)
        dims = dict(
            target=t.name,
            model=b.model.name,
            runtime=t.runtime,
            precision=t.precision,
            threads=t.threads,
            batch=1,
            network="none",
            scenario="latency",
        )
        b.run.add_latency(m, **dims)
        rows.append(
            {
                **m.summary(),
                "target": t.name,
                "runtime": t.runtime,
                "precision": t.precision,
                "threads": t.threads,
                "samples": m.samples * 1e3,
            }
        )
    return pd.DataFrame(rows)


def cloud_payloads(b: Bench) -> tuple[pd.DataFrame, pd.DataFrame]:
    """cloud-cpu on loopback for every protocol × payload: latency, breakdown, and overhead over in-process."""
    c = b.section.cloud
    reference = load_session(b.model, c.runtime, c.precision, c.threads)
    rows, parts = [], []
    for protocol in b.section.protocols:
        client = b.client(protocol)
        try:
            for kind in b.section.payloads:
                m, breakdown = targets.served_latency(
                    client, targets.UNBATCHED, b.model, kind, b.pixels, b.timing, protocol=protocol
                )
                local = targets.in_process_equivalent(reference, kind, b.pixels, b.timing)
                dims = dict(
                    target="cloud-cpu",
                    model=b.model.name,
                    runtime=c.runtime,
                    precision=c.precision,
                    threads=c.threads,
                    batch=1,
                    payload=kind,
                    protocol=protocol,
                    network="loopback",
                )
                b.run.add_latency(m, **dims)
                overhead = m.median - local.median
                b.run.add("serving_overhead_p50", overhead * 1e3, "ms", n=m.n, **dims)
                nbytes = targets.payload_bytes(b.model, kind, b.pixels)
                b.run.add("payload_bytes", nbytes, "bytes", **dims)
                for stage, value in breakdown.median().items():
                    b.run.add(f"stage_{stage}_p50", value, "ms", n=len(breakdown), **dims)
                rows.append(
                    {
                        **m.summary(),
                        "protocol": protocol,
                        "payload": kind,
                        "in_process_p50_ms": local.median * 1e3,
                        "overhead_p50_ms": overhead * 1e3,
                        "payload_bytes": nbytes,
                        "samples": m.samples * 1e3,
                    }
                )
                parts.append(breakdown.median().rename(f"{protocol}/{kind}"))
        finally:
            client.close()
    return pd.DataFrame(rows), pd.DataFrame(parts)


def remote(b: Bench) -> pd.DataFrame:
    """cloud-remote: the same requests to a user-given Open Inference Protocol URL (float32 tensor, JSON)."""
    if not b.section.remote_url:
        return pd.DataFrame()
    client = HttpJsonClient(b.section.remote_url)
    try:
        m, _ = targets.served_latency(
            client, b.section.remote_model, b.model, "float32", b.pixels, b.timing, target="cloud-remote"
        )
    finally:
        client.close()
    b.run.add_latency(m, target="cloud-remote", model=b.model.name, payload="float32", protocol="http", batch=1)
    return pd.DataFrame([{**m.summary(), "target": "cloud-remote", "url": b.section.remote_url}])


def gpu(b: Bench) -> pd.DataFrame:
    """cloud-gpu: eager fp32 on CUDA with CUDA events, when a GPU is present."""
    if not targets.cuda_available():
        return pd.DataFrame()
    rows = []
    for batch in (1, 8, 32):
        m = targets.cuda_latency(b.model, batch, b.timing)
        b.run.add_latency(m, target="cloud-gpu", model=b.model.name, runtime="eager", precision="fp32", batch=batch)
        rows.append({**m.summary(), "batch": batch, "samples_per_s": batch / m.median})
    return pd.DataFrame(rows)


def batch_throughput(b: Bench, batch_sizes: tuple[int, ...] = (1, 2, 4, 8)) -> pd.DataFrame:
    """Samples per second against batch size: each edge target in-process, and cloud-cpu in one gRPC request."""
    rows = []
    client = b.client("grpc")
    try:
        for batch in batch_sizes:
            pixels = targets.frames(b.model, batch)
            for name, session in b.edge.items():
                m = targets.edge_latency(session, pixels, b.timing, target=name, batch=batch)
                rows.append({"target": name, "batch": batch, "p50_ms": m.median * 1e3})
            m, _ = targets.served_latency(client, targets.UNBATCHED, b.model, "jpeg", pixels, b.timing, batch=batch)
            rows.append({"target": "cloud-cpu (grpc/jpeg)", "batch": batch, "p50_ms": m.median * 1e3})
    finally:
        client.close()
    df = pd.DataFrame(rows)
    df["samples_per_s"] = df["batch"] / (df["p50_ms"] / 1e3)
    for r in df.itertuples():
        b.run.add(
            "throughput",
            r.samples_per_s,
            "samples/s",
            target=r.target,
            model=b.model.name,
            batch=r.batch,
            scenario="batch-sweep",
        )
    return df


def concurrency(b: Bench) -> pd.DataFrame:
    """Closed-loop clients against cloud-cpu, with and without adaptive batching (gRPC, JPEG)."""
    rows = []
    steps = [(name, n) for n in b.section.concurrency for name in (targets.UNBATCHED, targets.BATCHED)]
    for name, n in tqdm(steps, desc="concurrency", leave=False):
        r = targets.closed_loop(
            BEST[0],
            b.server.http_url,
            b.server.grpc_url,
            name,
            b.model,
            BEST[1],
            n,
            b.section.requests_per_client,
            b.timing,
        )
        rows.append(r)
        dims = dict(
            target="cloud-cpu",
            model=b.model.name,
            concurrency=n,
            payload=BEST[1],
            protocol=BEST[0],
            scenario="batched" if name == targets.BATCHED else "unbatched",
        )
        b.run.add("throughput", r["throughput_rps"], "requests/s", n=r["n"], **dims)
        b.run.add("latency_p50", r["p50_ms"], "ms", n=r["n"], **dims)
        b.run.add("latency_p99", r["p99_ms"], "ms", n=r["n"], **dims)
        b.run.add("mean_batch", r["mean_batch"], "requests", n=r["n"], **dims)
    return pd.DataFrame(rows)


def network_model(b: Bench, cloud: pd.DataFrame, edge: pd.DataFrame) -> pd.DataFrame:
    """Modeled end-to-end latency per profile: measured loopback samples plus modeled network time."""
    best = cloud[(cloud.protocol == BEST[0]) & (cloud.payload == BEST[1])].iloc[0]
    up, down = int(best.payload_bytes), RESPONSE_BYTES
    rows = []
    for name, profile in b.section.network_profiles.items():
        for reuse in (True, False):
            e2e = network.end_to_end_ms(best.samples, profile, up, down, b.rng, new_connection=not reuse)
            net = e2e - best.samples
            label = "warm connection" if reuse else "new connection"
            rows.append(
                {
                    "network": name,
                    "connection": label,
                    "floor_ms": network.propagation_floor_ms(profile.distance_km),
                    "rtt_ms": profile.rtt_ms,
                    "network_p50_ms": float(np.median(net)),
                    "e2e_p50_ms": float(np.median(e2e)),
                    "e2e_p99_ms": float(np.percentile(e2e, 99)),
                    "source": profile.source,
                }
            )
            for metric, value in (("e2e_latency_p50", np.median(e2e)), ("e2e_latency_p99", np.percentile(e2e, 99))):
                b.run.add(
                    metric,
                    float(value),
                    "ms",
                    "modeled",
                    n=len(e2e),
                    target="cloud-cpu",
                    model=b.model.name,
                    network=name,
                    payload=BEST[1],
                    protocol=BEST[0],
                    scenario=label,
                    source=profile.source,
                )
    return pd.DataFrame(rows)


def emulation(b: Bench) -> pd.DataFrame:
    """Validate the network model per profile against emulation (see edgecloud.emulation)."""
    up = targets.payload_bytes(b.model, BEST[1], b.pixels)
    found = emulate(
        b.server.grpc_port, b.model, b.section.network_profiles, b.section.emulation_requests, b.shared.seed
    )
    how, rows = emulation_method(), []
    for name, profile in b.section.network_profiles.items():
        row = compare(found[BASELINE], found[name], profile, up, RESPONSE_BYTES, b.rng, b.timing)
        rows.append({"network": name, **row, "method": how})
        dims = dict(network=name, target="cloud-cpu", payload=BEST[1], protocol=BEST[0], n=row["n"])
        b.run.add(
            "model_error_vs_emulation",
            row["error"],
            "fraction",
            ci=(row["error_low"], row["error_high"]),
            source=how,
            **dims,
        )
        b.run.add("e2e_latency_p50", row["emulated_p50_ms"], "ms", scenario="emulated", source=how, **dims)
    return pd.DataFrame(rows)


def loadgen(b: Bench, edge: pd.DataFrame, cloud: pd.DataFrame, conc: pd.DataFrame) -> pd.DataFrame:
    """MLPerf LoadGen SingleStream, Offline and a Server QPS search for each edge target and cloud-cpu.

    Expected rates come from this run's measurements: 1 / p50 in-process, the best closed-loop rate for the server.
    """
    cfg = b.section.loadgen
    frames = [targets.frames(b.model, 1, offset=i) for i in range(16)]
    inputs = [{"input": b.model.preprocess(f)} for f in frames]
    systems: dict[str, tuple] = {}
    for t in b.section.edge_targets:
        session = b.edge[t.name]
        p50 = float(edge.set_index("target").loc[t.name, "p50_ms"]) / 1e3
        systems[t.name] = (lambda i, s=session: s.run(inputs[i]), p50, 1 / p50, 1)
    clients = [b.client("grpc") for _ in range(max(b.section.concurrency))]
    idle: queue.SimpleQueue = queue.SimpleQueue()
    for c in clients:
        idle.put(c)

    def infer_cloud(i: int) -> None:
        client = idle.get()
        try:
            targets.served_request(client, targets.BATCHED, b.model, "jpeg", frames[i])
        finally:
            idle.put(client)

    best = cloud[(cloud.protocol == BEST[0]) & (cloud.payload == BEST[1])]
    systems["cloud-cpu"] = (
        infer_cloud,
        float(best.p50_ms.iloc[0]) / 1e3,
        float(conc.throughput_rps.max()),
        len(clients),
    )
    rows = []
    logs = paths.results_dir() / machine_id() / "loadgen" / b.run.run_id  # LoadGen's own summaries, kept
    logs.mkdir(parents=True, exist_ok=True)
    try:
        for name, (infer, p50, rate, workers) in tqdm(systems.items(), desc="loadgen", leave=False):
            results = []
            for scenario in cfg.scenarios:
                if scenario != "Server":
                    r = scenarios.run_scenario(
                        infer, len(frames), scenario, cfg, p50, workers=workers, expected_qps=rate
                    )
                    results.append(r)
                    rate = r.samples_per_s if scenario == "Offline" else rate
            if "Server" in cfg.scenarios:
                results += scenarios.server_search(infer, len(frames), cfg, p50, rate, workers)
            for k, r in enumerate(results):
                (logs / f"{name}-{r.scenario}-{k}.txt").write_text(r.summary)
                rows.append(
                    {
                        "target": name,
                        "scenario": r.scenario,
                        "target_qps": r.target_qps,
                        "valid": r.valid,
                        "result": r.result,
                        "samples_per_s": r.samples_per_s,
                        "p90_ms": r.p90_ms,
                        "p99_ms": r.p99_ms,
                    }
                )
                dims = dict(target=name, model=b.model.name, scenario=f"loadgen-{r.scenario}")
                b.run.add("loadgen_samples_per_s", r.samples_per_s, "samples/s", **dims)
                b.run.add("loadgen_p90", r.p90_ms, "ms", **dims)
                b.run.add("loadgen_p99", r.p99_ms, "ms", **dims)
                b.run.add("loadgen_valid", float(r.valid), "flag", **dims)
    finally:
        for c in clients:
            c.close()
    return pd.DataFrame(rows)


def resources(b: Bench, edge: pd.DataFrame) -> pd.DataFrame:
    """CPU% and peak RSS of client and server under concurrent load, and energy per inference."""
    n = max(b.section.concurrency)
    with ResourceMonitor({"client": os.getpid(), "server": b.server.process.pid}) as mon:
        r = targets.closed_loop(
            BEST[0],
            b.server.http_url,
            b.server.grpc_url,
            targets.BATCHED,
            b.model,
            BEST[1],
            n,
            b.section.requests_per_client,
            b.timing,
        )
    rows = mon.summary()
    for row in rows:
        b.run.add("cpu_mean", row["cpu_mean_pct"], "% of one core", target=row["process"], concurrency=n)
        b.run.add("rss_peak", row["rss_peak_mib"], "MiB", target=row["process"], concurrency=n)
    if mon.energy_j is not None:
        b.run.add("energy_per_inference", mon.energy_j / r["n"], "J", target="cloud-cpu", concurrency=n)
    for t in edge.itertuples():  # no RAPL on most machines: modeled from the device power in params
        joules = b.section.edge_power_w * t.p50_ms / 1e3
        b.run.add("energy_per_inference", joules, "J", "modeled", target=t.target, source=b.section.edge_power_source)
        rows.append({"process": t.target, "energy_per_inference_mj": joules * 1e3, "kind": "modeled"})
    return pd.DataFrame(rows)


def measure_all(params: Params) -> Path:
    """Every step, one server session, one Run written to the results store."""
    b = Bench(params.measurements, params.shared)
    with ExitStack() as stack:
        b.start_server(stack)
        edge = edge_latency(b)
        cloud, _ = cloud_payloads(b)
        for step in (remote, gpu, batch_throughput):
            step(b)
        conc = concurrency(b)
        network_model(b, cloud, edge)
        emulation(b)
        loadgen(b, edge, cloud, conc)
        resources(b, edge)
    return b.run.write()

"""Notebook 02: the same model on edge targets (in-process) and behind a real server (cloud-cpu), with the network
path modeled and checked against emulation, under LoadGen load. Every step records into the run's Recorder.

`python -m edgecloud measure` runs them all without Jupyter (for a Raspberry Pi or a cloud VM).
"""

from __future__ import annotations

import os
import queue
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgecloud import notebooks, scenarios, targets
from edgecloud.client import Client, HttpJsonClient, connect
from edgecloud.decisions import choices
from edgecloud.models.families import ZooModel
from edgecloud.models.zoo import get_model
from edgecloud.network import check, emulation
from edgecloud.network import model as network
from edgecloud.network.profile import propagation_floor_ms
from edgecloud.network.wire import WireCounter
from edgecloud.params import MeasurementsSection, Params, Shared
from edgecloud.payloads import PayloadKind, kinds_for, make_payload, model_inputs, samples
from edgecloud.resources import ResourceMonitor
from edgecloud.results import query
from edgecloud.results.store import Config, Recorder
from edgecloud.runtimes import load_session
from edgecloud.serving import Server
from edgecloud.targets import served
from edgecloud.targets.gpu import Gpu, cuda_available
from edgecloud.targets.in_process import InProcess, served_work
from edgecloud.timing import Measurement, collect_pair, difference, from_samples, tail_untrusted
from edgecloud.vocabulary import CLOUD_CPU, CLOUD_CPU_FP32, CLOUD_REMOTE

NOTEBOOK = notebooks.of_experiment(__name__)
CLOUD = CLOUD_CPU
WIRE_NOTE = "bytes on the wire per request (protocol headers and framing included), counted at a relay"


class CloudEdgeSession:
    """What the steps share: params, the model, edge sessions, the server, the recorder and the chosen payload."""

    def __init__(self, section: MeasurementsSection, shared: Shared, rec: Recorder):
        self.section, self.shared, self.timing, self.rec = section, shared, shared.timing, rec
        self.model: ZooModel = get_model(section.model, shared.seed, shared.custom_models)
        self.custom = tuple(c.model_dump() for c in shared.custom_models)
        self.sample = samples(self.model, 1)
        self.payloads = kinds_for(self.model, section.payloads)
        self.rng = np.random.default_rng(shared.seed)
        self.edge = {
            t.name: InProcess(
                t.name, load_session(self.model, t.runtime, t.precision, t.threads, shared.calibration_samples)
            )
            for t in section.edge_targets
        }
        self.server: Server | None = None
        self.best: choices.PayloadChoice | None = None

    def describe(self) -> str:
        """One paragraph naming the model and every target, for the notebook's first output."""
        c, server = self.section.cloud, self.server
        edges = ", ".join(
            f"`{t.name}` ({t.runtime} {t.precision}, {t.threads} thread{'s' * (t.threads > 1)})"
            for t in self.section.edge_targets
        )
        return (
            f"Model **{self.model.name}** ({self.model.weights}). Edge targets: {edges}. Cloud: `{CLOUD}`, MLServer "
            f"on 127.0.0.1 (HTTP :{server.http_port}, gRPC :{server.grpc_port}), {c.runtime} {c.precision}, "
            f"{c.threads} threads."
        )

    def start_server(self, stack: ExitStack) -> Server:
        self.server = stack.enter_context(
            Server(served.served_models(self.section, self.shared.seed, self.custom, self.shared.calibration_samples))
        )
        return self.server

    def client(self, protocol: str | None = None) -> Client:
        return connect(protocol or self.best.protocol, self.server.http_url, self.server.grpc_url)

    def served(self, client: Client, kind: PayloadKind, served_name: str = served.UNBATCHED) -> served.Served:
        """cloud-cpu as a target: the local server's model behind client, sent kind payloads."""
        return served.Served(CLOUD, client, served_name, self.model, kind, self.cloud_config())

    def cloud_config(self, **extra: object) -> Config:
        c = self.section.cloud
        return Config(
            target=CLOUD, model=self.model.name, runtime=c.runtime, precision=c.precision, threads=c.threads, **extra
        )


def edge_latency(s: CloudEdgeSession) -> None:
    """Each edge target: a camera frame (preprocessed here) or the model's tensors → model, in-process, batch 1."""
    for t in s.edge.values():
        s.rec.latency(targets.latency(t, s.sample, s.timing, batch=1, network="none"))


def cloud_payloads(s: CloudEdgeSession) -> choices.PayloadChoice:
    """cloud-cpu on loopback for every protocol × payload: latency, stage breakdown, bytes each way, and the serving
    overhead over the same work in one process (with a block-bootstrap CI). Then picks the payload from the data."""
    c = s.section.cloud
    reference = load_session(s.model, c.runtime, c.precision, c.threads, s.shared.calibration_samples)
    for protocol in s.section.protocols:
        port = s.server.grpc_port if protocol == "grpc" else s.server.http_port
        with ExitStack() as stack:
            client = s.client(protocol)
            stack.callback(client.close)
            counter = stack.enter_context(WireCounter(port))
            counted = connect(protocol, f"http://127.0.0.1:{counter.port}", f"127.0.0.1:{counter.port}")
            stack.callback(counted.close)
            for kind in s.payloads:
                target = s.served(client, kind)
                m, breakdown = target.latency(s.sample, s.timing, batch=1, protocol=protocol, network="loopback")
                cfg = m.config
                local = served_work(reference, kind, s.sample, s.timing, cfg.with_(network="none"))
                s.rec.latency(m)
                s.rec.latency(local)
                d = difference(
                    m.samples * 1e3, local.samples * 1e3, 50, s.timing.confidence, s.timing.bootstrap_resamples
                )
                s.rec.add(
                    "serving_overhead_p50",
                    d.value,
                    "ms",
                    cfg,
                    "measured",
                    ci=(d.low, d.high),
                    n=m.n,
                    note="served p50 − in-process p50",
                )
                up, down = counter.per_request(s.served(counted, kind).call(s.sample))
                s.rec.add("payload_bytes", up, "bytes", cfg, note=WIRE_NOTE)
                s.rec.add("response_bytes", down, "bytes", cfg, note=WIRE_NOTE)
                for stage, value in breakdown.median().items():
                    s.rec.add("stage_p50", value, "ms", cfg.with_(stage=stage), n=len(breakdown))
    s.best = choices.choose_payload(s.rec.frame(), s.section.network_profiles)
    return s.best


def served_fp32(s: CloudEdgeSession) -> None:
    """cloud-cpu-fp32: the same server's model at fp32, a labelled extra beside cloud-cpu at int8, requests of the
    chosen payload and protocol alternating between the two, and what precision alone costs served (p50 difference
    with a block-bootstrap CI). Absent when params serve fp32 already."""
    if s.section.cloud.precision == "fp32":
        return
    client = s.client()
    try:
        kind, extra = s.best.payload, dict(batch=1, protocol=s.best.protocol, network="loopback")
        int8 = s.served(client, kind)
        fp32 = served.Served(
            CLOUD_CPU_FP32, client, served.FP32, s.model, kind, s.cloud_config().with_(precision="fp32")
        )
        a, b = collect_pair(
            int8.call(s.sample), fp32.call(s.sample), int8.config(**extra), fp32.config(**extra), s.timing
        )
    finally:
        client.close()
    s.rec.latency(b)
    d = difference(b.samples * 1e3, a.samples * 1e3, 50, s.timing.confidence, s.timing.bootstrap_resamples)
    note = "served fp32 p50 − served int8 p50, requests alternating"
    s.rec.add("precision_cost_p50", d.value, "ms", b.config, ci=(d.low, d.high), n=b.n, note=note)


def remote(s: CloudEdgeSession) -> None:
    """cloud-remote: the same requests to a user-given Open Inference Protocol URL (the model's tensors, JSON)."""
    if not s.section.remote_url:
        return
    client = HttpJsonClient(s.section.remote_url)
    try:
        target = served.Served(CLOUD_REMOTE, client, s.section.remote_model, s.model, "tensor", Config(protocol="http"))
        m, _ = target.latency(s.sample, s.timing, batch=1)
    finally:
        client.close()
    s.rec.latency(m)


def gpu(s: CloudEdgeSession) -> None:
    """cloud-gpu: eager fp32 on CUDA with CUDA events, when a GPU is present."""
    if not cuda_available():
        return
    target = Gpu(s.model)
    for batch in (1, 8, 32):
        m = targets.latency(target, samples(s.model, batch), s.timing, batch=batch)
        cfg = m.config
        s.rec.latency(m, source=target.device())
        s.rec.add("throughput", batch / m.median, "samples/s", cfg, n=m.n, note="batch ÷ p50 latency")


def batch_throughput(s: CloudEdgeSession, batch_sizes: tuple[int, ...] = (1, 2, 4, 8)) -> None:
    """Samples per second against batch size: each edge target in-process, and cloud-cpu in one request."""
    client = s.client()
    try:
        for batch in batch_sizes:
            batch_sample = samples(s.model, batch)
            for t in s.edge.values():
                m = targets.latency(t, batch_sample, s.timing, batch=batch, scenario="batch-sweep")
                cfg = m.config
                s.rec.add("throughput", batch / m.median, "samples/s", cfg, n=m.n, note="batch ÷ p50 latency")
            m = served_batch(s, client, batch)
            cfg = s.cloud_config(batch=batch, scenario="batch-sweep", payload=s.best.payload, protocol=s.best.protocol)
            s.rec.add("throughput", batch / m.median, "samples/s", cfg, n=m.n, note="batch ÷ p50 latency")
    finally:
        client.close()


def served_batch(s: CloudEdgeSession, client: Client, batch: int) -> Measurement:
    """Latency of one unbatched-model request carrying `batch` samples on the chosen payload."""
    m, _ = s.served(client, s.best.payload).latency(samples(s.model, batch), s.timing, batch=batch)
    return m


def concurrency(s: CloudEdgeSession) -> None:
    """Closed-loop clients against cloud-cpu, with and without adaptive batching, on the chosen payload."""
    steps = [(name, n) for n in s.section.concurrency for name in (served.UNBATCHED, served.BATCHED)]
    for name, n in tqdm(steps, desc="concurrency", leave=False):
        scenario = "batched" if name == served.BATCHED else "unbatched"
        cfg = s.cloud_config(concurrency=n, payload=s.best.payload, protocol=s.best.protocol, scenario=scenario)
        r = served.closed_loop(
            s.server, s.best.protocol, name, s.model, s.best.payload, n, s.section.requests_per_client, s.timing, cfg
        )
        m = r.require_success()
        s.rec.latency(m)
        s.rec.add("throughput", r.throughput_rps, "requests/s", cfg, n=m.n)
        s.rec.add("mean_batch", r.mean_batch, "requests", cfg, n=m.n)
        if r.errors:
            s.rec.add("failed_requests", sum(r.errors.values()), "requests", cfg, n=r.sent, note=str(r.errors))


def cloud_minus_edge(s: CloudEdgeSession, cloud_ms: np.ndarray, edge_ms: np.ndarray, edge: str, cfg: Config) -> None:
    """A profile's modeled cloud latency minus the fastest edge target's measured one at p50 and p99, with
    block-bootstrap intervals (none on a p99 with too few samples beyond it): computed once, here, for every reader."""
    for q in (50, 99):
        d = difference(cloud_ms, edge_ms, q, s.timing.confidence, s.timing.bootstrap_resamples)
        thin = tail_untrusted(q, min(len(cloud_ms), len(edge_ms)))
        note = f"cloud over {cfg.network} minus {edge} (measured)"
        ci = None if thin else (d.low, d.high)
        s.rec.add(f"p{q}_minus_edge", d.value, "ms", cfg, "modeled", ci=ci, n=len(cloud_ms), untrusted=thin, note=note)


def network_model(s: CloudEdgeSession) -> None:
    """Modeled end-to-end latency per profile: measured loopback samples plus modeled network time, warm and new
    connections; the profile's RTT (sourced) and the fiber floor (modeled) beside it."""
    loop = s.rec.sample_frame()
    cfg = s.cloud_config(batch=1, payload=s.best.payload, protocol=s.best.protocol, network="loopback")
    samples = query.samples_of(loop, cfg)
    up, down = s.best.up_bytes, s.best.down_bytes
    edge = choices.fastest_edge(s.rec.frame())
    edge_ms = query.samples_of(loop, query.config_of(edge))
    for name, profile in s.section.network_profiles.items():
        for scenario, new in (("warm connection", False), ("new connection", True)):
            e2e = network.end_to_end_ms(samples, profile, up, down, s.rng, new_connection=new)
            m = from_samples(e2e / 1e3, cfg.with_(network=name, scenario=scenario), s.timing)
            s.rec.latency(m, "modeled", source=profile.source)
            if not new:
                cloud_minus_edge(s, e2e, edge_ms, str(edge.target), cfg.with_(network=name, scenario=scenario))
        net = network.network_time_ms(profile, up, down, len(samples), s.rng)
        pcfg = cfg.with_(network=name, scenario="warm connection")
        s.rec.add("network_p50", float(np.median(net)), "ms", pcfg, "modeled", n=len(net))
        s.rec.add("rtt", profile.rtt_ms, "ms", pcfg, "sourced", source=profile.source)
        s.rec.add(
            "propagation_floor",
            propagation_floor_ms(profile.distance_km),
            "ms",
            pcfg,
            "modeled",
            note=f"{profile.distance_km:g} km of fiber",
        )


def emulation_check(s: CloudEdgeSession) -> None:
    """Check the network model per profile against emulation (edgecloud.network.emulation), loss on, at p50, p90
    and p99."""
    port = s.server.grpc_port if s.best.protocol == "grpc" else s.server.http_port
    payload = make_payload(s.model, s.best.payload, s.sample)
    found = emulation.emulate(
        port,
        s.best.protocol,
        served.UNBATCHED,
        payload,
        s.section.network_profiles,
        s.section.emulation_requests,
        s.shared.seed,
    )
    how = emulation.method()
    for name, profile in s.section.network_profiles.items():
        result = check.compare(
            found[emulation.BASELINE], found[name], profile, s.best.up_bytes, s.best.down_bytes, s.rng, s.timing
        )
        cfg = s.cloud_config(network=name, payload=s.best.payload, protocol=s.best.protocol, scenario="emulated")
        for q in check.CHECKED:
            e, p, thin = result.error(q), result.emulated[q], result.untrusted(q)
            ci = None if thin else (e.low, e.high)
            s.rec.add(f"model_error_{q}", e.value, "fraction", cfg, ci=ci, n=result.n, untrusted=thin, source=how)
            ci = None if thin else (p.low, p.high)
            s.rec.add(f"emulated_{q}", p.value, "ms", cfg, ci=ci, n=result.n, untrusted=thin, source=how)
            s.rec.add(f"modeled_{q}", result.modeled_ms[q], "ms", cfg, "modeled", n=result.n)


def loadgen(s: CloudEdgeSession) -> None:
    """MLPerf LoadGen SingleStream, Offline and a Server search for each edge target and cloud-cpu; expected rates
    come from this run's measurements (1 / p50 in-process; the best closed-loop rate for the server)."""
    cfg = s.section.loadgen
    rows = s.rec.frame()
    frames = [samples(s.model, 1, offset=i) for i in range(16)]
    inputs = [model_inputs(s.model, f) for f in frames]
    systems: dict[str, tuple] = {}
    for t in s.section.edge_targets:
        p50 = query.value(rows, "latency_p50", target=t.name, network="none") / 1e3
        systems[t.name] = (lambda i, x=s.edge[t.name].session: x.run(inputs[i]), p50, 1 / p50, 1)
    clients = [s.client() for _ in range(max(s.section.concurrency))]
    idle: queue.SimpleQueue = queue.SimpleQueue()
    for c in clients:
        idle.put(c)

    def infer_cloud(i: int) -> None:
        client = idle.get()
        try:
            served.served_request(client, served.BATCHED, s.model, s.best.payload, frames[i])
        finally:
            idle.put(client)

    p50 = (
        query.value(
            rows, "latency_p50", target=CLOUD, payload=s.best.payload, protocol=s.best.protocol, network="loopback"
        )
        / 1e3
    )
    rate = float(rows[(rows.metric == "throughput") & (rows.target == CLOUD) & rows.concurrency.notna()].value.max())
    systems[CLOUD] = (infer_cloud, p50, rate, len(clients))
    logs = s.rec.folder / "loadgen"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        for name, (infer, p50, rate, workers) in tqdm(systems.items(), desc="loadgen", leave=False):
            results, single = [], None
            for scenario in ("SingleStream", "Offline"):
                if scenario in cfg.scenarios:
                    r = scenarios.run_scenario(
                        infer, len(frames), scenario, cfg, p50, workers=workers, expected_qps=rate
                    )
                    results.append(r)
                    rate = r.samples_per_s if scenario == "Offline" else rate
                    single = r.samples_per_s if scenario == "SingleStream" else single
            bounds = [None] * len(results)
            if "Server" in cfg.scenarios and name == CLOUD:  # capacity: runs long enough to be VALID at a p99
                ladder = scenarios.capacity_ladder(infer, len(frames), cfg, p50, rate, workers)
                results, bounds = results + ladder, bounds + [cfg.capacity_bound_ms] * len(ladder)
            elif "Server" in cfg.scenarios:
                search = scenarios.server_search(infer, len(frames), cfg, p50, rate, workers, single)
                results, bounds = results + search, bounds + [cfg.server_latency_bound_ms] * len(search)
            for k, (r, bound) in enumerate(zip(results, bounds, strict=True)):
                (logs / f"{name}-{r.scenario}-{k}.txt").write_text(r.summary)
                base = Config(target=name, model=s.model.name, scenario=f"loadgen-{r.scenario}")
                flags = dict(valid=r.valid, note=r.invalid_reason, source="MLPerf LoadGen summary")
                s.rec.add("loadgen_samples_per_s", r.samples_per_s, "samples/s", base, **flags)
                s.rec.add("loadgen_p90", r.p90_ms, "ms", base, **flags)
                s.rec.add("loadgen_p99", r.p99_ms, "ms", base, **flags)
                if r.target_qps:
                    s.rec.add("loadgen_target_qps", r.target_qps, "queries/s", base, **flags)
                    s.rec.add("loadgen_bound", bound, "ms", base, **flags)
                if r.valid and r.latencies_ms:  # the latency-vs-rate curve that sizes the measured cloud option
                    s.rec.samples(r.latencies_ms, base.with_(scale=r.target_qps))
    finally:
        for c in clients:
            c.close()


def resources(s: CloudEdgeSession) -> None:
    """CPU% and peak RSS of client and server under the highest concurrency, and energy where RAPL is readable."""
    n = max(s.section.concurrency)
    with ResourceMonitor({"client": os.getpid(), "server": s.server.process.pid}) as mon:
        r = served.closed_loop(
            s.server,
            s.best.protocol,
            served.BATCHED,
            s.model,
            s.best.payload,
            n,
            s.section.requests_per_client,
            s.timing,
            s.cloud_config(payload=s.best.payload, protocol=s.best.protocol, scenario="resources"),
        )
    for row in mon.summary():
        cfg = Config(target=row["process"], concurrency=n, model=s.model.name)
        s.rec.add("cpu_mean", row["cpu_mean_pct"], "% of one core", cfg)
        s.rec.add("cpu_peak", row["cpu_peak_pct"], "% of one core", cfg)
        s.rec.add("rss_peak", row["rss_peak_mib"], "MiB", cfg)
    if mon.energy_j is not None:
        s.rec.add(
            "energy_per_inference",
            mon.energy_j / r.require_success().n,
            "J",
            s.cloud_config(concurrency=n),
            n=r.require_success().n,
            note="RAPL package energy over the run ÷ requests: includes client, server and idle cores",
        )


def run_all(s: CloudEdgeSession) -> None:
    """Every step in order, on a started server."""
    edge_latency(s)
    cloud_payloads(s)
    for step in (
        served_fp32,
        remote,
        gpu,
        batch_throughput,
        concurrency,
        network_model,
        emulation_check,
        loadgen,
        resources,
    ):
        step(s)


def measure_all(params: Params, params_file: str) -> Path:
    """`edgecloud measure`: every step, one server, one run marked complete only when all steps finished."""
    rec = Recorder(NOTEBOOK, params.for_notebook(NOTEBOOK))
    s = CloudEdgeSession(params.measurements, params.shared, rec)
    with ExitStack() as stack:
        s.start_server(stack)
        run_all(s)
    rec.complete()
    return rec.folder

"""Where a model runs: in-process edge targets, the local cloud-cpu server, a remote URL, a GPU when present."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from edgecloud.client import Client, Timeline, connect, error_kind
from edgecloud.models.families import ZooModel
from edgecloud.params import CloudTarget, MeasurementsSection, Timing
from edgecloud.payloads import PayloadKind, Sample, make_payload, model_inputs, samples, to_model_inputs
from edgecloud.runtimes import Session
from edgecloud.serving import ServedModel, Server
from edgecloud.timing import Measurement, from_samples, measure

UNBATCHED, BATCHED = "served", "served-batched"


def served_models(section: MeasurementsSection, seed: int, custom: tuple[dict, ...] = ()) -> list[ServedModel]:
    """The cloud-cpu model twice: without batching, and with MLServer adaptive batching from params."""
    c: CloudTarget = section.cloud
    common = dict(
        model=section.model, runtime=c.runtime, precision=c.precision, threads=c.threads, seed=seed, custom=custom
    )
    return [
        ServedModel(UNBATCHED, **common),
        ServedModel(BATCHED, max_batch_size=c.max_batch_size, max_batch_time_ms=c.max_batch_time_ms, **common),
    ]


def edge_latency(session: Session, sample: Sample, timing: Timing, **config: object) -> Measurement:
    """An edge request: the sample (camera pixels, preprocessed here; or tensors) → model, in this process."""
    model = session.model
    return measure(
        lambda: session.run(model_inputs(model, sample)), session.label, timing, {"target": "edge", **config}
    )


def in_process_equivalent(session: Session, kind: PayloadKind, sample: Sample, timing: Timing) -> Measurement:
    """The work a served request does (build payload, server-side decode, model) without the protocol."""
    model = session.model

    def work() -> None:
        session.run(to_model_inputs(model, make_payload(model, kind, sample)))

    return measure(work, f"in-process/{kind}", timing, {"payload": kind})


def served_request(
    client: Client, name: str, model: ZooModel, kind: PayloadKind, sample: Sample
) -> tuple[np.ndarray, Timeline]:
    """One request whose timeline starts before the payload is built (JPEG encoding counts as client work)."""
    start = time.time_ns()
    out, timeline = client.infer(name, make_payload(model, kind, sample))
    return out, dataclasses.replace(timeline, start=start)


def served_latency(
    client: Client,
    name: str,
    model: ZooModel,
    kind: PayloadKind,
    sample: Sample,
    timing: Timing,
    **config: object,
) -> tuple[Measurement, pd.DataFrame, int]:
    """Latency of requests to a served model, the per-request breakdown of where the time went, and the bytes of
    the output tensor received."""
    timelines: list[Timeline] = []
    received: list[int] = []

    def call() -> None:
        out, timeline = served_request(client, name, model, kind, sample)
        timelines.append(timeline)
        received.append(out.nbytes)

    for _ in range(timing.warmup):
        call()
    timelines.clear()
    m = measure(call, f"{name}/{kind}", timing.model_copy(update={"warmup": 0}), {"payload": kind, **config})
    return m, pd.DataFrame([t.breakdown_ms() for t in timelines]), received[-1]


def payload_bytes(model: ZooModel, kind: PayloadKind, sample: Sample) -> int:
    return make_payload(model, kind, sample).nbytes


@dataclass(frozen=True)
class ClosedLoop:
    """What closed-loop clients saw: every request sent is either ok or an error (counted by kind), never lost."""

    latency: Measurement | None  # of the requests that succeeded
    throughput_rps: float
    mean_batch: float
    sent: int
    ok: int
    errors: dict[str, int]

    def require_success(self) -> Measurement:
        """The latencies, or a clear error when no request succeeded."""
        if self.latency is None:
            raise RuntimeError(f"all {self.sent} requests failed: {self.errors}")
        return self.latency


def closed_loop(
    server: Server,
    protocol: str,
    name: str,
    model: ZooModel,
    kind: PayloadKind,
    clients: int,
    requests_per_client: int,
    timing: Timing,
    duration_s: float | None = None,
    timeout_s: float = 30.0,
) -> ClosedLoop:
    """`clients` threads each send requests back to back after a shared start, until requests_per_client are sent
    or duration_s has passed; a failed or timed-out request is counted by kind and the client goes on."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    batches: list[list[int]] = [[] for _ in range(clients)]
    errors: list[Counter] = [Counter() for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    requests = [samples(model, 1, offset=i) for i in range(clients)]
    stop = [float("inf")]

    def worker(i: int) -> None:
        client = connect(protocol, server.http_url, server.grpc_url, timeout_s)
        try:
            with contextlib.suppress(Exception):
                served_request(client, name, model, kind, requests[i])  # connect and warm
            barrier.wait()
            for _ in range(requests_per_client):
                if time.perf_counter() >= stop[0]:
                    break
                t0 = time.perf_counter()
                try:
                    _, timeline = served_request(client, name, model, kind, requests[i])
                except Exception as e:  # a failed request is a result, not a crash
                    errors[i][error_kind(e)] += 1
                    continue
                latencies[i].append(time.perf_counter() - t0)
                batches[i].append(timeline.batch_size)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    stop[0] = t0 + duration_s if duration_s else float("inf")
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    flat = np.concatenate([np.asarray(x, dtype=float) for x in latencies])
    counts = sum(errors, Counter())
    m = from_samples(flat, f"{name}/{clients}c", timing, {"concurrency": clients}) if len(flat) else None
    done = [b for per in batches for b in per]
    return ClosedLoop(
        m,
        len(flat) / wall,
        float(np.mean(done)) if done else float("nan"),
        len(flat) + sum(counts.values()),
        len(flat),
        dict(counts),
    )


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def cuda_latency(model: ZooModel, batch: int, timing: Timing) -> Measurement:
    """Eager fp32 latency on the GPU, timed with CUDA events (device time, synchronised per call)."""
    import torch

    module = model.module().cuda()
    x = {k: torch.from_numpy(v).cuda() for k, v in model.inputs(batch).items()}
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    samples: list[float] = []

    def call() -> None:
        start.record()
        with torch.no_grad():
            module(**x) if len(x) > 1 else module(*x.values())
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) / 1e3)

    measure(call, "cuda", timing)
    return from_samples(
        np.asarray(samples[timing.warmup :]),
        f"cloud-gpu/{batch}",
        timing,
        {"target": "cloud-gpu", "batch": batch, "device": torch.cuda.get_device_name()},
    )

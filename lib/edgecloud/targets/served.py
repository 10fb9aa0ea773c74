"""Served targets: an Open Inference Protocol server (the local MLServer as cloud-cpu, or any URL as cloud-remote)
reached by a client, one request at a time or by closed-loop clients."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from edgecloud.client import Client, Timeline, connect, error_kind
from edgecloud.models.families import ZooModel
from edgecloud.params import CloudTarget, MeasurementsSection, Timing
from edgecloud.payloads import PayloadKind, Sample, make_payload, samples
from edgecloud.results.store import Config
from edgecloud.serving import ServedModel, Server
from edgecloud.timing import Measurement, collect, from_samples

UNBATCHED, BATCHED, FP32 = "served", "served-batched", "served-fp32"


def served_models(
    section: MeasurementsSection, seed: int, custom: tuple[dict, ...] = (), calibration_samples: int = 128
) -> list[ServedModel]:
    """The cloud-cpu model without batching and with MLServer adaptive batching from params, plus the same model at
    fp32 (a labelled extra) when params serve it at another precision."""
    c: CloudTarget = section.cloud
    common = dict(model=section.model, runtime=c.runtime, threads=c.threads, seed=seed, custom=custom)
    common["calibration_samples"] = calibration_samples
    models = [
        ServedModel(UNBATCHED, precision=c.precision, **common),
        ServedModel(
            BATCHED,
            precision=c.precision,
            max_batch_size=c.max_batch_size,
            max_batch_time_ms=c.max_batch_time_ms,
            spin_wait=c.batched_spin_wait,
            **common,
        ),
    ]
    return models + ([ServedModel(FP32, precision="fp32", **common)] if c.precision != "fp32" else [])


def served_request(
    client: Client, name: str, model: ZooModel, kind: PayloadKind, sample: Sample
) -> tuple[np.ndarray, Timeline]:
    """One request whose timeline starts before the payload is built (JPEG encoding counts as client work)."""
    start = time.time_ns()
    out, timeline = client.infer(name, make_payload(model, kind, sample))
    return out, dataclasses.replace(timeline, start=start)


@dataclass
class Served:
    """A model served as `served_name` behind client, sent `kind` payloads; it keeps each request's timeline and the
    bytes of the last output received, so a latency comes with where the time went."""

    name: str
    client: Client
    served_name: str
    model: ZooModel
    kind: PayloadKind
    base: Config = field(default_factory=Config)
    timelines: list[Timeline] = field(default_factory=list)
    received: int = 0

    def config(self, **extra: object) -> Config:
        return self.base.with_(target=self.name, model=self.model.name, payload=self.kind, **extra)

    def call(self, sample: Sample) -> Callable[[], float]:
        def timed() -> float:
            t0 = time.perf_counter()
            out, timeline = served_request(self.client, self.served_name, self.model, self.kind, sample)
            elapsed = time.perf_counter() - t0
            self.timelines.append(timeline)
            self.received = out.nbytes
            return elapsed

        return timed

    def latency(self, sample: Sample, timing: Timing, **extra: object) -> tuple[Measurement, pd.DataFrame]:
        """Latency on sample (labelled with this target's Config and the extra fields) and the per-request breakdown
        (ms per stage) of the timed requests, warm-up left out."""
        timed = self.call(sample)
        for _ in range(timing.warmup):
            timed()
        self.timelines.clear()
        m = collect(timed, self.config(**extra), timing.model_copy(update={"warmup": 0}))
        return m, pd.DataFrame([t.breakdown_ms() for t in self.timelines])


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
    config: Config,
    duration_s: float | None = None,
    timeout_s: float = 30.0,
) -> ClosedLoop:
    """`clients` threads, each with its own connection, send requests back to back after a shared start, until
    requests_per_client are sent or duration_s has passed; a failed or timed-out request is counted by kind and the
    client goes on. The latencies are labelled with config at this concurrency."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    batches: list[list[int]] = [[] for _ in range(clients)]
    errors: list[Counter] = [Counter() for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    requests = [samples(model, 1, offset=i) for i in range(clients)]
    stop = [float("inf")]
    failed: list[Exception] = []

    def worker(i: int) -> None:
        try:
            client = connect(protocol, server.http_url, server.grpc_url, timeout_s)
            target = Served(name, client, name, model, kind)
            timed = target.call(requests[i])
        except Exception as e:  # a client that cannot start breaks the barrier, so nobody waits for it forever
            failed.append(e)
            barrier.abort()
            return
        try:
            with contextlib.suppress(Exception):
                timed()  # connect and warm
            barrier.wait()
            for _ in range(requests_per_client):
                if time.perf_counter() >= stop[0]:
                    break
                try:
                    latencies[i].append(timed())
                except Exception as e:  # a failed request is a result, not a crash
                    errors[i][error_kind(e)] += 1
                    continue
                batches[i].append(target.timelines[-1].batch_size)
        except threading.BrokenBarrierError:
            pass  # another client could not start: the caller raises its error
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        for t in threads:
            t.join()
        raise RuntimeError(f"a closed-loop client could not start: {failed[0]!r}") from failed[0]
    t0 = time.perf_counter()
    stop[0] = t0 + duration_s if duration_s else float("inf")
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    flat = np.concatenate([np.asarray(x, dtype=float) for x in latencies])
    counts = sum(errors, Counter())
    m = from_samples(flat, config.with_(concurrency=clients), timing) if len(flat) else None
    done = [b for per in batches for b in per]
    return ClosedLoop(
        m,
        len(flat) / wall,
        float(np.mean(done)) if done else float("nan"),
        len(flat) + sum(counts.values()),
        len(flat),
        dict(counts),
    )

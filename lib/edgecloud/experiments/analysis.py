"""Notebook 04: tails and their differences, cost and TCO, energy, the two hybrid strategies measured (cascade and
split computing), published context, the claims ledger and the executive summary. Earlier notebooks' numbers come
from the store; the hybrids are measured here."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import softmax

from edgecloud import notebooks
from edgecloud.client import connect
from edgecloud.decisions import claims, evidence, hybrid
from edgecloud.decisions.costs import break_even_month
from edgecloud.decisions.devices import cited
from edgecloud.experiments.concepts import measure_session
from edgecloud.models import split
from edgecloud.models.zoo import get_model
from edgecloud.network import emulation
from edgecloud.network.model import network_time_ms
from edgecloud.network.netclient import Request
from edgecloud.params import AnalysisSection, CustomModel, NetworkProfile, Shared
from edgecloud.payloads import Payload
from edgecloud.results import analysis_tables, query, tables
from edgecloud.results.store import Config, Recorder, latest_here
from edgecloud.runtimes import load_session
from edgecloud.runtimes.onnx_files import export_onnx
from edgecloud.runtimes.ort import ort_session
from edgecloud.runtimes.ort_profile import node_shares
from edgecloud.serving import ServedModel, Server
from edgecloud.sources import sourced
from edgecloud.vocabulary import CLOUD_CPU

NOTEBOOK = notebooks.of_experiment(__name__)
SYSTEM = "00-system-under-test"
CONCEPTS = "01-inference-concepts"
CLOUD_EDGE = "02-cloud-edge-measurements"
USE_CASES = "03-use-cases"
PROTOCOL = "grpc"
GRPC_MAX_BYTES = 4_000_000  # gRPC's default 4 MiB message limit, less room for headers: larger cuts are skipped


def profiles(namespace: dict) -> dict[str, NetworkProfile]:
    """The network profiles notebook 04 borrows from the measurements section."""
    return {name: NetworkProfile(**p) for name, p in namespace["network_profiles"].items()}


# 1. Tails and differences


def differences() -> pd.DataFrame:
    """Cloud minus edge at p50 and p99 per profile, as notebook 02 stored them."""
    return analysis_tables.differences(latest_here(CLOUD_EDGE))


def capacity(bound_ms: float) -> pd.DataFrame:
    """Throughput and utilisation per target, from notebooks 00–02's stored results."""
    return analysis_tables.capacity(latest_here(CLOUD_EDGE), latest_here(SYSTEM), latest_here(CONCEPTS), bound_ms)


# 2. Cost and TCO


def server_cost(section: AnalysisSection, bound_ms: float, rec: Recorder) -> None:
    """$ per 1M inferences on the measured server: instance $/h ÷ the highest VALID LoadGen Server rate (p99 within
    the run's bound), plus egress of the measured response bytes."""
    rows = latest_here(CLOUD_EDGE)
    peaks = tables.server_peaks(tables.loadgen(rows), bound_ms)
    if CLOUD_CPU not in peaks.index:
        return
    rate, p99, bound = peaks.loc[CLOUD_CPU, ["target_qps", "p99_ms", "bound_ms"]].astype(float)
    hourly = cited(section.cloud_hourly)
    down = float(query.select(latest_here(USE_CASES), "response_bytes_used").value.iloc[0])
    egress = sourced("aws_egress_gb")
    usd = hourly.value / (rate * 3600) * 1e6 + down / 1e9 * float(egress) * 1e6
    rec.add(
        "usd_per_million",
        usd,
        "USD/1M",
        Config(target=CLOUD_CPU, scenario="loadgen-Server"),
        "modeled",
        note=f"{hourly.cite} ÷ {rate:.3g} queries/s (VALID, p99 {p99:.3g} ms ≤ {bound:g} ms) + egress of {down:.0f} B "
        f"({egress.cite()})",
    )


def tco(section: AnalysisSection, rec: Recorder) -> None:
    """Per use case: the cheapest edge and cloud options' cumulative cost month by month, the break-even month, and
    how it moves with price, volume and device life."""
    rows03 = latest_here(USE_CASES)
    models = evidence.cost_models(rows03)
    volumes = query.select(rows03, "daily_volume").set_index("scenario").value
    months, best = np.arange(section.horizon_months + 1), evidence.cheapest(rows03)
    for case, volume in volumes.items():
        (edge, edge_ok), (cloud, cloud_ok) = best[(case, "edge")], best[(case, "cloud")]
        e, c = models[(case, edge)], models[(case, cloud)]
        note = f"edge {edge} ({'feasible' if edge_ok else 'infeasible'}); cloud {cloud} " + (
            "(feasible)" if cloud_ok else "(infeasible)"
        )
        for option, m in ((edge, e), (cloud, c)):
            rec.add("per_million", m.per_million(volume), "USD/1M", Config(scenario=case, target=option), "modeled")
            for month, usd in zip(months, m.tco(months, volume), strict=True):
                rec.add("tco", usd, "USD", Config(scenario=case, target=option, scale=float(month)), "modeled")
        base = break_even_month(e, c, volume, section.horizon_months)
        rec.add("break_even", np.nan if base is None else base, "months", Config(scenario=case), "modeled", note=note)
        for k in section.sensitivity:
            for what, (ee, cc, vv) in {
                "edge price": (e.scaled(price=k), c, volume),
                "cloud price": (e, c.scaled(price=k), volume),
                "volume": (e, c, volume * k),
                "device life": (e.scaled(life=k), c, volume),
            }.items():
                month = break_even_month(ee, cc, vv, section.horizon_months)
                rec.add(
                    "break_even",
                    np.nan if month is None else month,
                    "months",
                    Config(scenario=case, stage=what, scale=k),
                    "modeled",
                    note=note,
                )


# 4. Hybrid: the cascade


def cascade(shared: Shared, section: AnalysisSection, nets: dict[str, NetworkProfile], rec: Recorder) -> None:
    """A small edge model answers when confident, the served model the rest, over an emulated network profile;
    every threshold's accuracy (Wilson interval), share offloaded, latency and cloud $ per 1M."""
    cfg = section.cascade
    small = get_model(cfg.edge_model, shared.seed)
    _, _, x, y = small.data()
    edge = load_session(small, "ort", "fp32", 1)
    probs = softmax(edge.run({"input": x}), axis=-1)
    local = measure_session(edge, {"input": x[:1]}, shared.timing, scenario="cascade")
    big = load_session(get_model(cfg.cloud_model, shared.seed), "ort", "fp32", 1)
    rec.latency(local)
    rec.latency(measure_session(big, {"input": x[:1]}, shared.timing, scenario="cascade"))
    served = ServedModel("cascade", cfg.cloud_model, threads=max(shared.threads), seed=shared.seed)
    sent = np.random.default_rng(shared.seed).permutation(len(x))[: cfg.requests]
    with Server([served]) as server:
        client = connect(PROTOCOL, server.http_url, server.grpc_url)
        loopback_ms, cloud_pred = [], []
        try:
            for i in range(len(x)):
                out, timeline = client.infer("cascade", Payload("tensor", {"input": x[i : i + 1]}))
                loopback_ms.append((timeline.decoded - timeline.start) / 1e6)
                cloud_pred.append(int(out.argmax()))
        finally:
            client.close()
        timelines = emulation.emulate_cascade(
            server.grpc_port,
            PROTOCOL,
            "cascade",
            str(export_onnx(small)),
            x[sent],
            cfg.network,
            nets[cfg.network],
            shared.seed,
        )
    cloud_pred = np.array(cloud_pred)
    capacity = 1000 / float(np.median(loopback_ms))  # one request at a time per instance
    hourly = cited(section.cloud_hourly)
    per_inference = hourly.value / (capacity * 3600)
    edge_correct, cloud_correct = probs.argmax(-1) == y, cloud_pred == y
    thresholds = [0.0, *sorted(cfg.thresholds), np.inf]
    points = hybrid.cascade(
        probs.max(-1),
        edge_correct,
        cloud_correct,
        timelines,
        thresholds,
        per_inference,
        shared.timing.confidence,
    )
    how = (
        f"{emulation.method()}; {cfg.network}; latency: {len(sent)} requests end to end (edge model, then the "
        f"server over the path); accuracy: {len(y)} labelled test digits"
    )
    for p in points:
        c = Config(scenario="cascade", network=cfg.network, scale=float(p.threshold), model=cfg.edge_model)
        a = p.accuracy
        rec.add("cascade_accuracy", a.value, "fraction", c, ci=(a.low, a.high), n=len(y), source=how)
        rec.add("cascade_offloaded", p.offloaded, "fraction", c, n=len(y))
        rec.add("cascade_mean", p.mean_ms, "ms", c, source=how)
        rec.add("cascade_p99", p.p99_ms, "ms", c, source=how)
        rec.add(
            "cascade_usd_per_million",
            p.usd_per_million,
            "USD/1M",
            c,
            "modeled",
            note=f"offloaded share × {hourly.cite} ÷ {capacity:.3g} requests/s (one at a time)",
        )
        rec.add("cascade_frontier", float(p.frontier), "", c, "modeled")


# 4. Hybrid: split computing


def _predicted(
    cut: split.Cut,
    head_ms: float,
    tail_ms: float,
    overhead_ms: float,
    profile: NetworkProfile,
    down_bytes: int,
    draws: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draws of a split's latency: head + tail + serving overhead + modeled network time (nothing for all edge)."""
    if cut.all_edge:
        return np.full(draws, head_ms)
    net = network_time_ms(profile, cut.nbytes, down_bytes, draws, rng, idle_rtos=emulation.IDLE_RTOS)
    return head_ms + tail_ms + overhead_ms + net


def split_computing(shared: Shared, section: AnalysisSection, nets: dict[str, NetworkProfile], rec: Recorder) -> None:
    """Neurosurgeon's method on this machine: per-node shares from ONNX Runtime's profiler on the edge and cloud
    thread counts, activation sizes, a predicted latency per cut and profile; the best cuts then run for real
    (head in-process, tail on the server over the emulated network) and predicted is compared with measured."""
    cfg, rng = section.split, np.random.default_rng(shared.seed)
    model = get_model(cfg.model, shared.seed)
    path, x = export_onnx(model), model.inputs(1)
    candidates = [c for c in split.cuts(path, x) if c.nbytes <= GRPC_MAX_BYTES]
    last = candidates[-1].index
    shares = {t: node_shares(path, t, x) for t in {cfg.edge_threads, cfg.cloud_threads}}
    whole = {
        t: float(np.median(measure_session(load_session(model, "ort", "fp32", t), x, shared.timing).samples)) * 1e3
        for t in shares
    }
    down = int(candidates[-1].nbytes)
    serving = serving_cost(shared, [c.nbytes for c in candidates], rec)
    parts = {
        c.index: (
            whole[cfg.edge_threads] * shares[cfg.edge_threads][: c.index].sum(),
            whole[cfg.cloud_threads] * shares[cfg.cloud_threads][c.index :].sum(),
        )
        for c in candidates
    }
    predicted, best = {}, {}
    for name in cfg.profiles:
        rtt_ms = _rtt_only(nets[name])
        for c in candidates:
            draws = _predicted(c, *parts[c.index], serving(c.nbytes), nets[name], down, 2000, rng)
            predicted[(name, c.index)] = draws
            conf = Config(model=cfg.model, network=name, stage=str(c.index), scenario="split")
            rec.add(
                "split_predicted_p50",
                float(np.median(draws)),
                "ms",
                conf,
                "modeled",
                note=f"{c.label}; {c.nbytes} B cross",
            )
        ranked = sorted(candidates, key=lambda c, n=name: float(np.median(predicted[(n, c.index)])))
        best[name] = [c.index for c in ranked[: cfg.measured_cuts]]
        for c in ranked[: cfg.measured_cuts]:
            rec.add(
                "split_best",
                float(c.index),
                "",
                Config(model=cfg.model, network=name, scenario="split"),
                "modeled",
                note=c.label,
            )
        fixed = [
            hybrid.SplitLine(c.index, *_line(c, parts, serving(c.nbytes) + rtt_ms, nets[name], down))
            for c in candidates
        ]
        for bw, below, above in hybrid.change_points(fixed, 0.1, 10_000):
            rec.add(
                "split_change_bandwidth",
                bw,
                "Mbit/s",
                Config(model=cfg.model, network=name, scenario="split"),
                "modeled",
                note=f"cut {below} below, cut {above} above",
            )
    for c in candidates:
        rec.add(
            "split_bytes",
            c.nbytes,
            "bytes",
            Config(model=cfg.model, stage=str(c.index), scenario="split"),
            "measured",
            note=c.label,
        )
    where = {c.index: [n for n in cfg.profiles if c.index in best[n]] for c in candidates}
    where[last] = list(cfg.profiles)  # all on the edge crosses no network: measured for every profile
    chosen = [c for c in candidates if where[c.index]]
    _measure_splits(shared, section, nets, rec, model, path, x, chosen, where, predicted)


def _rtt_only(profile: NetworkProfile) -> float:
    """The profile's median network time with no bytes to send: RTT, jitter and the fiber floor."""
    instant = profile.model_copy(update={"bandwidth_mbps": 1e9})
    return float(np.median(network_time_ms(instant, 0, 0, 2000, np.random.default_rng(0))))


def _line(c: split.Cut, parts: dict, fixed_ms: float, profile: NetworkProfile, down: int) -> tuple[float, float]:
    """(fixed ms, bytes on the wire) of a cut on a profile, for the lower envelope over bandwidth; fixed_ms is the
    serving cost of its bytes plus the profile's RTT."""
    head, tail = parts[c.index]
    if c.all_edge:
        return head, 0.0
    return head + tail + fixed_ms + down * 8e-3 / profile.down_mbps, float(c.nbytes)


def serving_cost(shared: Shared, sizes: list[int], rec: Recorder):
    """What a served request costs beyond compute, as a line in bytes sent: sink models of three sizes spanning the
    cuts, each answering one number, reached through the emulation's zero-delay paths (one per size, requests
    interleaved, so the sizes share the machine's conditions); least-squares fit, recorded."""
    floats = sorted({max(1, int(b) // 4) for b in np.quantile(sizes, [0.0, 0.5, 1.0])})
    specs = [CustomModel(name=f"sink_{n}", onnx_path=str(split.sink_model(n))) for n in floats]
    served = [ServedModel(s.name, s.name, custom=(s.model_dump(),)) for s in specs]
    routes = {
        spec.name: (None, Request(spec.name, Payload("tensor", {"x": np.zeros((1, n), np.float32)})))
        for n, spec in zip(floats, specs, strict=True)
    }
    with Server(served) as server:
        found = emulation.emulate_routes(server.grpc_port, PROTOCOL, routes, 15, shared.seed, idle_rtos=0)
    medians = [float(np.median(found[spec.name])) for spec in specs]
    slope, intercept = np.polyfit(4 * np.asarray(floats, float), medians, 1) if len(floats) > 1 else (0.0, medians[0])
    for n, ms in zip(floats, medians, strict=True):
        rec.add(
            "serving_cost",
            ms,
            "ms",
            Config(scenario="split", payload="tensor", batch=1, input_size=4 * n),
            note=f"sink model, {4 * n} B sent, 4 B back; fit {intercept:.3g} ms + {slope * 1e6:.3g} ms/MB",
        )
    return lambda nbytes: float(intercept + slope * nbytes)


def _measure_splits(
    shared: Shared,
    section: AnalysisSection,
    nets: dict[str, NetworkProfile],
    rec: Recorder,
    model,
    path,
    x: dict,
    chosen: list[split.Cut],
    where: dict[int, list[str]],
    predicted: dict,
) -> None:
    """Run each chosen cut for real on the profiles it was chosen for (the best measured_cuts per profile), input by
    input end to end: the head on the device, its activation over the emulated path to the served tail; record
    measured p50 and p90 beside the prediction."""
    cfg = section.split
    served, routes = [], {}  # every real cut on every profile it was chosen for, interleaved in one run
    for c in chosen:
        if c.all_edge:
            continue
        head, tail = split.halves(path, c)
        act = ort_session(head, cfg.edge_threads).run(None, x)[0] if c.index else next(iter(x.values()))
        spec = CustomModel(name=f"tail_{c.index}", onnx_path=str(tail), input_shape=list(act.shape))
        served.append(ServedModel(spec.name, spec.name, threads=cfg.cloud_threads, custom=(spec.model_dump(),)))
        device_half = dict(onnx_path=str(head), tail_input=c.tensor, threads=cfg.edge_threads) if c.index else None
        payload = Payload("tensor", dict(x) if c.index else {c.tensor: next(iter(x.values()))})
        request = Request(spec.name, payload, device_half)
        routes |= {f"{c.index}/{name}": (nets[name], request) for name in where[c.index]}
    found = {}
    if routes:
        with Server(served) as server:
            found = emulation.emulate_routes(server.grpc_port, PROTOCOL, routes, cfg.requests, shared.seed)
    edge_whole = load_session(model, "ort", "fp32", cfg.edge_threads)
    for c in chosen:
        if c.all_edge:
            head_ms = measure_session(edge_whole, x, shared.timing).samples * 1e3
            totals = {name: head_ms for name in where[c.index]}
        else:
            totals = {name: found[f"{c.index}/{name}"] for name in where[c.index]}
        for name, total in totals.items():
            conf = Config(model=cfg.model, network=name, stage=str(c.index), scenario="split")
            rec.add(
                "split_measured_p50",
                float(np.median(total)),
                "ms",
                conf,
                n=cfg.requests,
                source=emulation.method(),
                note=c.label,
            )
            rec.add("split_measured_p90", float(np.percentile(total, 90)), "ms", conf, n=cfg.requests)
            rec.add("split_predicted_p90", float(np.percentile(predicted[(name, c.index)], 90)), "ms", conf, "modeled")


# 5-7. Published context, claims, summary


def published_context(rec: Recorder) -> None:
    """This machine's ResNet-50 int8 beside published ResNet-50 results on other hardware (each cited)."""
    rows01 = latest_here(CONCEPTS)
    here = query.select(rows01, "latency_p50", model="resnet50", runtime="ort", precision="int8", batch=1)
    if not here.empty:
        r = here.sort_values("threads").iloc[-1]
        rec.add(
            "published_context",
            r.value,
            "ms",
            Config(target="this machine", model="resnet50", threads=r.threads),
            note=f"ONNX Runtime int8, {r.threads} threads, batch 1 (p50)",
        )
        rec.add(
            "published_context",
            1000 / r.value,
            "samples/s",
            Config(target="this machine", model="resnet50", threads=r.threads),
            note="derived: 1000 ÷ that p50, one request at a time",
        )
    for key in PUBLISHED:
        f = sourced(key)
        rec.add(
            "published_context",
            float(f),
            f.unit,
            Config(target=key, model="resnet50"),
            "sourced",
            source=f.cite(),
            note=f.key,
        )


PUBLISHED = (
    "rpi5_resnet50_int8_4t",
    "orin_nx_resnet50_ss_p90",
    "t4_resnet50_ss_p90",
    "l4_resnet50_ss_p90",
    "t4_resnet50_offline",
    "l4_resnet50_offline",
    "mlperf_h100_resnet50_offline",
    "spr_4core_resnet50_int8",
)


def ledger(rec: Recorder) -> None:
    """Every claim's deciding figure and verdict, computed from this run's rows and the latest of 01–03."""
    rows, _ = rec.stored()
    found = evidence.evidence(rows, latest_here(CONCEPTS), latest_here(CLOUD_EDGE), latest_here(USE_CASES))
    for claim in claims.CLAIMS:
        v = claim.judge(found)
        rec.add(
            "claim",
            float(claim.number),
            "",
            Config(scenario=f"claim {claim.number}", stage=v.verdict),
            v.kind,
            note=v.figure,
        )

"""Notebook 03: use cases scored against deployment options, the recommendation and its binding constraints, flip
points, hardware what-ifs and outages. Local distributions come from notebooks 01 and 02 in the store."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from edgecloud import deploy as deployment
from edgecloud import notebooks
from edgecloud.decisions import choices, sensitivity
from edgecloud.decisions.costs import TransferPrices, energy_j, fallback_monthly
from edgecloud.decisions.devices import cited, resolve
from edgecloud.decisions.usecases import (
    Context,
    Score,
    ServerRun,
    WhatIf,
    describe_requirement,
    evaluate,
    latency_draws,
    recommend,
)
from edgecloud.experiments.concepts import measure_session
from edgecloud.models.zoo import get_model
from edgecloud.params import CloudTarget, Device, NetworkProfile, Shared, UseCase, UseCasesSection
from edgecloud.results import query, tables
from edgecloud.results.store import Config, MissingResults, Recorder, latest_here, read
from edgecloud.runtimes import load_session
from edgecloud.serving import ServedModel
from edgecloud.sources import sourced
from edgecloud.timing import from_samples, samples_for
from edgecloud.vocabulary import CLOUD_CPU, IN_PROCESS

NOTEBOOK = notebooks.of_experiment(__name__)
CLOUD_EDGE = "02-cloud-edge-measurements"
SWEEPS = {"rtt": (0.1, 10.0), "bandwidth": (0.1, 10.0), "volume": (0.01, 100.0)}
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)


def profiles(namespace: dict) -> dict[str, NetworkProfile]:
    """The network profiles notebook 03 borrows from the measurements section."""
    return {name: NetworkProfile(**p) for name, p in namespace["network_profiles"].items()}


def cloud_target(namespace: dict) -> CloudTarget:
    """The cloud target's configuration notebook 03 borrows from the measurements section (what was served)."""
    return CloudTarget(**namespace["cloud"])


def _precision(section: UseCasesSection, name: str) -> str:
    device = section.devices[name]
    return device.precision if "precision" in device.model_fields_set else section.precision


STATISTIC_Q = {"mean": 50.0, "p50": 50.0, "p90": 90.0, "p99": 99.0}  # the percentile a device factor reads


class LocalSamples(dict):
    """This machine's batch-1 samples (ONNX Runtime, most threads) by (model, precision): from notebook 01's run when
    it holds enough to trust the highest percentile a decision reads of that model (`tails`), or else measured here
    until it does, within timing.max_count. What is measured here is recorded in this run, and a later run of this
    notebook on the same notebook-01 run reads it again instead of measuring (a use case's edit reruns in seconds)."""

    def __init__(self, shared: Shared, rec: Recorder, tails: dict[str, float]):
        super().__init__()
        self.shared, self.rec, self.tails = shared, rec, tails
        self.stored = latest_here("01-inference-concepts", "samples")
        self.earlier = self._measured_here_since()

    def _measured_here_since(self) -> pd.DataFrame:
        """Samples this notebook's latest run recorded after the notebook-01 run that this one reads."""
        try:
            mine = latest_here(NOTEBOOK, "samples")
        except MissingResults:
            return self.stored.iloc[:0]
        return mine[mine.run_id > self.stored.run_id.max()]  # run ids begin with their start time

    def __missing__(self, key: tuple[str, str]) -> np.ndarray:
        model, precision = key
        timing, threads = self.shared.timing, max(self.shared.threads)
        needed = min(samples_for(self.tails.get(model, 50.0)), timing.max_count)  # the user's cap still holds
        cfg = Config(model=model, runtime="ort", precision=precision, threads=threads, batch=1, scenario="runtimes")
        found = query.samples_of(self.stored, cfg)
        if len(found) < needed and len(earlier := query.samples_of(self.earlier, cfg)) >= needed:
            found = earlier
            self.rec.latency(from_samples(found / 1e3, cfg, timing), source="notebook 03's previous run")
        elif len(found) < needed:
            zoo_model = get_model(model, self.shared.seed, self.shared.custom_models)
            session = load_session(zoo_model, "ort", precision, threads, self.shared.calibration_samples)
            longer = timing.model_copy(update={"min_count": needed})
            m = measure_session(session, session.model.inputs(1), longer, batch=1, scenario="runtimes")
            self.rec.latency(m)
            found = m.samples * 1e3
        self[key] = found
        return found


def local_samples(shared: Shared, section: UseCasesSection, rec: Recorder) -> LocalSamples:
    """The samples every option needs for every use case, looked up (or measured) up front: enough of each model's
    for the highest percentile a use case or a device factor reads of it."""
    tails: dict[str, float] = {}
    for case in section.cases.values():
        tails[case.model] = max(tails.get(case.model, 50.0), case.percentile)
    for device in section.devices.values():
        q = STATISTIC_Q[device.reference_statistic]
        tails[device.reference_model] = max(tails.get(device.reference_model, 50.0), q)
    samples = LocalSamples(shared, rec, tails)
    for case in section.cases.values():
        for device in section.devices:
            _ = samples[(case.model, _precision(section, device))]
    for name, device in section.devices.items():
        _ = samples[(device.reference_model, _precision(section, name))]
    return samples


def measured_elsewhere(rows: pd.DataFrame, device: Device, samples: LocalSamples, name: str) -> tuple[float, str]:
    """The factor of a device measured on another machine: its measured p50 for the model notebook 02 deployed
    there (edge target in-process, or the server's in-process work for 'cloud-cpu') ÷ this machine's p50 for the same
    model at the same precision."""
    theirs = rows[rows.machine == device.measured_machine]
    if theirs.empty:
        raise MissingResults(
            f"usecases.devices.{name}: no complete notebook-02 run of {device.measured_machine!r} under data/results/"
        )
    target = IN_PROCESS if device.measured_target == CLOUD_CPU else device.measured_target
    found = query.select(theirs, "latency_p50", target=target, batch=1)
    if found.empty:
        raise MissingResults(f"usecases.devices.{name}: {device.measured_machine!r} did not measure {target!r}")
    r = found.sort_values("value").iloc[0]
    ours = float(np.median(samples[(r.model, r.precision)]))
    return r.value / ours, (
        f"measured on {device.measured_machine} ({target}, {r.model} {r.precision}): {r.value:.3g} ms ÷ {ours:.3g} ms "
        "here; assumes the ratio carries over to the deployed model"
    )


FRAMING_NOTE = "the model's output plus the framing notebook 02's protocol added to its model's output"


def output_bytes(model: str, shared: Shared, rows01: pd.DataFrame) -> int:
    """A model's raw output for one sample: notebook 01's record, or one run of the model here."""
    found = query.select(rows01, "output_bytes", model=model) if len(rows01) else rows01
    if len(found):
        return int(found.value.iloc[0])
    zoo = get_model(model, shared.seed, shared.custom_models)
    return int(load_session(zoo, "ort", "fp32", 1, check_samples=1).run(zoo.inputs(1))[0].nbytes)


def response_bytes(
    shared: Shared, section: UseCasesSection, rows02: pd.DataFrame, choice: choices.PayloadChoice
) -> dict[str, float]:
    """Each use case's model's answer on the wire: its own output plus the protocol's framing, which notebook 02
    counted on the wire for its model (response bytes − that model's output bytes)."""
    try:
        rows01 = latest_here("01-inference-concepts")
    except MissingResults:
        rows01 = pd.DataFrame()
    measured_model = str(query.select(rows02, "latency_p50", target=CLOUD_CPU).model.iloc[0])
    framing = max(0, choice.down_bytes - output_bytes(measured_model, shared, rows01))
    models = {case.model for case in section.cases.values()}
    return {m: float(output_bytes(m, shared, rows01) + framing) for m in sorted(models)}


def served_samples(
    rows02: pd.DataFrame, samples02: pd.DataFrame, choice: choices.PayloadChoice
) -> dict[tuple[str, str], np.ndarray]:
    """Notebook 02's loopback samples (ms) of the server with the chosen payload and protocol, one request at a time,
    by (model, precision): the measured cloud option's time for that model, serving included."""
    row = query.select(
        rows02,
        "latency_p50",
        target=CLOUD_CPU,
        network="loopback",
        batch=1,
        protocol=choice.protocol,
        payload=choice.payload,
    ).iloc[0]
    found = query.samples_of(samples02, query.config_of(row))
    return {(row.model, row.precision): found} if len(found) else {}


def server_runs(rows02: pd.DataFrame, samples02: pd.DataFrame) -> list[ServerRun] | None:
    """The measured server's VALID LoadGen Server runs, each with its per-query latencies where notebook 02 kept them;
    None when it had no Server run."""
    lg = tables.loadgen(rows02)
    lg = lg[lg.target == CLOUD_CPU]
    if not (lg.scenario == "Server").any():
        return None
    ok = tables.valid_server_runs(lg)
    kept = samples02[(samples02.target == CLOUD_CPU) & (samples02.scenario == "loadgen-Server")]
    by_rate = {float(rate): group.latency_ms.to_numpy() for rate, group in kept.groupby("scale")}

    def latencies(rate: float) -> np.ndarray:
        return next((v for r, v in by_rate.items() if math.isclose(r, rate, rel_tol=1e-3)), np.empty(0))

    return [ServerRun(float(r), float(p), latencies(r)) for r, p in zip(ok.target_qps, ok.p99_ms, strict=True)]


def families(shared: Shared, section: UseCasesSection) -> dict[str, str]:
    """The family of every model a use case runs or a device's figure is for."""
    models = {c.model for c in section.cases.values()} | {d.reference_model for d in section.devices.values()}
    return {m: get_model(m, shared.seed, shared.custom_models).family for m in sorted(models)}


def transfer_prices(profile: NetworkProfile) -> TransferPrices:
    """USD/GB on a path: the profile's access price each way, cloud ingress and egress (sourced)."""
    return TransferPrices(
        cited(profile.usd_per_gb).value, float(sourced("aws_ingress_gb")), float(sourced("aws_egress_gb"))
    )


def build_context(shared: Shared, section: UseCasesSection, nets: dict[str, NetworkProfile], rec: Recorder) -> Context:
    """Options resolved with their factors, local samples, and the serving overhead and response size of notebook
    02's chosen payload; each recorded."""
    samples = local_samples(shared, section, rec)
    options = {}
    elsewhere = read(notebook=CLOUD_EDGE)
    for name, device in section.devices.items():
        precision = _precision(section, name)
        reference = samples[(device.reference_model, precision)]
        measured = measured_elsewhere(elsewhere, device, samples, name) if device.measured_machine else ()
        options[name] = option = resolve(name, device, section.precision, reference, measured)
        cfg = Config(target=name, model=device.reference_model, precision=option.precision)
        rec.add(
            "device_factor",
            option.factor,
            "×",
            cfg,
            "measured" if option.kind == "measured" else "modeled",
            note=option.factor_note,
            source=option.role,
        )
    rows02 = latest_here(CLOUD_EDGE)
    choice = choices.choose_payload(rows02, nets)
    samples02 = latest_here(CLOUD_EDGE, "samples")
    served = served_samples(rows02, samples02, choice)
    for (model, precision), found in served.items():
        rec.add(
            "served_samples_used",
            float(len(found)),
            "count",
            Config(
                target=CLOUD_CPU, model=model, precision=precision, protocol=choice.protocol, payload=choice.payload
            ),
            note="the measured cloud option's latency for this model: served on loopback, not in-process",
        )
    measured = query.value(rows02, "serving_overhead_p50", protocol=choice.protocol, payload=choice.payload)
    cloud = Config(target="cloud", protocol=choice.protocol, payload=choice.payload)
    rec.add(
        "serving_overhead_used",
        max(0.0, measured),
        "ms",
        cloud,
        note=f"measured {measured:+.3g} ms; below 0 counts as 0",
    )
    answers = response_bytes(shared, section, rows02, choice)
    for model, nbytes in answers.items():
        rec.add("response_bytes_used", nbytes, "bytes", cloud.with_(model=model), note=FRAMING_NOTE)
    prices = {name: transfer_prices(p) for name, p in nets.items()}
    conc = tables.concurrency(rows02)
    curve = list(zip(conc.throughput_rps, conc.p99_ms, strict=True))
    one = float(conc[(conc.concurrency == conc.concurrency.min()) & (conc.scenario == "unbatched")].p50_ms.iloc[0])
    for rate, p99 in curve:
        rec.add("cloud_curve", rate, "requests/s", Config(target="cloud", scale=p99), note="closed loop; scale = p99")
    runs, run_id = server_runs(rows02, samples02), str(rows02.run_id.iloc[0])
    return Context(
        options,
        samples,
        max(0.0, measured),
        answers,
        families(shared, section),
        served,
        nets,
        curve,
        one,
        prices,
        float(sourced("electricity_usd_kwh")),
        section.mc_draws,
        section.peak_to_mean,
        shared.timing.confidence,
        shared.seed,
        runs,
        f"notebook 02 run {run_id}",
        section.required_chance,
    )


def _config(name: str, s: Score, ctx: Context, section: UseCasesSection) -> Config:
    case = section.cases[name]
    return Config(
        scenario=name,
        target=s.option,
        model=case.model,
        precision=ctx.options[s.option].precision,
        network=case.network if s.role == "cloud" else "none",
    )


def score_all(ctx: Context, section: UseCasesSection, rec: Recorder) -> None:
    """Every use case on every option: latency at its percentile (with CI), each requirement's margin, the cost,
    and the recommendation with its reason."""
    for name, case in section.cases.items():
        scores = evaluate(ctx, name, case)
        about = Config(scenario=name, model=case.model, network=case.network)
        rec.add(
            "daily_volume", case.daily_volume, "inferences/day", about, "modeled", note=case.sources["daily_volume"]
        )
        rec.add(
            "latency_budget",
            case.latency_budget_ms or np.nan,
            "ms",
            about,
            "modeled",
            note=case.sources["latency_budget_ms"],
        )
        rec.add("availability", case.availability_pct, "%", about, "modeled", note=case.sensitivity)
        rec.add(
            "bytes_per_inference",
            case.bytes_per_inference,
            "bytes",
            about,
            "modeled",
            note=case.sources["bytes_per_inference"],
        )
        for s in scores:
            cfg = _config(name, s, ctx, section)
            kind = "measured" if s.kind == "measured" and s.role == "edge" else "modeled"
            rec.add(
                "latency_at_percentile",
                s.latency.value,
                "ms",
                cfg,
                kind,
                ci=(s.latency.low, s.latency.high),
                note=f"p{case.percentile:g}",
            )
            for r in s.requirements:
                rec.add("margin", r.margin, "fraction", cfg.with_(stage=r.name), kind, note=describe_requirement(r))
            rec.add("monthly_cost", s.cost.total, "USD/month", cfg, "modeled", note=s.cost.describe())
            rec.add(
                "usd_month_transfer",
                s.cost.parts["transfer"],
                "USD/month",
                cfg,
                "modeled",
                note=f"data starts on the {case.data_origin}; {case.network} path" if s.modeled else s.binding.detail,
            )
            p = s.chance
            rec.add(
                "feasible_probability",
                p.value,
                "fraction",
                cfg,
                "modeled",
                ci=None if p.low == p.high else (p.low, p.high),
                note="bootstrap over this machine's samples" if p.low != p.high else "every requirement pass or fail",
            )
            rec.add("capacity", s.capacity, "requests/s", cfg, s.capacity_kind, note=s.capacity_note)
            rec.add("instances", float(s.instances), "count", cfg, "modeled")
            rec.add("utilisation", s.utilisation, "fraction", cfg, "modeled")
            if not s.modeled:
                continue
            for part, v in s.cost_model.as_dict().items():
                rec.add("cost_model", v, "", cfg.with_(stage=part), "modeled")
            option = ctx.options[s.option]
            power = option.power
            if not np.isnan(power.value):
                rec.add(
                    "energy_per_inference",
                    energy_j(power.value, s.device_ms),
                    "J",
                    cfg,
                    "modeled",
                    note=f"{power.value:g} W ({power.cite}) × {s.device_ms:.3g} ms on the same device",
                    source=option.power_scope,
                )
        best = recommend(scores, ctx.required_chance)
        rec.add(
            "recommendation",
            float(best.option is not None),
            "",
            Config(scenario=name, target=best.option or "none", model=case.model),
            "modeled",
            note=best.reason,
            source=best.role or "",
        )


def _label(ctx: Context, name: str, case: UseCase, what: WhatIf) -> str:
    return recommend(evaluate(ctx, name, case, what, ci=False), ctx.required_chance).option or "none"


def sweeps(ctx: Context, section: UseCasesSection, rec: Recorder) -> None:
    """Per use case, the recommendation along RTT, bandwidth and daily-volume scales, and where it flips."""
    for name, case in section.cases.items():
        for param, (lo, hi) in SWEEPS.items():
            found, grid = sensitivity.flips(
                lambda x, p=param, n=name, c=case: _label(ctx, n, c, WhatIf(**{p: x})), lo, hi, section.sweep_points
            )
            for x, label in grid:
                rec.add("sweep", x, "scale", Config(scenario=name, stage=param, target=label, scale=x), "modeled")
            for f in found:
                rec.add(
                    "flip_point",
                    f.scale,
                    "scale",
                    Config(scenario=name, stage=param),
                    "modeled",
                    note=f"{f.before} → {f.after}",
                )


def what_ifs(ctx: Context, section: UseCasesSection, rec: Recorder) -> None:
    """Per use case, the recommended role as edge and cloud compute get faster or slower."""
    for name, case in section.cases.items():
        for edge in SPEEDS:
            for cloud in SPEEDS:
                scores = evaluate(ctx, name, case, WhatIf(edge_speed=edge, cloud_speed=cloud), ci=False)
                best = recommend(scores, ctx.required_chance)
                rec.add(
                    "what_if",
                    cloud,
                    "× cloud speed",
                    Config(scenario=name, stage="what-if", scale=edge, target=best.option or "none"),
                    "modeled",
                    note=best.role or "none",
                )


def outages(ctx: Context, section: UseCasesSection, rec: Recorder, days: int = 30) -> None:
    """Per use case, the share answered within budget through simulated outages: cloud only, edge only, and edge
    first with cloud fallback; each role's option is the recommended one when it has that role, else the one whose
    worst margin is best."""
    for name, case in section.cases.items():
        scores = evaluate(ctx, name, case, ci=False)
        chosen = recommend(scores, ctx.required_chance).option
        best = {
            role: next(
                (s for s in scores if s.option == chosen and s.role == role),
                max((s for s in scores if s.role == role and s.modeled), key=lambda s: s.binding.rank),
            )
            for role in ("edge", "cloud")
        }
        budget = case.latency_budget_ms or np.inf
        within = {
            role: float(np.mean(latency_draws(ctx, case, ctx.options[s.option], ctx.draws, WhatIf()) <= budget))
            for role, s in best.items()
        }
        capacity = next(r for r in best["edge"].requirements if r.name == "throughput")
        trace = sensitivity.connectivity_trace(case.availability_pct / 100, case.mean_outage_min, days * 1440, ctx.rng)
        device_up = ctx.options[best["edge"].option].availability
        share = capacity.value / capacity.bound
        shares = sensitivity.outage_shares(within["edge"], share, within["cloud"], trace, device_up)
        edge, cloud = best["edge"].cost_model, best["cloud"].cost_model
        sent = sensitivity.fallback_share(share, trace, device_up)
        monthly = {
            "cloud only": cloud.monthly(case.daily_volume).total,
            "edge only": edge.monthly(case.daily_volume).total,
            "edge first, cloud fallback": fallback_monthly(edge, cloud, case.daily_volume, sent).total,
        }
        note = (
            f"edge: {best['edge'].option} (works {device_up:.3%} of the time); cloud: {best['cloud'].option}; link up "
            f"{float(np.mean(trace)):.2%} of {days} simulated days; fallback sends {sent:.2%} to the cloud"
        )
        for strategy, share in shares.items():
            cfg = Config(scenario=name, target=strategy)
            rec.add("answered_within_budget", share, "fraction", cfg, "modeled", note=note)
            rec.add("strategy_usd_month", monthly[strategy], "USD/month", cfg, "modeled", note=note)


def deploy(shared: Shared, section: UseCasesSection, cloud: CloudTarget, rec: Recorder) -> pd.DataFrame:
    """Write outputs/deploy/<case>/ for each use case whose recommendation is a cloud option: the server notebook 02
    measured (its batching included) with this case's model, replicas from `instances`, memory from the measured
    server's peak RSS. Returns what was written, one row per case."""
    rows, _ = rec.stored()
    rows02 = latest_here(CLOUD_EDGE)
    memory = deployment.memory_request_mib(query.value(rows02, "rss_peak", target="server"))
    served_model = str(query.select(rows02, "latency_p50", target=CLOUD_CPU).model.iloc[0])
    found = []
    for r in query.select(rows, "recommendation").itertuples():
        if r.source != "cloud":
            continue
        device, case = section.devices[r.target], section.cases[r.scenario]
        served = ServedModel(
            case.model,
            case.model,
            runtime=cloud.runtime,
            precision=_precision(section, r.target),
            threads=cloud.threads,
            max_batch_size=cloud.max_batch_size,
            max_batch_time_ms=cloud.max_batch_time_ms,
            spin_wait=cloud.batched_spin_wait,
            seed=shared.seed,
            calibration_samples=shared.calibration_samples,
            custom=tuple(c.model_dump() for c in shared.custom_models if c.name == case.model),
        )
        here = device.measured_target == CLOUD_CPU
        where = "the server measured here" if here else f"{r.target}: modeled from its published figures"
        if device.accelerators:
            where += "; the image serves on the CPU (ONNX Runtime): put the accelerator's runtime in it"
        found.append(
            deployment.Deployment(
                case=r.scenario,
                option=r.target,
                kind="measured" if here else "modeled",
                served=served,
                replicas=int(query.value(rows, "instances", scenario=r.scenario, target=r.target)),
                cpu=cloud.threads,
                memory_mib=memory,
                accelerators=dict(device.accelerators),
                image=deployment.IMAGE,
                note=f"{where}; memory from the measured server's peak RSS serving {served_model}",
            )
        )
    deployment.write(found)
    return deployment.summary(found)

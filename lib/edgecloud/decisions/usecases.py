"""Scoring use cases against deployment options: each requirement pass or fail with its margin, the binding
constraint, and the feasible option with the lowest monthly cost among those sure enough of meeting every
requirement.

Latency comes from Monte Carlo draws of this machine's measured compute samples (scaled by the option's factor)
plus, for the cloud, the measured serving overhead and the network model's draws: never from means. At load it is
the queueing model's, except for the measured server, whose latency at its rate is LoadGen's own per-query latencies
in the VALID Server run at the next measured rate up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from edgecloud.decisions import queueing
from edgecloud.decisions.costs import (
    CostModel,
    Fleet,
    MonthlyCost,
    TransferPrices,
    cloud_model,
    edge_model,
    transfer_usd,
)
from edgecloud.decisions.devices import Option
from edgecloud.network.model import network_time_ms
from edgecloud.params import NetworkProfile, UseCase
from edgecloud.timing import Estimate, block_resample, bootstrap_interval, wilson

MC_RESAMPLES = 200  # moving-block resamples of this machine's samples behind a latency percentile's interval and chance
UNKNOWN = Estimate(float("nan"), float("nan"), float("nan"))
FAMILY = "model family"  # the requirement an option fails when its figures come from another model family


@dataclass(frozen=True)
class Requirement:
    """One requirement of a use case on one option: the value reached, the bound, and the relative margin."""

    name: str
    value: float
    bound: float
    margin: float
    unit: str
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.margin >= 0  # a margin that could not be computed (NaN) fails

    @property
    def rank(self) -> float:
        """The margin for ordering, a NaN one below every other."""
        return -math.inf if math.isnan(self.margin) else self.margin


@dataclass(frozen=True)
class Score:
    """A use case on an option: latency at its percentile, every requirement, and the monthly cost."""

    case: str
    option: str
    role: str
    kind: str
    latency: Estimate
    requirements: tuple[Requirement, ...]
    cost: MonthlyCost
    cost_model: CostModel
    device_ms: float  # median compute time per request on the option's own device
    capacity: float = float("nan")  # requests/s one device or instance sustains
    instances: int = 0  # devices per site, or cloud instances for the fleet
    capacity_note: str = ""
    chance: Estimate = UNKNOWN  # of meeting every requirement
    utilisation: float = float("nan")  # the peak arrival rate per device or instance over its service rate

    @property
    def capacity_kind(self) -> str:
        """Measured when a VALID LoadGen run of the server set the capacity; modeled otherwise."""
        return "measured" if self.capacity_note.startswith("measured:") else "modeled"

    @property
    def feasible(self) -> bool:
        return all(r.passed for r in self.requirements)

    @property
    def binding(self) -> Requirement:
        """The requirement with the worst margin."""
        return min(self.requirements, key=lambda r: r.rank)

    @property
    def modeled(self) -> bool:
        """False when the option's figures say nothing about the case's model family."""
        return not any(r.name == FAMILY for r in self.requirements)


@dataclass(frozen=True)
class ServerRun:
    """One VALID LoadGen Server run of the measured server: its target rate (per s), LoadGen's p99 (ms), and every
    query's latency (ms) from LoadGen's trace (empty when the run predates their recording)."""

    rate: float
    p99_ms: float
    latencies_ms: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass
class Context:
    """Everything scoring needs, measured or sourced once per run."""

    options: dict[str, Option]
    compute_ms: dict[tuple[str, str], np.ndarray]  # (model, precision) → this machine's batch-1 samples, ms
    overhead_ms: float  # serving overhead measured here, added to every cloud request
    response_bytes: dict[str, float]  # model → its answer's bytes on the wire (output plus the protocol's framing)
    families: dict[str, str]  # model → its family (device factors apply only within one)
    served_ms: dict[tuple[str, str], np.ndarray]  # (model, precision) → this machine's server on loopback, ms
    profiles: dict[str, NetworkProfile]
    cloud_curve: list[tuple[float, float]]  # closed-loop (throughput/s, p99 ms) of the measured server
    curve_request_ms: float  # one request's served p50 on that curve's configuration
    prices: dict[str, TransferPrices]  # network profile → USD/GB on that path
    usd_kwh: float
    draws: int = 4000
    peak_to_mean: float = 3.0
    confidence: float = 0.95
    seed: int = 0
    # the measured server's VALID LoadGen Server runs and the run they are from; None: no Server runs were made
    # (capacity and latency at load are then modeled)
    server_runs: list[ServerRun] | None = None
    server_runs_from: str = ""
    required_chance: float = 0.8  # a recommendation meets every requirement in at least this share of resamples
    rng: np.random.Generator = field(init=False)
    network_ms: dict[tuple, np.ndarray] = field(init=False, default_factory=dict)  # network draws, drawn once per path

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)


@dataclass(frozen=True)
class WhatIf:
    """Scales applied to the inputs, for sensitivity sweeps (1 = as measured and sourced)."""

    rtt: float = 1.0
    bandwidth: float = 1.0
    volume: float = 1.0
    edge_speed: float = 1.0  # >1: the edge computes that many times faster
    cloud_speed: float = 1.0


def on_served_path(ctx: Context, case: UseCase, option: Option) -> bool:
    """Whether the option is this machine's server and notebook 02 served the case's model at its precision."""
    return option.served and (case.model, option.precision) in ctx.served_ms


def service_samples(ctx: Context, case: UseCase, option: Option) -> np.ndarray:
    """This machine's samples (ms) that the option's time is drawn from: the served path's own where this machine's
    server was measured with the case's model, else in-process (scaled by the option's factor when drawn)."""
    key = (case.model, option.precision)
    return ctx.served_ms[key] if on_served_path(ctx, case, option) else ctx.compute_ms[key]


def scale(option: Option, what: WhatIf) -> float:
    """What the option's device, and the what-if's speed for its role, make of this machine's times."""
    return option.factor / (what.edge_speed if option.role == "edge" else what.cloud_speed)


def compute_draws(ctx: Context, case: UseCase, option: Option, n: int, what: WhatIf) -> np.ndarray:
    """Draws of the option's time per request for the case's model (ms)."""
    return ctx.rng.choice(service_samples(ctx, case, option), n) * scale(option, what)


def latency_draws(ctx: Context, case: UseCase, option: Option, n: int, what: WhatIf) -> np.ndarray:
    """Draws of end-to-end latency: compute, plus serving overhead and network time for the cloud."""
    compute = compute_draws(ctx, case, option, n, what)
    return compute + network_draws(ctx, case, option, n, what)


def network_draws(ctx: Context, case: UseCase, option: Option, n: int, what: WhatIf) -> np.ndarray:
    """Draws of what a request adds to compute: serving overhead and network time in the cloud, nothing on the edge."""
    if option.role == "edge":
        return np.zeros(n)
    profile = ctx.profiles[case.network]
    profile = profile.model_copy(
        update={
            "rtt_ms": profile.rtt_ms * what.rtt,
            "bandwidth_mbps": profile.bandwidth_mbps * what.bandwidth,
            "downlink_mbps": profile.down_mbps * what.bandwidth,
        }
    )
    overhead = 0.0 if on_served_path(ctx, case, option) else ctx.overhead_ms  # served samples include it
    up, down = case.bytes_per_inference, ctx.response_bytes[case.model]
    key = (profile.model_dump_json(), up, down, n)
    if key not in ctx.network_ms:  # the same path and bytes get the same draws: common random numbers across options
        ctx.network_ms[key] = network_time_ms(profile, up, down, n, ctx.rng)
        ctx.network_ms[key].flags.writeable = False
    return overhead + ctx.network_ms[key]


def resampled_percentiles(
    ctx: Context, case: UseCase, option: Option, local: np.ndarray, rest: np.ndarray, what: WhatIf
) -> np.ndarray:
    """The case's latency percentile in each moving-block bootstrap resample of this machine's measured samples
    `local` (a time series: neighbours share the machine's state) plus a resample of the other draws `rest` (network,
    queueing): how far the percentile moves with the measurement and with the Monte Carlo draws together."""
    out = np.empty(MC_RESAMPLES)
    for i, resample in enumerate(block_resample(local, ctx.rng, MC_RESAMPLES)):
        boot = ctx.rng.choice(resample, len(rest)) * scale(option, what)
        out[i] = np.percentile(boot + ctx.rng.choice(rest, len(rest)), case.percentile)
    return out


def feasible_chance(percentiles: np.ndarray, budget_ms: float, confidence: float) -> Estimate:
    """The chance the latency requirement holds: the share of resampled percentiles (`resampled_percentiles`) within
    the budget, with a Wilson interval."""
    return wilson(int(np.sum(percentiles <= budget_ms)), len(percentiles), confidence)


def server_parallelism(ctx: Context, budget_ms: float | None) -> float:
    """How many single requests' worth the measured server sustains: the highest closed-loop throughput whose p99
    meets the budget × one request's p50 (at least 1: one request at a time always fits)."""
    rates = [rate for rate, p99 in ctx.cloud_curve if budget_ms is None or p99 <= budget_ms]
    return max(1.0, max(rates, default=0.0) * ctx.curve_request_ms / 1000)


def measured_capacity(ctx: Context, q: float, budget_ms: float | None, rest: np.ndarray) -> tuple[float, str]:
    """The measured server's capacity for a case: the highest VALID LoadGen Server rate whose p99 leaves the network
    its share of the budget (the network's q-th percentile), and the run that says so; 0 when none does."""
    network = float(np.percentile(rest, q))
    room = math.inf if budget_ms is None else budget_ms - network
    ok = [(run.rate, run.p99_ms) for run in ctx.server_runs or [] if run.p99_ms <= room]
    if room <= 0:
        return 0.0, f"measured: the network's p{q:g} alone ({network:.3g} ms) exceeds the budget; no server rate fits"
    if not ok:
        return 0.0, (
            f"measured: no VALID LoadGen Server run of the server has its p99 within {room:.3g} ms (the budget less "
            f"the network's p{q:g}; {len(ctx.server_runs or [])} VALID runs in {ctx.server_runs_from})"
        )
    rate, p99 = max(ok)
    within = "no budget" if budget_ms is None else f"≤ {room:.3g} ms, the budget less the network's p{q:g}"
    return rate, f"measured: LoadGen Server at {rate:.3g}/s, VALID, p99 {p99:.3g} ms ({within}), {ctx.server_runs_from}"


def loaded_run(ctx: Context, rate: float) -> ServerRun | None:
    """The VALID Server run, with its per-query latencies, of the lowest measured rate at or above `rate` (latency
    grows with load, so the next rate up errs on the safe side); None when no run reaches it."""
    above = [run for run in ctx.server_runs or [] if run.rate >= rate and len(run.latencies_ms)]
    return min(above, key=lambda run: run.rate, default=None)


def not_modeled(name: str, case: UseCase, option: Option, family: str) -> Score:
    """An option whose figures come from another model family: no latency, cost or verdict is extrapolated."""
    why = f"not modeled for this family: {option.reference_model}'s figures say nothing about {case.model} ({family})"
    nan = float("nan")
    return Score(
        name,
        option.name,
        option.role,
        option.kind,
        Estimate(nan, nan, nan),
        (Requirement(FAMILY, nan, nan, nan, "", why),),
        MonthlyCost(nan, {"transfer": nan}),
        CostModel(),
        nan,
    )


def published_capacity(ctx: Context, case: UseCase, option: Option) -> float:
    """Requests/s one device or instance sustains for the case's model: the published throughput of the reference
    model scaled by this machine's time ratio of the two models (same family)."""
    local = float(np.median(ctx.compute_ms[(case.model, option.precision)]))
    return option.reference_rps * option.reference_local_ms / local


def score(ctx: Context, name: str, case: UseCase, option: Option, what: WhatIf = WhatIf(), ci: bool = True) -> Score:
    """Every requirement of a case on an option, with margins relative to the bound, and the monthly cost."""
    family = ctx.families[case.model]
    if not option.covers(family, ctx.families):
        return not_modeled(name, case, option, family)
    n = ctx.draws  # sweeps too: fewer draws make feasibility flicker near a zero margin
    compute = compute_draws(ctx, case, option, n, what)
    rest = network_draws(ctx, case, option, n, what)
    q, budget, cloud = case.percentile, case.latency_budget_ms, option.role == "cloud"
    timed = not np.isnan(option.factor)
    published = option.reference_rps is not None  # a published rate and its latency are at full load already
    servers = max(1, round(server_parallelism(ctx, budget))) if cloud and not published else 1
    full_rate = published_capacity(ctx, case, option) if published else servers * 1000.0 / float(np.mean(compute))
    # a request's time on the device; with only a throughput figure, its share of the device at full load
    device_ms = float(np.median(compute)) if timed else 1000.0 / full_rate
    queued = timed and not published
    capacity = queueing.capacity_within(compute, rest, servers, q, budget, ctx.rng) if queued else full_rate
    from_loadgen = cloud and ctx.server_runs is not None and on_served_path(ctx, case, option)
    if from_loadgen:
        capacity, loadgen_note = measured_capacity(ctx, q, budget, rest)
    volume = case.daily_volume * what.volume
    peak_total = max(case.peak_rps, volume / 86400 * ctx.peak_to_mean)  # the fleet shares the cloud instances
    transfer = transfer_usd(
        option.role,
        case.data_origin,
        case.bytes_per_inference,
        ctx.response_bytes[case.model],
        ctx.prices[case.network],
    )
    if cloud:  # instances sized so each meets the budget at its share of the peak (or flat out when none can)
        sizing = capacity if capacity > 0 else full_rate
        model = cloud_model(option.hourly.value, option.multiplier, sizing, transfer, case.peak_rps, ctx.peak_to_mean)
        instances = model.instances(volume)
        rate = peak_total / instances
    else:
        instances, rate = 1, case.peak_rps
    utilisation = rate / full_rate
    run = loaded_run(ctx, rate) if from_loadgen else None
    local = service_samples(ctx, case, option) if run is None else run.latencies_ms
    if run is not None:  # measured at load: LoadGen's per-query latencies, serving included, plus the network
        compute = ctx.rng.choice(local, n) * scale(option, what)
        draws = compute + rest
    else:
        draws = queueing.latency_at(compute, rest, rate, servers, ctx.rng) if queued else compute + rest
    finite = bool(np.isfinite(draws).all())  # a saturated queue's waits are infinite: no interpolating between them
    point = float(np.percentile(draws, q, method="linear" if finite else "higher"))
    # the interval, and the chance of meeting the budget, from resampling this machine's samples (the same resamples)
    spread = resampled_percentiles(ctx, case, option, local, draws - compute, what) if ci and timed and finite else None
    latency = Estimate(point, point, point) if spread is None else bootstrap_interval(point, spread, ctx.confidence)
    reqs = []
    if budget is not None:
        detail = (
            f"p{q:g} at {rate:.3g}/s: LoadGen's VALID Server run at {run.rate:.3g}/s, plus the network"
            if run is not None
            else f"p{q:g} at {utilisation:.0%} utilisation"
            if timed
            else "not modeled: only a throughput figure is published"
        )
        reqs.append(Requirement("latency", latency.value, budget, (budget - latency.value) / budget, "ms", detail))
        within = float(np.mean(draws <= budget)) if timed else float("nan")
    else:
        within = 1.0
    if cloud:
        how = (
            "published rate"
            if published
            else "a VALID LoadGen Server run"
            if from_loadgen
            else f"{servers} at a time, within the budget at load"
        )
        reqs.append(
            Requirement(
                "throughput",
                instances * capacity,
                peak_total,
                instances * capacity / peak_total - 1,
                "requests/s",
                f"{instances} instances of {capacity:.3g}/s ({how})",
            )
        )
    else:
        how = "per device, within the budget at load" if queued else "per device"
        reqs.append(Requirement("throughput", capacity, case.peak_rps, capacity / case.peak_rps - 1, "requests/s", how))
        fleet = Fleet(
            case.fleet_size,
            option.price.value * option.multiplier,
            option.life_months,
            option.maintenance_usd_month,
            option.power.value,
            option.idle_power.value,
        )
        model = edge_model(fleet, device_ms, ctx.usd_kwh, transfer)
    cost = model.monthly(volume)
    leaves = case.bytes_per_inference * volume * 30.4 if cloud else 0.0
    private = not (cloud and case.sensitivity == "regulated")
    reqs.append(
        Requirement(
            "privacy",
            leaves,
            0.0 if case.sensitivity == "regulated" else math.inf,
            1.0 if private else -1.0,
            "bytes/month leave the device",
            "raw inputs stay on the device" if not cloud else "raw inputs go to the cloud",
        )
    )
    if cloud:  # the edge needs no network: its budget is the latency requirement alone
        share, required = within * case.availability_pct / 100, q / 100
        reqs.append(
            Requirement("connectivity", share, required, (share - required) / required, "share answered within budget")
        )
    how = (
        loadgen_note
        if from_loadgen
        else "published throughput, scaled by this machine's time ratio to the reference model"
        if not queued
        else f"modeled: the highest rate whose p{q:g} meets the budget in an M/G/{servers} queue"
        + (" (no budget: the service rate)" if budget is None else "")
    )
    others = all(r.passed for r in reqs if r.name != "latency")
    chance = (
        feasible_chance(spread, budget, ctx.confidence)
        if spread is not None and budget is not None and others
        else Estimate(*[float(others and all(r.passed for r in reqs))] * 3)
    )
    return Score(
        name,
        option.name,
        option.role,
        option.kind if not cloud else "modeled",  # a cloud option's latency includes the modeled network
        latency,
        tuple(reqs),
        cost,
        model,
        device_ms,
        capacity,
        instances,
        how,
        chance,
        utilisation,
    )


def evaluate(ctx: Context, name: str, case: UseCase, what: WhatIf = WhatIf(), ci: bool = True) -> list[Score]:
    """The case on every option; without intervals, with the same random draws every call (so sweeps are smooth)."""
    if not ci:
        ctx.rng = np.random.default_rng(ctx.seed)
    return [score(ctx, name, case, option, what, ci) for option in ctx.options.values()]


@dataclass(frozen=True)
class Recommendation:
    """The chosen option, or none with the nearest miss; the reason is rendered from the scores."""

    case: str
    option: str | None
    role: str | None
    reason: str


def recommend(scores: list[Score], required_chance: float) -> Recommendation:
    """The cheapest feasible option that meets every requirement in at least `required_chance` of the resamples;
    when no feasible option is that sure, the cheapest feasible one, called uncertain; when none is feasible, the
    nearest miss."""
    case = scores[0].case
    feasible = sorted((s for s in scores if s.feasible), key=lambda s: s.cost.total)
    if not feasible:
        nearest = max(scores, key=lambda s: s.binding.rank)
        b = nearest.binding
        return Recommendation(
            case,
            None,
            None,
            f"no option meets every requirement; the nearest miss is **{nearest.option}**, whose {b.name} misses "
            f"its bound by {-b.margin:.0%} ({describe_requirement(b)})",
        )
    sure = [s for s in feasible if s.chance.value >= required_chance]
    pool = sure or feasible
    best = pool[0]
    passed_over = [s for s in feasible if s.cost.total < best.cost.total]
    noise = uncertainty(best) + (
        "" if sure else f"no feasible option meets every requirement in {required_chance:.0%} of resamples; "
    )
    how = (
        f"is the cheapest option that meets every requirement in at least {required_chance:.0%} of resamples"
        if passed_over
        else "meets every requirement at the lowest monthly cost"
    )
    runner = (
        ", the only feasible option"
        if len(feasible) == 1
        else f", against ${pool[1].cost.total:,.0f} for {pool[1].option}"
        if len(pool) > 1
        else ""
    )
    cheaper = "".join(
        f"; {s.option} costs less (${s.cost.total:,.0f}) but meets them in only {s.chance.value:.0%}"
        for s in passed_over
    )
    b = best.binding
    return Recommendation(
        case,
        best.option,
        best.role,
        noise + f"**{best.option}** ({best.role}, {best.kind}) {how}, ${best.cost.total:,.0f} "
        f"({best.cost.describe()}){runner}; its tightest requirement is {b.name} "
        f"(margin {b.margin:+.0%}, {describe_requirement(b)}){cheaper}",
    )


def uncertainty(s: Score) -> str:
    """'uncertain: …' when the binding latency margin's interval (from resampling this machine's samples) straddles
    zero, so the verdict is inside the measurement's noise; with the chance of meeting every requirement."""
    b = s.binding
    if b.name != "latency" or math.isnan(s.latency.low):
        return ""
    low, high = (b.bound - s.latency.high) / b.bound, (b.bound - s.latency.low) / b.bound
    if low >= 0:
        return ""
    chance = f", met in {s.chance.value:.0%} of resamples" if s.chance.low < s.chance.high else ""
    return f"uncertain: latency margin {b.margin:+.0%} ({low:+.0%} to {high:+.0%}{chance}); "


def describe_requirement(r: Requirement) -> str:
    if math.isnan(r.value):
        return r.detail
    if r.name == "latency":
        return f"{r.detail} {r.value:.3g} ms against {r.bound:g} ms"
    if r.name == "throughput":
        return f"{r.value:.3g} against {r.bound:.3g} {r.unit}, {r.detail}"
    if r.name == "privacy":
        return r.detail
    return f"{r.value:.2%} of requests within budget against {r.bound:.2%}"

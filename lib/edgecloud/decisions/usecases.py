"""Scoring use cases against deployment options: each requirement pass or fail with its margin, the binding
constraint, and the feasible option with the lowest monthly cost.

Latency comes from Monte Carlo draws of this machine's measured compute samples (scaled by the option's factor)
plus, for the cloud, the measured serving overhead and the network model's draws: never from means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

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
from edgecloud.timing import Estimate, percentile

MC_RESAMPLES = 200  # bootstrap resamples of a percentile of Monte Carlo draws (thousands of independent draws)


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
        return self.margin >= 0


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

    @property
    def feasible(self) -> bool:
        return all(r.passed for r in self.requirements)

    @property
    def binding(self) -> Requirement:
        """The requirement with the worst margin."""
        return min(self.requirements, key=lambda r: r.margin)


@dataclass
class Context:
    """Everything scoring needs, measured or sourced once per run."""

    options: dict[str, Option]
    compute_ms: dict[tuple[str, str], np.ndarray]  # (model, precision) → this machine's batch-1 samples, ms
    overhead_ms: float  # serving overhead measured here, added to every cloud request
    response_bytes: dict[str, float]  # model → its answer's bytes on the wire (output plus the protocol's framing)
    profiles: dict[str, NetworkProfile]
    cloud_curve: list[tuple[float, float]]  # closed-loop (throughput/s, p99 ms) of the measured server
    curve_request_ms: float  # one request's served p50 on that curve's configuration
    prices: dict[str, TransferPrices]  # network profile → USD/GB on that path
    usd_kwh: float
    draws: int = 4000
    peak_to_mean: float = 3.0
    confidence: float = 0.95
    seed: int = 0
    rng: np.random.Generator = field(init=False)

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


def compute_draws(ctx: Context, case: UseCase, option: Option, n: int, what: WhatIf) -> np.ndarray:
    """Draws of the option's compute time for the case's model (ms)."""
    local = ctx.compute_ms[(case.model, option.precision)]
    speed = what.edge_speed if option.role == "edge" else what.cloud_speed
    return ctx.rng.choice(local, n) * option.factor / speed


def latency_draws(ctx: Context, case: UseCase, option: Option, n: int, what: WhatIf) -> np.ndarray:
    """Draws of end-to-end latency: compute, plus serving overhead and network time for the cloud."""
    compute = compute_draws(ctx, case, option, n, what)
    if option.role == "edge":
        return compute
    profile = ctx.profiles[case.network]
    profile = profile.model_copy(
        update={
            "rtt_ms": profile.rtt_ms * what.rtt,
            "bandwidth_mbps": profile.bandwidth_mbps * what.bandwidth,
            "downlink_mbps": profile.down_mbps * what.bandwidth,
        }
    )
    return (
        compute
        + ctx.overhead_ms
        + network_time_ms(profile, case.bytes_per_inference, ctx.response_bytes[case.model], n, ctx.rng)
    )


def server_parallelism(ctx: Context, budget_ms: float | None) -> float:
    """How many single requests' worth the measured server sustains: the highest closed-loop throughput whose p99
    meets the budget × one request's p50 (at least 1: one request at a time always fits)."""
    rates = [rate for rate, p99 in ctx.cloud_curve if budget_ms is None or p99 <= budget_ms]
    return max(1.0, max(rates, default=0.0) * ctx.curve_request_ms / 1000)


def score(ctx: Context, name: str, case: UseCase, option: Option, what: WhatIf = WhatIf(), ci: bool = True) -> Score:
    """Every requirement of a case on an option, with margins relative to the bound, and the monthly cost."""
    n = ctx.draws  # sweeps too: fewer draws make feasibility flicker near a zero margin
    draws = latency_draws(ctx, case, option, n, what)
    q = case.percentile
    latency = (
        percentile(draws, q, ctx.confidence, MC_RESAMPLES, ctx.rng, independent=True)
        if ci
        else Estimate(*[np.percentile(draws, q)] * 3)
    )
    cloud = option.role == "cloud"
    reqs = []
    if case.latency_budget_ms is not None:
        budget = case.latency_budget_ms
        reqs.append(Requirement("latency", latency.value, budget, (budget - latency.value) / budget, "ms", f"p{q:g}"))
        within = float(np.mean(draws <= budget))
    else:
        within = 1.0
    device_ms = float(np.median(compute_draws(ctx, case, option, 501, what)))
    capacity = 1000.0 / device_ms  # one request at a time per device or instance
    volume = case.daily_volume * what.volume
    peak_total = max(case.peak_rps, volume / 86400 * ctx.peak_to_mean)  # the fleet shares the cloud instances
    transfer = transfer_usd(
        option.role,
        case.data_origin,
        case.bytes_per_inference,
        ctx.response_bytes[case.model],
        ctx.prices[case.network],
    )
    if cloud:
        parallel = server_parallelism(ctx, case.latency_budget_ms)
        capacity *= parallel
        model = cloud_model(option.hourly.value, option.multiplier, capacity, transfer, case.peak_rps, ctx.peak_to_mean)
        instances = model.instances(volume)
        reqs.append(
            Requirement(
                "throughput",
                instances * capacity,
                peak_total,
                instances * capacity / peak_total - 1,
                "requests/s",
                f"{instances} instances of {capacity:.3g}/s (closed-loop curve ×{parallel:.2f})",
            )
        )
    else:
        reqs.append(
            Requirement("throughput", capacity, case.peak_rps, capacity / case.peak_rps - 1, "requests/s", "per device")
        )
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
    return Score(name, option.name, option.role, option.kind, latency, tuple(reqs), cost, model, device_ms)


def evaluate(ctx: Context, name: str, case: UseCase, what: WhatIf = WhatIf(), ci: bool = True) -> list[Score]:
    """The case on every option; without intervals, with the same random draws every call (so sweeps are smooth)."""
    if not ci:
        ctx.rng = np.random.default_rng(ctx.seed)
    return [score(ctx, name, case, option, what, ci) for option in ctx.options.values()]


@dataclass(frozen=True)
class Recommendation:
    """The cheapest feasible option, or none with the nearest miss; the reason is rendered from the scores."""

    case: str
    option: str | None
    role: str | None
    reason: str


def recommend(scores: list[Score]) -> Recommendation:
    """The feasible option with the lowest monthly cost; when none is feasible, the nearest miss."""
    case = scores[0].case
    feasible = sorted((s for s in scores if s.feasible), key=lambda s: s.cost.total)
    if not feasible:
        nearest = max(scores, key=lambda s: s.binding.margin)
        b = nearest.binding
        return Recommendation(
            case,
            None,
            None,
            f"no option meets every requirement; the nearest miss is **{nearest.option}**, whose {b.name} misses "
            f"its bound by {-b.margin:.0%} ({describe_requirement(b)})",
        )
    best = feasible[0]
    runner = (
        f", against ${feasible[1].cost.total:,.0f} for {feasible[1].option}"
        if len(feasible) > 1
        else ", the only feasible option"
    )
    b = best.binding
    return Recommendation(
        case,
        best.option,
        best.role,
        f"**{best.option}** ({best.role}, {best.kind}) meets every requirement at the lowest monthly cost, "
        f"${best.cost.total:,.0f} ({best.cost.describe()}){runner}; its tightest requirement is {b.name} "
        f"(margin {b.margin:+.0%}, {describe_requirement(b)})",
    )


def describe_requirement(r: Requirement) -> str:
    if r.name == "latency":
        return f"{r.detail} {r.value:.3g} ms against {r.bound:g} ms"
    if r.name == "throughput":
        return f"{r.value:.3g} against {r.bound:.3g} {r.unit}, {r.detail}"
    if r.name == "privacy":
        return r.detail
    return f"{r.value:.2%} of requests within budget against {r.bound:.2%}"

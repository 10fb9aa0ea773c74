"""What an option costs: per month for a use case (cloud instances and egress, or edge devices, energy and upkeep),
per million inferences, and over time (TCO with the break-even month)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = 30.4


@dataclass(frozen=True)
class MonthlyCost:
    """Monthly USD with its parts, for tables and for the reason a recommendation gives."""

    total: float
    parts: dict[str, float]

    def describe(self) -> str:
        return ", ".join(f"{k} ${v:,.0f}" for k, v in self.parts.items() if v)


def cloud_instances(peak_rps_total: float, capacity_rps: float) -> int:
    """Instances needed so that their capacity covers the fleet's peak rate."""
    return max(1, math.ceil(peak_rps_total / capacity_rps))


def energy_j(power_w: float, latency_ms: float) -> float:
    """One device's power × that same device's time per inference, in joules."""
    return power_w * latency_ms / 1e3


@dataclass(frozen=True)
class CostModel:
    """How one option's cost grows with volume and time, so TCO and sensitivities need no re-scoring.

    Cloud: instances sized to the peak rate, each `instance_usd_month`, plus egress per inference. Edge: devices
    bought up front and replaced every `life_months`, upkeep per month, and energy per inference."""

    upfront_usd: float = 0.0  # edge devices, bought again at the end of each life
    life_months: int = 36
    fixed_usd_month: float = 0.0  # edge upkeep
    usd_per_inference: float = 0.0  # cloud egress, or edge energy
    instance_usd_month: float = 0.0  # cloud: one instance around the clock
    capacity_rps: float = math.inf  # cloud: one instance's sustained rate within the budget
    peak_rps: float = 0.0  # the case's peak rate (a floor on the fleet's peak)
    peak_to_mean: float = 3.0

    def instances(self, daily_volume: float) -> int:
        if not self.instance_usd_month:
            return 0
        return cloud_instances(max(self.peak_rps, daily_volume / 86400 * self.peak_to_mean), self.capacity_rps)

    def running(self, daily_volume: float) -> MonthlyCost:
        """Monthly cost without the devices: instances, egress or energy, upkeep."""
        instances = self.instances(daily_volume) * self.instance_usd_month
        per_use = self.usd_per_inference * daily_volume * DAYS_PER_MONTH
        if self.instance_usd_month:
            return MonthlyCost(instances + per_use, {"instances": instances, "egress": per_use})
        return MonthlyCost(self.fixed_usd_month + per_use, {"upkeep": self.fixed_usd_month, "energy": per_use})

    def monthly(self, daily_volume: float) -> MonthlyCost:
        """Monthly cost with devices amortised over their life (the figure use cases are ranked by)."""
        run = self.running(daily_volume)
        if not self.upfront_usd:
            return run
        devices = self.upfront_usd / self.life_months
        return MonthlyCost(run.total + devices, {"devices": devices, **run.parts})

    def tco(self, months: np.ndarray, daily_volume: float) -> np.ndarray:
        """Cumulative USD at the end of each month: devices paid when bought (again after each life) plus running."""
        months = np.asarray(months, float)
        purchases = np.ceil(np.maximum(months, 1e-9) / self.life_months) if self.upfront_usd else 0 * months
        return purchases * self.upfront_usd + months * self.running(daily_volume).total

    def per_million(self, daily_volume: float) -> float:
        """USD per million inferences at this volume, devices amortised."""
        return self.monthly(daily_volume).total / (daily_volume * DAYS_PER_MONTH) * 1e6

    def scaled(self, price: float = 1.0, life: float = 1.0) -> CostModel:
        """The same option with its device price or instance price × price, and its device life × life."""
        return replace(
            self,
            upfront_usd=self.upfront_usd * price,
            instance_usd_month=self.instance_usd_month * price,
            life_months=max(1, round(self.life_months * life)),
        )

    def as_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


def cloud_model(
    hourly_usd: float,
    units: float,
    capacity_rps: float,
    egress_usd_gb: float,
    response_bytes: float,
    peak_rps: float,
    peak_to_mean: float,
) -> CostModel:
    """Instances of `units` × $/h around the clock, sized to the peak, plus egress of every response."""
    return CostModel(
        instance_usd_month=units * hourly_usd * HOURS_PER_MONTH,
        capacity_rps=capacity_rps,
        usd_per_inference=response_bytes / 1e9 * egress_usd_gb,
        peak_rps=peak_rps,
        peak_to_mean=peak_to_mean,
    )


def edge_model(
    price_usd: float,
    units: float,
    life_months: int,
    maintenance_usd_month: float,
    fleet: int,
    power_w: float,
    latency_ms: float,
    usd_kwh: float,
) -> CostModel:
    """A fleet of devices bought up front, their upkeep, and the energy of every inference on that same device."""
    return CostModel(
        upfront_usd=fleet * units * price_usd,
        life_months=life_months,
        fixed_usd_month=fleet * maintenance_usd_month,
        usd_per_inference=energy_j(power_w, latency_ms) / 3.6e6 * usd_kwh,
    )


def fallback_monthly(edge: CostModel, cloud: CostModel, daily_volume: float, cloud_share: float) -> MonthlyCost:
    """Edge first with cloud fallback: the whole edge fleet, its energy for the requests it answers, and cloud
    instances (sized to the overflow's peak) and egress only for the share it sends on; no cloud when none is."""
    local = edge.monthly(daily_volume * (1 - cloud_share))
    if cloud_share <= 0:
        return MonthlyCost(local.total, {"edge": local.total})
    overflow = replace(cloud, peak_rps=cloud.peak_rps * cloud_share).monthly(daily_volume * cloud_share)
    return MonthlyCost(local.total + overflow.total, {"edge": local.total, "cloud": overflow.total})


def break_even_month(edge: CostModel, cloud: CostModel, daily_volume: float, horizon: int) -> float | None:
    """The first month (fractional) at which the edge's cumulative cost falls to the cloud's and stays there within
    the horizon; 0 when the edge is never dearer, None when it never catches up."""
    months = np.linspace(0, horizon, horizon * 30 + 1)
    gap = edge.tco(months, daily_volume) - cloud.tco(months, daily_volume)
    if gap[-1] > 0:
        return None
    above = np.nonzero(gap > 0)[0]
    return 0.0 if not len(above) else float(months[min(above[-1] + 1, len(months) - 1)])

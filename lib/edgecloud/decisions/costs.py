"""What an option costs: per month for a use case (cloud instances, or edge devices with their upkeep, idle power and
energy, and on both sides the fees for moving data), per million inferences, and over time (TCO with the break-even
month)."""

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
class TransferPrices:
    """USD per GB on a use case's path: the device's access network (each way), and the cloud's ingress and egress
    (egress to the internet, which object storage pays too)."""

    access: float
    ingress: float
    egress: float


def transfer_usd(role: str, data_origin: str, input_bytes: float, answer_bytes: float, p: TransferPrices) -> float:
    """Fees for one inference's data: nothing when it runs where its data is; otherwise the input crosses to the
    option and the answer back, each paying the access network, plus ingress into the cloud or egress out of it."""
    if (role == "cloud") == (data_origin == "cloud"):
        return 0.0
    into_cloud, out_of_cloud = (input_bytes, answer_bytes) if role == "cloud" else (answer_bytes, input_bytes)
    return (into_cloud * (p.access + p.ingress) + out_of_cloud * (p.access + p.egress)) / 1e9


@dataclass(frozen=True)
class CostModel:
    """How one option's cost grows with volume and time, so TCO and sensitivities need no re-scoring.

    Cloud: instances sized to the peak rate, each `instance_usd_month`. Edge: devices bought up front and replaced
    every `life_months`, upkeep and idle power per month, and active energy per inference. Both: transfer fees per
    inference."""

    upfront_usd: float = 0.0  # edge devices, bought again at the end of each life
    life_months: int = 36
    fixed_usd_month: float = 0.0  # edge upkeep
    idle_usd_month: float = 0.0  # edge: the fleet's idle power around the clock
    usd_per_inference: float = 0.0  # edge: energy above idle
    transfer_usd_per_inference: float = 0.0  # moving the input and the answer between device and cloud
    instance_usd_month: float = 0.0  # cloud: one instance around the clock
    capacity_rps: float = math.inf  # cloud: one instance's sustained rate within the budget
    peak_rps: float = 0.0  # the case's peak rate (a floor on the fleet's peak)
    peak_to_mean: float = 3.0

    def instances(self, daily_volume: float) -> int:
        if not self.instance_usd_month:
            return 0
        return cloud_instances(max(self.peak_rps, daily_volume / 86400 * self.peak_to_mean), self.capacity_rps)

    def running(self, daily_volume: float) -> MonthlyCost:
        """Monthly cost without the devices: instances, or upkeep, idle power and energy; and transfer."""
        per_month = daily_volume * DAYS_PER_MONTH
        transfer = self.transfer_usd_per_inference * per_month
        if self.instance_usd_month:
            parts = {"instances": self.instances(daily_volume) * self.instance_usd_month}
        else:
            parts = {
                "upkeep": self.fixed_usd_month,
                "idle power": self.idle_usd_month,
                "energy": self.usd_per_inference * per_month,
            }
        parts["transfer"] = transfer
        return MonthlyCost(sum(parts.values()), parts)

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
    transfer_usd_per_inference: float,
    peak_rps: float,
    peak_to_mean: float,
) -> CostModel:
    """Instances of `units` × $/h around the clock, sized to the peak, plus each inference's transfer fees."""
    return CostModel(
        instance_usd_month=units * hourly_usd * HOURS_PER_MONTH,
        capacity_rps=capacity_rps,
        transfer_usd_per_inference=transfer_usd_per_inference,
        peak_rps=peak_rps,
        peak_to_mean=peak_to_mean,
    )


@dataclass(frozen=True)
class Fleet:
    """Edge devices as bought and run: how many, their price, life, upkeep and power (busy and idle)."""

    devices: int
    price_usd: float
    life_months: int
    maintenance_usd_month: float
    power_w: float
    idle_w: float


def edge_model(fleet: Fleet, latency_ms: float, usd_kwh: float, transfer_usd_per_inference: float) -> CostModel:
    """The fleet bought up front, its upkeep, its idle power around the clock, the energy each inference draws
    above idle on that same device, and each inference's transfer fees."""
    idle_kwh_month = fleet.devices * fleet.idle_w * HOURS_PER_MONTH / 1e3
    return CostModel(
        upfront_usd=fleet.devices * fleet.price_usd,
        life_months=fleet.life_months,
        fixed_usd_month=fleet.devices * fleet.maintenance_usd_month,
        idle_usd_month=idle_kwh_month * usd_kwh,
        usd_per_inference=energy_j(max(0.0, fleet.power_w - fleet.idle_w), latency_ms) / 3.6e6 * usd_kwh,
        transfer_usd_per_inference=transfer_usd_per_inference,
    )


def fallback_monthly(edge: CostModel, cloud: CostModel, daily_volume: float, cloud_share: float) -> MonthlyCost:
    """Edge first with cloud fallback: the whole edge fleet, its energy for the requests it answers, and cloud
    instances (sized to the overflow's peak) and transfer only for the share it sends on; no cloud when none is."""
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

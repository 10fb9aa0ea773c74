"""What an option costs per month for a use case: cloud instances and egress, or edge devices, energy and upkeep."""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def cloud_monthly(
    hourly_usd: float, units: float, instances: int, egress_usd_gb: float, daily_volume: float, response_bytes: float
) -> MonthlyCost:
    """Instances × units × $/h around the clock, plus egress of every response."""
    compute = instances * units * hourly_usd * HOURS_PER_MONTH
    egress = daily_volume * DAYS_PER_MONTH * response_bytes / 1e9 * egress_usd_gb
    return MonthlyCost(compute + egress, {"instances": compute, "egress": egress})


def energy_usd(power_w: float, latency_ms: float, inferences: float, usd_kwh: float) -> float:
    """One device's power × that same device's time per inference × inferences, priced per kWh."""
    return power_w * latency_ms / 1e3 * inferences / 3.6e6 * usd_kwh


def edge_monthly(
    price_usd: float,
    units: float,
    life_months: int,
    maintenance_usd_month: float,
    fleet: int,
    power_w: float,
    latency_ms: float,
    daily_volume: float,
    usd_kwh: float,
) -> MonthlyCost:
    """The fleet's devices amortised over their life, upkeep, and the energy of every inference."""
    hardware = fleet * units * price_usd / life_months
    upkeep = fleet * maintenance_usd_month
    energy = energy_usd(power_w, latency_ms, daily_volume * DAYS_PER_MONTH, usd_kwh)
    return MonthlyCost(hardware + upkeep + energy, {"devices": hardware, "upkeep": upkeep, "energy": energy})

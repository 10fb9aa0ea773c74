"""Deployment options: a device from the catalogue resolved into numbers, each with its kind and citation.

A modeled device runs the use-case model this machine measured, scaled by a device factor: the device's published
latency for a reference model ÷ this machine's same statistic (p90 by p90, mean by mean) for the same model at the
same precision. A factor carries over only to models of the reference model's family; a published throughput sets
capacity, never latency. Each option is one product: its latency, price and power figures are for the same device.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from edgecloud.decisions.sensitivity import device_availability
from edgecloud.params import Device
from edgecloud.sources import sourced
from edgecloud.vocabulary import CLOUD_CPU


@dataclass(frozen=True)
class Cited:
    """A number with where it comes from: a sourced figure (with citation) or a stated assumption."""

    value: float
    kind: str  # "sourced" or "assumption"
    cite: str


def cited(ref: str | None, default: float = float("nan")) -> Cited:
    """Resolve a figure key ('rpi5_price') or an assumption ('assumption: 300 USD, …') to its number."""
    if ref is None:
        return Cited(default, "assumption", "not given")
    if ref.startswith("assumption: "):
        number = re.search(r"[-+]?\d+(?:\.\d+)?", ref)
        if not number:
            raise ValueError(f"{ref!r}: an assumption must start with its number")
        return Cited(float(number.group()), "assumption", ref.removeprefix("assumption: "))
    figure = sourced(ref)
    return Cited(float(figure), "sourced", f"{figure.key}: {figure.value} {figure.unit} ({figure.cite()})")


STATISTICS = {
    "mean": np.mean,
    "p50": np.median,
    "p90": lambda s: np.percentile(s, 90),
    "p99": lambda s: np.percentile(s, 99),
}


def local_statistic(samples: np.ndarray, statistic: str) -> float:
    """This machine's statistic of its samples, the one a published figure reports."""
    return float(STATISTICS[statistic](np.asarray(samples)))


def latency_factor(published_ms: float, local_ms: float) -> float:
    """Device latency ÷ this machine's, both the same statistic of the same reference model."""
    return published_ms / local_ms


@dataclass(frozen=True)
class Option:
    """One deployment option, resolved: where it computes, how fast relative to here, and what it costs."""

    name: str
    role: str
    kind: str  # measured (this machine), measured elsewhere, or modeled (scaled by a factor)
    precision: str
    factor: float  # NaN: no latency figure (only a throughput one)
    factor_note: str
    price: Cited
    hourly: Cited | None
    power: Cited
    idle_power: Cited
    multiplier: float
    life_months: int
    maintenance_usd_month: float
    note: str
    reference_model: str | None = None  # None: measured, so it covers every model
    reference_rps: float | None = None  # published samples/s of the reference model
    reference_local_ms: float = float("nan")  # this machine's p50 for the reference model
    power_scope: str = "system"
    availability: float = 1.0  # edge: the share of time the device works, from its failure rate and repair time
    served: bool = False  # this machine's server (cloud-cpu), measured on the served path in notebook 02

    def covers(self, family: str, families: dict[str, str]) -> bool:
        """Whether the option's figures say anything about a model of this family."""
        return self.reference_model is None or families.get(self.reference_model) == family


def resolve(
    name: str, device: Device, precision: str, local_reference: np.ndarray | None, elsewhere: tuple[float, str] = ()
) -> Option:
    """A catalogue entry as an Option; local_reference holds this machine's samples (ms) of the device's reference
    model, and `elsewhere` the measured factor and how it was found, for a device measured on another machine."""
    factor, rps, reference = 1.0, None, None
    if device.measured_machine:
        (factor, note), kind = elsewhere, "measured elsewhere"
    elif device.measured_target:
        note, kind = f"measured here ({device.measured_target})", "measured"
    else:
        kind, reference, parts = "modeled", device.reference_model, []
        if device.reference_latency:
            published = cited(device.reference_latency)
            local = local_statistic(local_reference, device.reference_statistic)
            factor = latency_factor(published.value, local)
            parts.append(
                f"{device.reference_model} {device.reference_statistic} latency: {published.cite} ÷ {local:.3g} ms "
                f"here = ×{factor:.3g}"
            )
        else:
            factor = float("nan")
            parts.append("latency not modeled: only a throughput figure is published")
        if device.reference_throughput:
            rps = cited(device.reference_throughput).value
            parts.append(f"capacity {cited(device.reference_throughput).cite}")
        note = "; ".join(parts) + f"; applies to the {device.reference_model} family only"
    return Option(
        name=name,
        role=device.role,
        kind=kind,
        precision=device.precision if "precision" in device.model_fields_set else precision,
        factor=factor,
        factor_note=note,
        price=cited(device.price),
        hourly=cited(device.hourly) if device.hourly else None,
        power=(power := cited(device.power)),
        idle_power=cited(device.idle_power)
        if device.idle_power
        else Cited(power.value, "assumption", "idle not given: taken as the full power, an upper bound"),
        multiplier=device.price_multiplier,
        life_months=device.life_months,
        maintenance_usd_month=device.maintenance_usd_month,
        note=device.note,
        reference_model=reference,
        reference_rps=rps,
        reference_local_ms=float(np.median(local_reference)) if local_reference is not None else float("nan"),
        power_scope=device.power_scope,
        served=device.measured_target == CLOUD_CPU and not device.measured_machine,
        availability=device_availability(cited(device.failures_per_year).value, cited(device.repair_hours).value),
    )

"""Deployment options: a device from the catalogue resolved into numbers, each with its kind and citation.

A modeled device runs the use-case model this machine measured, scaled by a device factor: the device's published
time for a reference model ÷ this machine's measured time for the same model at the same precision. The factor
assumes the ratio carries over from the reference model to the deployed one; the report says so beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgecloud.params import Device
from edgecloud.sources import sourced


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


def latency_factor(published_ms: float, local_ms: float) -> float:
    """Device time per sample ÷ this machine's, from a published batch-1 latency of the reference model."""
    return published_ms / local_ms


def throughput_factor(published_per_s: float, local_ms: float) -> float:
    """The same from a published throughput: 1000 ÷ samples/s is the device's time per sample at full load."""
    return (1000.0 / published_per_s) / local_ms


@dataclass(frozen=True)
class Option:
    """One deployment option, resolved: where it computes, how fast relative to here, and what it costs."""

    name: str
    role: str
    kind: str  # measured (this machine) or modeled (scaled by a factor)
    precision: str
    factor: float
    factor_note: str
    price: Cited
    hourly: Cited | None
    power: Cited
    idle_power: Cited
    multiplier: float
    life_months: int
    maintenance_usd_month: float
    note: str


def resolve(
    name: str, device: Device, precision: str, local_reference_ms: float | None, elsewhere: tuple[float, str] = ()
) -> Option:
    """A catalogue entry as an Option; local_reference_ms is this machine's p50 for the device's reference model,
    and `elsewhere` the measured factor and how it was found, for a device measured on another machine."""
    if device.measured_machine:
        (factor, note), kind = elsewhere, "measured elsewhere"
    elif device.measured_target:
        factor, note = 1.0, f"measured here ({device.measured_target})"
        kind = "measured"
    else:
        key = device.reference_latency or device.reference_throughput
        published = cited(key)
        if device.reference_latency:
            factor = latency_factor(published.value, local_reference_ms)
        else:
            factor = throughput_factor(published.value, local_reference_ms)
        how = "batch-1 latency" if device.reference_latency else "throughput at full load (assumes latency scales too)"
        note = (
            f"{device.reference_model} {how}: {published.cite} ÷ {local_reference_ms:.3g} ms here = ×{factor:.3g}; "
            "assumes the ratio carries over to the deployed model"
        )
        kind = "modeled"
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
    )

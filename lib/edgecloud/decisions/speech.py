"""Speech use cases decided from notebook 06's measurements: this machine as an edge box (the measured
transcription time) against the same machine as a cloud VM (that time plus the network's round trip and the
audio's upload), each priced as notebook 03 prices that machine; latency or real-time factor against the case's
budget, the binding constraint, and how much faster a device must be where none qualifies."""

from __future__ import annotations

import pandas as pd

from edgecloud import catalogue
from edgecloud.decisions.costs import Fleet, cloud_model, edge_model
from edgecloud.decisions.devices import cited
from edgecloud.results.query import select

AUDIO_BYTES_PER_S = 16_000 * 2  # 16 kHz 16-bit mono: what the model hears, sent as is (no codec: stated)
LIFE_MONTHS = 36  # as notebook 03
COST_TIE = 0.01  # options within 1% of the cheapest cost the same: the one with the lower word error rate wins
EDGE, CLOUD = "this-machine-edge", "this-machine-cloud"


def upload_ms(seconds: float, uplink_mbps: float) -> float:
    """Time to send that much audio over the uplink."""
    return seconds * AUDIO_BYTES_PER_S * 8 / (uplink_mbps * 1e6) * 1e3


def _budget(case: dict) -> tuple[str, float]:
    """The case's requirement: ('latency', ms) or ('real-time factor', ×)."""
    if "latency_budget_ms" in case:
        return "latency", cited(case["latency_budget_ms"]).value
    return "real-time factor", cited(case["real_time_budget"]).value


def _cost(role: str, case: dict, compute_ms: float, transfer_usd: float, usd_kwh: float) -> float:
    """USD a month: the edge fleet (amortised, upkeep-free, idle and busy power) or cloud VMs sized to the peak."""
    device = catalogue.DEFAULT_DEVICES[EDGE if role == "edge" else CLOUD]
    if role == "edge":
        fleet = Fleet(
            case["fleet_size"], cited(device["price"]).value, LIFE_MONTHS, 0.0,
            cited(device["power"]).value, cited(device["idle_power"]).value,
        )  # fmt: skip
        return edge_model(fleet, compute_ms, usd_kwh, 0.0).monthly(case["per_day"]).total
    model = cloud_model(cited(device["hourly"]).value, 1.0, 1e3 / compute_ms, transfer_usd, 0.0, 3.0)
    return model.monthly(case["per_day"]).total


def evaluate(rows: pd.DataFrame, profiles: dict[str, dict], usd_kwh: float) -> pd.DataFrame:
    """Every speech case × precision × option (edge, cloud): its latency, the requirement, whether it is met and by
    what margin, a month's cost and its precision's word error rate; `recommended` marks the cheapest option meeting
    it (for personal data, the cheapest edge option when one does), the lower WER among near-equal costs."""
    records = []
    for name, case in catalogue.SPEECH_CASES.items():
        profile = profiles[case["network"]]
        requirement, budget = _budget(case)
        audio_s = case["utterance_s"]
        for r in select(rows, "speech_option_latency", scenario=name).itertuples():
            wer = select(rows, "wer", precision=r.precision, stage="utterance").value
            for role in ("edge", "cloud"):
                network = 0.0 if role == "edge" else profile["rtt_ms"] + upload_ms(audio_s, profile["bandwidth_mbps"])
                latency = r.value + network
                got = latency if requirement == "latency" else latency / (audio_s * 1e3)
                margin = 1 - got / budget
                transfer = (
                    0.0 if role == "edge" else audio_s * AUDIO_BYTES_PER_S / 1e9 * cited(profile["usd_per_gb"]).value
                )
                records.append({
                    "case": name, "precision": r.precision, "option": EDGE if role == "edge" else CLOUD,
                    "role": role, "kind": r.kind if role == "edge" else "modeled", "latency_ms": latency,
                    "network_ms": network, "requirement": requirement, "got": got, "budget": budget,
                    "feasible": margin >= 0, "margin": margin, "speedup_needed": max(1.0, got / budget),
                    "usd_month": _cost(role, case, r.value, transfer, usd_kwh), "sensitivity": case["sensitivity"],
                    "wer": float(wer.iloc[0]) if len(wer) else float("nan"),
                })  # fmt: skip
    table = pd.DataFrame(records)
    table["recommended"] = False
    for _, part in table[table.feasible].groupby("case"):
        edge = part[part.role == "edge"]
        pick = edge if part.sensitivity.iloc[0] == "personal" and len(edge) else part
        near = pick[pick.usd_month <= pick.usd_month.min() * (1 + COST_TIE)]
        table.loc[near.wer.fillna(float("inf")).idxmin(), "recommended"] = True
    return table

"""The claims ledger: common claims about cloud vs edge inference, restated, each with what would support or
contradict it, its deciding figure from this run, and a verdict computed from that figure."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from edgecloud.results.query import select

SUPPORTED, CONTRADICTED, UNTESTABLE = "supported", "contradicted", "not testable here"


@dataclass(frozen=True)
class Fig:
    """One deciding figure: its value, how to say it, and its kind (measured, modeled or sourced)."""

    value: float
    text: str
    kind: str = "measured"


@dataclass(frozen=True)
class Verdict:
    verdict: str
    figure: str
    kind: str


Evidence = dict[str, Fig]


@dataclass(frozen=True)
class Claim:
    number: int
    statement: str
    test: str  # what would support or contradict it
    judge: Callable[[Evidence], Verdict]


def _depends(on: str) -> str:
    return f"depends on {on}"


def _band(e: Evidence, key: str, support_at: float, contradict_at: float, on: str) -> Verdict:
    """Supported when the figure reaches support_at, contradicted at or below contradict_at, else it depends; a
    figure this run could not compute leaves the claim untested."""
    f = e[key]
    if math.isnan(f.value):
        return Verdict(UNTESTABLE, f.text, f.kind)
    verdict = SUPPORTED if f.value >= support_at else CONTRADICTED if f.value <= contradict_at else _depends(on)
    return Verdict(verdict, f.text, f.kind)


def _band_judge(key: str, support_at: float, contradict_at: float, on: str) -> Callable[[Evidence], Verdict]:
    return lambda e: _band(e, key, support_at, contradict_at, on)


def _cloud_latency(e: Evidence) -> Verdict:
    low, high = e["cloud_p50_min"], e["cloud_p50_max"]
    text = f"{low.text}; {high.text}"
    if low.value >= 50:
        return Verdict(SUPPORTED, text, low.kind)
    return Verdict(CONTRADICTED if high.value < 50 else _depends("distance to the server"), text, low.kind)


def _two_halves(e: Evidence) -> Verdict:
    edge, cloud = e["roles_edge_half"], e["roles_cloud_half"]
    halves = [f.value for f in (edge, cloud) if not math.isnan(f.value)]
    text = f"{edge.text}; {cloud.text}"
    if not halves:
        return Verdict(UNTESTABLE, text, edge.kind)
    if min(halves) >= 0.8:
        return Verdict(SUPPORTED, text, edge.kind)
    if max(halves) <= 0.2:
        return Verdict(CONTRADICTED, text, edge.kind)
    return Verdict(_depends("the half: one holds, the other does not"), text, edge.kind)


def _architecture(e: Evidence) -> Verdict:
    acc, speed = e["architecture_accuracy_gap"], e["architecture_latency_ratio"]
    text = f"{acc.text}; {speed.text}"
    if math.isnan(speed.value):
        return Verdict(UNTESTABLE, text, "measured")
    accurate, slower = acc.value > 0, speed.value > 1.5
    if accurate and slower:
        return Verdict(SUPPORTED, text, "measured")
    if not accurate and speed.value < 1.2:
        return Verdict(CONTRADICTED, text, "measured")
    return Verdict(_depends("the models compared"), text, "measured")


CLAIMS: tuple[Claim, ...] = (
    Claim(
        1,
        "Cloud inference takes from about 50 ms to seconds, set by the model, the distance and the hardware.",
        "Supported if the cloud's end-to-end p50 is 50 ms or more on every network profile; contradicted if it is "
        "under 50 ms on every one; profiles on both sides make it depend on distance.",
        _cloud_latency,
    ),
    Claim(
        2,
        "Inference on the edge is fast enough for real-time answers.",
        "Supported if an edge option meets the latency budget of every use case that has one; contradicted if "
        "none does.",
        _band_judge("edge_meets_latency", 1.0, 0.0, "the device and the budget"),
    ),
    Claim(
        3,
        "The cloud delivers more throughput, bounded by bandwidth and peak capacity.",
        "Supported if the fastest cloud option sustains at least 1.25× the requests/s of the fastest edge device "
        "for the same model; contradicted at 0.8× or less; in between they are comparable.",
        _band_judge("cloud_over_edge_capacity", 1.25, 0.8, "the devices compared (capacities within 25%)"),
    ),
    Claim(
        4,
        "Edge devices have less throughput than servers, but need no constant link to one.",
        "Judged on its second half (claim 3 judges the first): supported if, through simulated outages, edge only "
        "answers at least as many requests within budget as cloud only in every use case; contradicted if in none.",
        _band_judge("edge_answers_offline", 1.0, 0.0, "the use case"),
    ),
    Claim(
        5,
        "Cloud costs recur and grow with the number of requests.",
        "Supported if the cheapest cloud option's monthly cost grows 3× or more at 10× the volume; contradicted if "
        "it stays within 1.2× (fixed costs dominate); in between it depends on volume.",
        _band_judge("cloud_cost_at_10x", 3.0, 1.2, "volume (one instance covers low volumes)"),
    ),
    Claim(
        6,
        "The edge costs more up front and less to run, so it breaks even after some months.",
        "Supported if every use case has a break-even month within the horizon; contradicted if none has.",
        _band_judge("break_even_share", 1.0, 0.0, "volume and prices"),
    ),
    Claim(
        7,
        "The edge saves bandwidth and egress fees because raw inputs stay on the device.",
        "Judged on the transfer fees the edge avoids (inputs up, answers down, or cloud data pulled to a device): "
        "supported if they are 5% or more of the cheapest cloud options' bills; contradicted if the edge avoids "
        "none or pays more; in between the saving is real but small.",
        _band_judge("transfer_avoided_share", 0.05, 0.0, "the data's size and where it starts"),
    ),
    Claim(
        8,
        "The edge protects privacy because sensitive data stays on the device.",
        "Judged from the use-case scoring: supported if an edge option meets every requirement in every use case "
        "with personal or regulated data; contradicted if in none; otherwise it depends on the use case.",
        _band_judge("private_cases_edge_feasible", 1.0, 0.0, "the use case"),
    ),
    Claim(
        9,
        "Edge devices' limited compute restricts how complex a model they can run.",
        "Supported if no edge option meets the budget of the use cases with the largest model; contradicted if "
        "every edge option does.",
        _band_judge("edge_fails_large_model", 1.0, 0.0, "the device"),
    ),
    Claim(
        10,
        "The cloud suits large-scale processing and complex models; the edge suits real-time, private and "
        "poorly connected settings.",
        "Each half judged on its own use cases: supported if both halves' recommendations follow the claim in at "
        "least 80% of them; contradicted if both do in 20% or less; otherwise it depends on the half.",
        _two_halves,
    ),
    Claim(
        11,
        "A hybrid (a cascade, or a model split between edge and cloud) can beat either alone.",
        "Supported if a measured cascade threshold, its accuracy interval overlapping cloud only's, is over 20% "
        "faster on average, or a measured mid-graph split beats both ends; contradicted if none is faster; a "
        "smaller win depends on the noise.",
        _band_judge("hybrid_wins", 1.0, 0.0, "noise: the win is under 20%"),
    ),
    Claim(
        12,
        "Architecture drives both accuracy and speed; efficient prediction is essential for low latency.",
        "One pair of models on one task (handwritten digits): supported if they differ in accuracy beyond their "
        "intervals and the more accurate is over 1.5× slower; contradicted if they differ in neither (accuracy "
        "within intervals, speed within 1.2×).",
        _architecture,
    ),
    Claim(
        13,
        "The quality and format of the input change inference performance.",
        "Supported if input resolution changes latency by more than 20%; contradicted if by 5% or less.",
        _band_judge("input_effect", 1.2, 1.05, "how much the input changes"),
    ),
)


def ledger(rows: pd.DataFrame) -> pd.DataFrame:
    """The claims ledger: statement, what would decide it, the deciding figure and the verdict."""
    found = select(rows, "claim").set_index("value")
    out = []
    for c in CLAIMS:
        r = found.loc[float(c.number)]
        out.append(
            {
                "#": c.number,
                "claim": c.statement,
                "what decides it": c.test,
                "deciding figure": r.note,
                "kind": r.kind,
                "verdict": r.stage,
            }
        )
    return pd.DataFrame(out).set_index("#")

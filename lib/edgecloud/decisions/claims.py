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


def _share(e: Evidence, key: str, on: str, high: float = 1.0, low: float = 0.0) -> Verdict:
    """Supported when the share reaches `high`, contradicted at or below `low`, else it depends."""
    f = e[key]
    if math.isnan(f.value):
        return Verdict(UNTESTABLE, f.text, f.kind)
    verdict = SUPPORTED if f.value >= high else CONTRADICTED if f.value <= low else _depends(on)
    return Verdict(verdict, f.text, f.kind)


def _cloud_latency(e: Evidence) -> Verdict:
    low, high = e["cloud_p50_min"], e["cloud_p50_max"]
    verdict = SUPPORTED if low.value >= 50 else _depends("distance to the server")
    return Verdict(verdict, f"{low.text}; {high.text}", low.kind)


def _threshold(key: str, above: str, below: str, at: float) -> Callable[[Evidence], Verdict]:
    def judge(e: Evidence) -> Verdict:
        f = e[key]
        return Verdict(above if f.value > at else below, f.text, f.kind)

    return judge


def _hybrid(e: Evidence) -> Verdict:
    cascade, splits = e["cascade_beats_both"], e["split_beats_both"]
    won = cascade.value > 0 or splits.value > 0
    return Verdict(SUPPORTED if won else CONTRADICTED, f"{cascade.text}; {splits.text}", "measured")


def _architecture(e: Evidence) -> Verdict:
    acc, speed = e["architecture_accuracy_gap"], e["architecture_latency_ratio"]
    both = acc.value > 0 and speed.value > 1.5
    return Verdict(SUPPORTED if both else _depends("the models compared"), f"{acc.text}; {speed.text}", "measured")


def _privacy(e: Evidence) -> Verdict:
    return Verdict(UNTESTABLE, e["regulated_cases"].text, "modeled")


CLAIMS: tuple[Claim, ...] = (
    Claim(
        1,
        "Cloud inference takes from about 50 ms to seconds, set by the model, the distance and the hardware.",
        "Supported if the cloud's end-to-end p50 stays at or above 50 ms on every network profile; a profile "
        "well below 50 ms contradicts it as a rule.",
        _cloud_latency,
    ),
    Claim(
        2,
        "Inference on the edge is fast enough for real-time answers.",
        "Supported if an edge option meets the latency budget of every use case that has one; contradicted if "
        "none does.",
        lambda e: _share(e, "edge_meets_latency", "the device and the budget"),
    ),
    Claim(
        3,
        "The cloud delivers more throughput, bounded by bandwidth and peak capacity.",
        "Supported if the fastest cloud option sustains more requests/s for the same model than the fastest edge "
        "device.",
        _threshold("cloud_over_edge_capacity", SUPPORTED, CONTRADICTED, 1.0),
    ),
    Claim(
        4,
        "Edge devices have less throughput than servers, but need no constant link to one.",
        "Supported if the fastest edge device's capacity is below the fastest cloud option's; the edge sends "
        "nothing per request by construction.",
        _threshold("cloud_over_edge_capacity", SUPPORTED, CONTRADICTED, 1.0),
    ),
    Claim(
        5,
        "Cloud costs recur and grow with the number of requests.",
        "Supported if the cheapest cloud option's monthly cost grows several-fold at 10× the volume; flat cost "
        "(one instance covers it) makes it depend on volume.",
        _threshold("cloud_cost_at_10x", SUPPORTED, _depends("volume (one instance covers low volumes)"), 3.0),
    ),
    Claim(
        6,
        "The edge costs more up front and less to run, so it breaks even after some months.",
        "Supported if every use case has a break-even month within the horizon; contradicted if none has.",
        lambda e: _share(e, "break_even_share", "volume and prices"),
    ),
    Claim(
        7,
        "The edge saves bandwidth and egress fees because raw inputs stay on the device.",
        "Supported if the egress fees avoided are a material share (≥ 1%) of the cloud bill; bandwidth alone, with "
        "egress charged only on responses, makes it depend on what is counted.",
        _threshold("egress_share", SUPPORTED, _depends("what is counted: bytes yes, egress fees barely"), 0.01),
    ),
    Claim(
        8,
        "The edge protects privacy because sensitive data stays on the device.",
        "A property of the design, not a measurement: the use-case scoring treats it as a hard constraint.",
        _privacy,
    ),
    Claim(
        9,
        "Edge devices' limited compute restricts how complex a model they can run.",
        "Supported if no edge option meets the budget of the use cases with the largest model; contradicted if "
        "every edge option does.",
        lambda e: _share(e, "edge_fails_large_model", "the device"),
    ),
    Claim(
        10,
        "The cloud suits large-scale processing and complex models; the edge suits real-time, private and "
        "poorly connected settings.",
        "Supported if the recommendations follow that split in at least 80% of use cases; contradicted at 20% or less.",
        lambda e: _share(e, "roles_as_claimed", "the use case", high=0.8, low=0.2),
    ),
    Claim(
        11,
        "A hybrid (a cascade, or a model split between edge and cloud) can beat either alone.",
        "Supported if a measured cascade threshold or split is faster than cloud only at cloud-only accuracy, or "
        "more accurate than edge only; contradicted if neither is.",
        _hybrid,
    ),
    Claim(
        12,
        "Architecture drives both accuracy and speed; efficient prediction is essential for low latency.",
        "Supported if two architectures on the same task differ in accuracy beyond their intervals and one is "
        "over 1.5× faster.",
        _architecture,
    ),
    Claim(
        13,
        "The quality and format of the input change inference performance.",
        "Supported if input resolution or payload format changes latency by more than 20%.",
        _threshold("input_effect", SUPPORTED, CONTRADICTED, 1.2),
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

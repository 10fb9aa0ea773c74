"""Notebook 04's tables, read from the store (no torch, no Jupyter)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from edgecloud.results import tables, usecase_tables
from edgecloud.results.query import select
from edgecloud.results.tables import DIGITS
from edgecloud.vocabulary import CLOUD_CPU

CLOUD_ONLY, EDGE_ONLY = np.inf, 0.0


def differences(rows: pd.DataFrame) -> pd.DataFrame:
    """Cloud minus edge at p50 and p99 per network profile, with intervals (blank where the tail is too thin)."""
    out = {}
    for q in (50, 99):
        d = select(rows, f"p{q}_minus_edge").set_index("network")
        out[f"p{q} difference (ms)"] = d.value
        out[f"p{q} CI"] = [
            "" if pd.isna(lo) else f"{lo:+.3g} to {hi:+.3g}" for lo, hi in zip(d.ci_low, d.ci_high, strict=True)
        ]
    table = pd.DataFrame(out).round(DIGITS)
    table.index.name = f"cloud over … minus {select(rows, 'p50_minus_edge').note.iloc[0].split(' minus ')[1]}"
    return table


def capacity(rows02: pd.DataFrame, rows00: pd.DataFrame, rows01: pd.DataFrame, bound_ms: float) -> pd.DataFrame:
    """Per target of notebook 02: its best batch-sweep rate, LoadGen's Offline rate (VALID only) and highest VALID
    Server rate within the bound, the server's CPU and memory, and the best rate's GFLOP/s as a share of notebook
    00's fp32 ceiling at the target's threads (fp32 targets only: int8 work has another ceiling)."""
    sweep = select(rows02, "throughput", scenario="batch-sweep")
    best = sweep.loc[sweep.groupby("target").value.idxmax()].set_index("target")
    lg = tables.loadgen(rows02)
    offline = lg[(lg.scenario == "Offline") & lg.valid.fillna(False)].groupby("target").samples_per_s.max()
    flops = select(rows01, "flops").set_index("model").value
    gflops = best.value * best.model.map(flops) / 1e9
    ceiling = best.threads.map(lambda t: tables.ceiling(rows00, int(t))["gflops"])
    used = tables.resources(rows02)
    process = used.loc["server"] if "server" in used.index else pd.Series(dtype=float)
    out = pd.DataFrame(
        {
            "model": best.model,
            "precision": best.precision,
            "threads": best.threads,
            "best batch": best.batch,
            "batch-sweep samples/s": best.value,
            "Offline samples/s (VALID)": offline,
            "Server queries/s (VALID, within bound)": tables.server_rates(lg, bound_ms),
            "server CPU % (busiest run)": pd.Series({CLOUD_CPU: process.get("cpu_mean_pct")}),
            "server peak RSS MiB": pd.Series({CLOUD_CPU: process.get("rss_peak_mib")}),
            "GFLOP/s": gflops,
            "share of fp32 ceiling": (gflops / ceiling).where(best.precision == "fp32"),
        },
        index=best.index,
    )
    return out.round(DIGITS)


def costs(rows: pd.DataFrame) -> pd.DataFrame:
    """Per use case: the cheapest edge and cloud options, $ per 1M inferences, and the break-even month."""
    per = select(rows, "per_million")
    be = select(rows, "break_even")
    base = be[be.stage.isna()].set_index("scenario")
    out = []
    for case, g in per.groupby("scenario", sort=False):
        out.append(
            {
                "use case": case,
                "options": base.note[case],
                "edge $/1M": g.value.iloc[0],
                "cloud $/1M": g.value.iloc[1],
                "break-even (months)": base.value[case],
            }
        )
    return pd.DataFrame(out).set_index("use case").round(2)


def tco(rows: pd.DataFrame) -> pd.DataFrame:
    t = select(rows, "tco")
    return pd.DataFrame({"use case": t.scenario, "option": t.target, "month": t.scale, "USD": t.value})


def break_even_sensitivity(rows: pd.DataFrame) -> pd.DataFrame:
    be = select(rows, "break_even")
    be = be[be.stage.notna()]
    wide = be.pivot_table(index="scenario", columns=["stage", "scale"], values="value", dropna=False, sort=False)
    wide.columns = [f"{what} ×{k:g}" for what, k in wide.columns]
    return wide.round(1)


def energy(rows03: pd.DataFrame) -> pd.DataFrame:
    """Energy per inference by option and model: each device's power × that device's time (modeled), with what
    the power covers (chip, board or system): compare options within one scope."""
    e = select(rows03, "energy_per_inference").drop_duplicates(["target", "model"])
    return (
        pd.DataFrame({"option": e.target, "model": e.model, "scope": e.source, "mJ": e.value * 1e3, "how": e.note})
        .sort_values(["model", "scope", "mJ"])
        .set_index(["model", "option"])
        .round(3)
    )


def decision_map(rows03: pd.DataFrame) -> pd.DataFrame:
    """Every (use case, option): the chance it meets every requirement, its monthly cost, and whether it is the
    recommendation (NaN where the option is not modeled for the case's model family)."""
    chance = select(rows03, "feasible_probability").set_index(["scenario", "target"]).value
    cost = select(rows03, "monthly_cost").set_index(["scenario", "target"]).value
    chosen = set(usecase_tables.recommendations(rows03).recommended.items())
    return pd.DataFrame(
        {
            "use case": [s for s, _ in chance.index],
            "option": [o for _, o in chance.index],
            "P(feasible)": chance.to_numpy(),
            "USD/month": cost.reindex(chance.index).to_numpy(),
            "recommended": [k in chosen for k in chance.index],
        }
    )


def cascade(rows: pd.DataFrame) -> pd.DataFrame:
    """Every threshold: accuracy with its interval, share offloaded, mean and p99 latency, cloud $/1M, frontier."""
    acc = select(rows, "cascade_accuracy").set_index("scale")
    val = {
        m: select(rows, m).set_index("scale").value
        for m in ("cascade_offloaded", "cascade_mean", "cascade_p99", "cascade_usd_per_million", "cascade_frontier")
    }
    label = {EDGE_ONLY: "edge only", CLOUD_ONLY: "cloud only"}
    return (
        pd.DataFrame(
            {
                "threshold": [label.get(t, f"{t:g}") for t in acc.index],
                "accuracy": acc.value,
                "CI": [f"{lo:.3f} to {hi:.3f}" for lo, hi in zip(acc.ci_low, acc.ci_high, strict=True)],
                "offloaded": val["cascade_offloaded"],
                "mean ms": val["cascade_mean"],
                "p99 ms": val["cascade_p99"],
                "cloud $/1M": val["cascade_usd_per_million"],
                "frontier": val["cascade_frontier"].astype(bool),
            }
        )
        .reset_index(drop=True)
        .round(4)
    )


def split_predictions(rows: pd.DataFrame) -> pd.DataFrame:
    """Predicted p50 of every cut on every profile (cuts as rows), with the bytes that cross."""
    p = select(rows, "split_predicted_p50")
    wide = p.pivot_table(index="stage", columns="network", values="value", sort=False)
    size = select(rows, "split_bytes").set_index("stage").value
    wide.insert(0, "bytes", size.reindex(wide.index))
    wide.index = wide.index.astype(int)
    return wide.sort_index().round(DIGITS)


def split_check(rows: pd.DataFrame) -> pd.DataFrame:
    """Measured cuts: predicted against measured p50 and p90 per profile, and the error of the prediction."""
    keys = ["network", "stage"]
    m50 = select(rows, "split_measured_p50").set_index(keys)
    table = pd.DataFrame(
        {
            "cut": m50.note,
            "predicted p50": select(rows, "split_predicted_p50").set_index(keys).value.reindex(m50.index),
            "measured p50": m50.value,
            "predicted p90": select(rows, "split_predicted_p90").set_index(keys).value,
            "measured p90": select(rows, "split_measured_p90").set_index(keys).value,
        }
    )
    table["p50 error"] = table["predicted p50"] / table["measured p50"] - 1
    best = select(rows, "split_best").groupby("network").value.first()  # recorded best first
    table["best predicted"] = [best.get(n) == float(s) for n, s in table.index]
    return table.round(DIGITS)


def split_changes(rows: pd.DataFrame) -> pd.DataFrame:
    c = select(rows, "split_change_bandwidth")
    table = pd.DataFrame({"RTT of": c.network, "bandwidth Mbit/s": c.value, "best cut": c.note})
    return table.reset_index(drop=True).round(DIGITS)


def published(rows: pd.DataFrame) -> pd.DataFrame:
    p = select(rows, "published_context")
    return pd.DataFrame(
        {
            "system": p.target,
            "value": p.value,
            "unit": p.unit,
            "kind": p.kind,
            "source": p.source.fillna(""),
            "note": p.note,
        }
    ).reset_index(drop=True)


def fallback(rows03: pd.DataFrame) -> pd.DataFrame:
    """Edge first with cloud fallback beside cloud only and edge only (notebook 03's outage simulation): the share
    answered within budget and each strategy's USD per month."""
    return usecase_tables.outages(rows03)

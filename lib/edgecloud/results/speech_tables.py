"""Notebook 06's tables, read from the store: per precision, latency, the encoder's share, the real-time factor and
the word error rate; latency against utterance length; the speech use cases."""

from __future__ import annotations

import pandas as pd

from edgecloud.results.query import select

TIMING = {
    "speech_latency": "utterance p50 ms",
    "encoder_time": "encoder alone p50 ms",
    "encoder_fit": "fixed cost (fit) ms",
    "speech_token_time": "per token (fit) ms",
    "load_time": "load ms",
    "model_size": "weights MB",
    "precision_speedup": "speed-up over reference",
}
QUALITY = {"wer": "WER", "wer_difference": "WER − reference", "real_time_factor": "real-time factor"}


def _wide(rows: pd.DataFrame, columns: dict[str, str], by: list[str]) -> pd.DataFrame:
    part = rows[rows.metric.isin(columns) & rows.precision.notna() & rows.scenario.isna()]
    wide = part.pivot_table(index=by, columns="metric", values="value", aggfunc="first", sort=False)
    return wide.reindex(columns=[c for c in columns if c in wide.columns]).rename(columns=columns).round(3)


def timing(rows: pd.DataFrame) -> pd.DataFrame:
    """Per precision: an utterance's latency, the encoder timed alone beside the fit's fixed cost, the cost per
    token, load time, weights and the speed-up over the reference precision."""
    return _wide(rows, TIMING, ["precision"])


def quality(rows: pd.DataFrame) -> pd.DataFrame:
    """Per precision and stage (utterance by utterance, or the whole recording in one call): WER and real-time
    factor."""
    part = rows.assign(stage=rows.stage.fillna("utterance"))
    return _wide(part, QUALITY, ["precision", "stage"])


def by_length(samples: pd.DataFrame) -> pd.DataFrame:
    """Every timed transcription: precision, the utterance's length (s) and its latency (ms)."""
    part = samples[(samples.stage == "utterance") & samples.input_size.notna()]
    return pd.DataFrame(
        {"precision": part.precision, "seconds": part.input_size / 1e3, "latency_ms": part.latency_ms}
    ).reset_index(drop=True)


def cases(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Each speech case's options: latency with the network's share, the requirement, margin and cost."""
    cols = ["case", "precision", "option", "kind", "latency_ms", "network_ms", "requirement", "got", "budget",
            "margin", "usd_month", "wer", "feasible", "recommended"]  # fmt: skip
    return evaluated[cols].set_index(["case", "precision", "option"]).round(3)


def value(rows: pd.DataFrame, metric: str, **labels: object) -> tuple[float, float, float]:
    """A metric's value with its interval (KeyError when absent)."""
    found = select(rows, metric, **labels)
    if found.empty:
        raise KeyError(f"no {metric} for {labels}")
    r = found.iloc[0]
    return float(r.value), float(r.ci_low), float(r.ci_high)

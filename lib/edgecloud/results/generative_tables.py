"""Notebook 05's tables, read from the store: per runtime, the token timings, the roofline, and what quantization
costs; prefill against prompt length."""

from __future__ import annotations

import pandas as pd

from edgecloud.results.query import select

RUNTIME = ["runtime", "precision"]
TIMING = {
    "ttft": "TTFT p50 ms",
    "ttft_p99": "TTFT p99 ms",
    "tpot": "TPOT p50 ms",
    "token_gap_p50": "gap p50 ms",
    "token_gap_p99": "gap p99 ms",
    "end_to_end": "end-to-end p50 ms",
    "tokens_per_s": "tokens/s",
    "load_time": "load ms",
    "model_size": "weights MB",
}
ROOF = {
    "bytes_per_token": "MB read a token",
    "decode_roof": "roof tokens/s",
    "tokens_per_s": "measured tokens/s",
    "decode_roof_share": "share of roof",
    "gap_growth": "gap growth ms/1k ctx",
}
QUALITY = {
    "token_agreement": "greedy agreement",
    "first_divergence": "first divergence (tokens)",
    "perplexity": "perplexity",
    "perplexity_ratio": "perplexity / fp32",
}


def _wide(rows: pd.DataFrame, columns: dict[str, str], order: list[str]) -> pd.DataFrame:
    """One row per runtime, one column per metric (value, with its CI where the store has one)."""
    part = rows[rows.metric.isin(columns) & rows.runtime.notna()]
    part = part[
        part.input_size.isna()
        | part.metric.isin(
            ["ttft", "ttft_p99", "tpot", "token_gap_p50", "token_gap_p99", "end_to_end", "bytes_per_token"]
        )
    ]
    wide = part.pivot_table(index=RUNTIME, columns="metric", values="value", aggfunc="first")
    wide = wide.reindex(columns=[c for c in columns if c in wide.columns]).rename(columns=columns)
    runtimes = [r for r in order if r in wide.index.get_level_values("runtime")]
    return wide.reindex(runtimes, level="runtime").round(3)


def token_timing(rows: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """TTFT, TPOT, the gaps between tokens, end-to-end time, decode rate, load time and weights per runtime."""
    return _wide(rows, TIMING, order)


def roofline(rows: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Decode against the memory-bandwidth roof per runtime."""
    return _wide(rows, ROOF, order)


def quality(rows: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Greedy agreement with fp32, first divergence and perplexity per runtime."""
    return _wide(rows, QUALITY, order)


def prefill(rows: pd.DataFrame) -> pd.DataFrame:
    """Prompt tokens per second of TTFT, and that rate's share of the GEMM ceiling, per runtime and prompt length."""
    rate = select(rows, "prefill_tokens_per_s")
    share = select(rows, "prefill_gemm_share").set_index(["runtime", "input_size"])["value"]
    out = rate.assign(
        prompt_tokens=rate.input_size.astype(int),
        tokens_per_s=rate.value,
        gemm_share=[share.get((r.runtime, r.input_size)) for r in rate.itertuples()],
    )
    return out[["runtime", "precision", "prompt_tokens", "tokens_per_s", "gemm_share"]].reset_index(drop=True).round(3)


def estimate(rows: pd.DataFrame, metric: str, runtime: str) -> tuple[float, float, float]:
    """A runtime's value of a metric with its interval (KeyError when absent)."""
    found = select(rows, metric, runtime=runtime)
    found = found[found.input_size.isna() | (metric in TIMING)]
    if found.empty:
        raise KeyError(f"no {metric} for {runtime}")
    r = found.iloc[0]
    return float(r.value), float(r.ci_low), float(r.ci_high)


SERVED = {
    "ttft": "TTFT p50 ms",
    "ttft_p99": "TTFT p99 ms",
    "tpot": "TPOT p50 ms",
    "token_gap_p50": "gap p50 ms",
    "token_gap_p99": "gap p99 ms",
    "throughput": "tokens/s, all clients",
}


def served(rows: pd.DataFrame) -> pd.DataFrame:
    """Streamed answers per target, network path and number of clients, beside llama.cpp in-process."""
    part = rows[
        rows.metric.isin(SERVED)
        & (
            rows.target.isin(["llm-server", "llm-remote"])
            | ((rows.runtime == "llama.cpp") & (rows.target == "in-process") & rows.input_size.notna())
        )
    ]
    labels = part.assign(
        network=part.network.fillna("none (in-process)"), clients=part.concurrency.fillna(1).astype(int)
    )
    wide = labels.pivot_table(
        index=["target", "network", "clients"], columns="metric", values="value", aggfunc="first", sort=False
    )
    return wide.reindex(columns=[c for c in SERVED if c in wide.columns]).rename(columns=SERVED).round(2)


def stage_samples(samples: pd.DataFrame, stage: str, **labels: object) -> pd.Series:
    """Raw samples (ms) of one stage (ttft, gap) whose labels match; a missing label must be missing."""
    mask = samples.stage == stage
    for key, want in labels.items():
        mask &= samples[key].isna() if want is None else (samples[key] == want).fillna(False)
    return samples.loc[mask, "latency_ms"].to_numpy()


def size_sweep(sweep: pd.DataFrame) -> pd.DataFrame:
    """Decode tokens/s of each model (columns, by size) on each option (rows); empty where it does not fit."""
    wide = sweep.pivot_table(index="option", columns="model", values="tokens_per_s", aggfunc="first", sort=False)
    order = sweep.drop_duplicates("model").sort_values("parameters_b").model
    return wide.reindex(columns=list(order)).round(1)


def cases(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Each generative use case's options: TTFT and TPOT against the budgets, the binding constraint and cost."""
    cols = ["case", "option", "kind", "ttft_ms", "ttft_budget_ms", "tpot_ms", "tpot_budget_ms", "binding",
            "usd_per_m_output", "usd_month", "gpus", "feasible", "recommended"]  # fmt: skip
    return evaluated[cols].set_index(["case", "option"]).round(2)


TOKEN_LOADGEN = {
    "loadgen_target_qps": "target queries/s",
    "loadgen_tokens_per_s": "tokens/s",
    "loadgen_ttft_p50": "TTFT p50 ms",
    "loadgen_ttft_p99": "TTFT p99 ms",
    "loadgen_tpot_p50": "TPOT p50 ms",
    "loadgen_tpot_p99": "TPOT p99 ms",
}


def token_loadgen(rows: pd.DataFrame) -> pd.DataFrame:
    """LoadGen's token-latency Server runs against the served model, one row per rate: what LoadGen measured, the
    bounds, and whether the run is VALID (and why not)."""
    part = rows[rows.metric.isin(TOKEN_LOADGEN) & (rows.target == "llm-server")]
    if part.empty:
        return pd.DataFrame(columns=[*TOKEN_LOADGEN.values(), "TTFT bound ms", "TPOT bound ms", "valid", "why not"])
    wide = part.pivot_table(index="scale", columns="metric", values="value", aggfunc="first")
    wide = wide.reindex(columns=list(TOKEN_LOADGEN)).rename(columns=TOKEN_LOADGEN)
    bounds = rows[(rows.metric == "loadgen_bound") & (rows.target == "llm-server")]
    for stage in ("ttft", "tpot"):
        wide[f"{stage.upper()} bound ms"] = bounds[bounds.stage == stage].set_index("scale").value.reindex(wide.index)
    meta = part.drop_duplicates("scale").set_index("scale")
    wide["valid"] = meta.loadgen_valid.reindex(wide.index)
    wide["why not"] = meta.note.reindex(wide.index)
    return wide.reset_index(drop=True).round(2)

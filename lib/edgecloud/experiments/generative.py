"""Notebook 05: a small language model on every generative runtime, token by token, into the store: TTFT, the
gaps between tokens, prefill against prompt length, decode against the memory-bandwidth roof, and what
quantization costs in greedy agreement and perplexity."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from edgecloud import catalogue, generation, notebooks, scenarios
from edgecloud.decisions import generative as decisions
from edgecloud.decisions.devices import cited
from edgecloud.llm_serving import GREEDY, LlamaServer
from edgecloud.models import llm
from edgecloud.models.llm import LanguageModel
from edgecloud.network import emulation, token_stream
from edgecloud.network.model import MSS_BYTES, network_time_ms
from edgecloud.params import GenerativeSection, NetworkProfile, Params, Shared
from edgecloud.results.store import Config, MissingResults, Recorder, latest_here
from edgecloud.runtimes import decoding as runtimes
from edgecloud.sources import sourced
from edgecloud.timing import Estimate, Measurement, TokenTimeline, from_samples, ratio
from edgecloud.vocabulary import IN_PROCESS, LLM_REMOTE, LLM_SERVER

NOTEBOOK = notebooks.of_experiment(__name__)


def language_model(section: GenerativeSection, shared: Shared) -> LanguageModel:
    """The model the section measures: the shipped one or a shared.custom_models entry with a gguf_path or hf_path."""
    return llm.get(section.model, shared.custom_models)


def config(name: str, model: LanguageModel, section: GenerativeSection, **more: object) -> Config:
    """The store's labels of one generative runtime's measurement (in-process unless more says otherwise)."""
    labels = {"target": IN_PROCESS, **more}
    precision = runtimes.get(name).precision(model)
    return Config(model=model.name, runtime=name, precision=precision, threads=section.llm_threads, **labels)


def _ceiling(metric: str, threads: int) -> float:
    """Notebook 00's best value of a ceiling metric at threads (at its most threads when it did not run those)."""
    rows = latest_here(notebooks.NOTEBOOKS[0].id)
    found = rows[rows["metric"] == metric]
    at = found[found["threads"] == threads]
    return float((at if len(at) else found[found["threads"] == found["threads"].max()])["value"].max())


def memory_roof_gbps(threads: int) -> float:
    """The triad's peak bandwidth: the memory ceiling of this machine."""
    return _ceiling("triad_bandwidth_peak", threads)


def gemm_ceiling_gflops(threads: int) -> float:
    """The fp32 GEMM peak: the compute ceiling of this machine."""
    return _ceiling("gemm_rate_peak", threads)


def _latency_rows(rec: Recorder, metric: str, m: Measurement, q: str = "p50") -> None:
    est = m.percentiles[q]
    rec.add(metric, est.value * 1e3, "ms", m.config, ci=(est.low * 1e3, est.high * 1e3), n=m.n, noisy=m.noisy)


def timeline_rows(rec: Recorder, cfg: Config, timelines: list[TokenTimeline], shared: Shared) -> Measurement:
    """TTFT (p50, p99), TPOT, every gap between tokens (p50, p99), end-to-end time and the decode rate of a set of
    streamed answers, with their TTFT and gap samples; returns the TPOT measurement."""
    timing = shared.timing
    ttft = from_samples(np.array([t.ttft for t in timelines]), cfg.with_(stage="ttft"), timing)
    tpot = from_samples(np.array([t.tpot for t in timelines]), cfg.with_(stage="tpot"), timing)
    gaps = from_samples(np.concatenate([t.gaps for t in timelines]), cfg.with_(stage="gap"), timing)
    e2e = from_samples(np.array([t.arrivals[-1] for t in timelines]), cfg.with_(stage="end_to_end"), timing)
    _latency_rows(rec, "ttft", ttft)
    _latency_rows(rec, "ttft_p99", ttft, "p99")
    _latency_rows(rec, "tpot", tpot)
    _latency_rows(rec, "token_gap_p50", gaps)
    p99 = gaps.percentiles["p99"].value * 1e3
    rec.add("token_gap_p99", p99, "ms", gaps.config, n=gaps.n, untrusted=gaps.untrusted("p99"))
    _latency_rows(rec, "end_to_end", e2e)
    p50 = tpot.percentiles["p50"]
    rec.add("tokens_per_s", 1 / p50.value, "tokens/s", tpot.config, ci=(1 / p50.high, 1 / p50.low), n=tpot.n)
    for m in (ttft, gaps):
        rec.samples(m.samples * 1e3, m.config)
    return tpot


def measure_runtime(name: str, model: LanguageModel, section: GenerativeSection, shared: Shared, rec: Recorder) -> dict:
    """Load one runtime (timed apart from every request), then its timed requests (greedy, so their tokens are also
    the answers compared with the reference's), prefill curve, long answer and log-likelihoods; records the timing
    rows and returns what the comparisons need."""
    cfg = config(name, model, section)
    t0 = time.perf_counter()
    decoder = runtimes.get(name).load(model, section.llm_threads, section.context)
    rec.add("load_time", (time.perf_counter() - t0) * 1e3, "ms", cfg, n=1)
    rec.add("model_size", decoder.weight_bytes() / 1e6, "MB", cfg)
    prompt_list = generation.prompts(model, section.prompt_tokens, section.warmup + section.requests)
    timelines = generation.timed_requests(decoder, prompt_list, section.output_tokens, section.warmup)
    tpot = timeline_rows(rec, cfg.with_(input_size=section.prompt_tokens), timelines, shared)
    for point in generation.prefill_curve(decoder, model, section.prompt_lengths, section.prefill_repeats):
        rec.add(
            "prefill_tokens_per_s",
            point.tokens_per_s,
            "tokens/s",
            cfg.with_(input_size=point.prompt_tokens),
            n=len(point.ttft_s),
        )
    # the decoder is warm from the requests above: the long answer needs no untimed one of its own
    long = generation.timed_requests(decoder, generation.prompts(model, 16, 2)[1:], section.long_output_tokens, 0)[0]
    slope, _ = generation.gap_slope(long, 16)
    rec.add("gap_growth", slope * 1e6, "ms/1k tokens", cfg.with_(stage="long"), n=len(long.gaps))
    rec.samples(long.gaps * 1e3, cfg.with_(stage="long_gap", input_size=16))
    log_likelihoods = np.array(decoder.log_likelihoods(generation.text_window(model, section.perplexity_tokens)))
    gaps = np.concatenate([t.gaps for t in timelines])
    return {
        "decoder": decoder,
        "tpot": tpot,
        "gaps": gaps,
        "answers": [t.tokens for t in timelines],
        "log_likelihoods": log_likelihoods,
    }


def roofline(name: str, model: LanguageModel, measured: dict, section: GenerativeSection, rec: Recorder) -> None:
    """Decode's memory-bandwidth roof (triad peak ÷ weights + KV cache read per token at the requests' mean
    context) and the measured rate's share of it; prefill's FLOP rate against the GEMM ceiling."""
    cfg = config(name, model, section)
    shape = model.shape()
    context = section.prompt_tokens + section.output_tokens // 2
    per_token = shape.bytes_per_token(measured["decoder"].weight_bytes(), context)
    bandwidth, gemm = memory_roof_gbps(section.llm_threads), gemm_ceiling_gflops(section.llm_threads)
    roof = bandwidth * 1e9 / per_token
    note = f"{per_token / 1e6:.1f} MB a token at context {context}; triad peak {bandwidth:.1f} GB/s (00)"
    rec.add("bytes_per_token", per_token / 1e6, "MB", cfg.with_(input_size=context), "modeled", note=note)
    rec.add("decode_roof", roof, "tokens/s", cfg, "modeled", note=note)
    p50 = measured["tpot"].percentiles["p50"]
    rec.add(
        "decode_roof_share",
        1 / p50.value / roof,
        "fraction",
        cfg,
        ci=(1 / p50.high / roof, 1 / p50.low / roof),
        note=note,
    )
    rows = rec.frame()
    prefill = rows[(rows["metric"] == "prefill_tokens_per_s") & (rows["runtime"] == name)]
    for _, row in prefill.iterrows():
        share = row["value"] * 2 * shape.parameters / 1e9 / gemm
        rec.add(
            "prefill_gemm_share",
            share,
            "fraction",
            cfg.with_(input_size=int(row["input_size"])),
            note=f"2 × {shape.parameters / 1e6:.0f} M parameters a token; GEMM peak {gemm:.0f} GFLOP/s (00)",
        )


def quality(
    name: str,
    model: LanguageModel,
    measured: dict,
    reference: dict,
    section: GenerativeSection,
    shared: Shared,
    rec: Recorder,
) -> None:
    """Greedy agreement with the reference runtime and perplexity (and its ratio to the reference's)."""
    cfg, t = config(name, model, section), shared.timing
    agreement = generation.token_agreement(
        measured["answers"], reference["answers"], t.bootstrap_resamples, shared.seed, t.confidence
    )
    n = sum(len(a) for a in measured["answers"])
    rec.add("token_agreement", agreement.value, "fraction", cfg, ci=(agreement.low, agreement.high), n=n)
    first = generation.first_divergence(measured["answers"], reference["answers"])
    rec.add("first_divergence", first, "tokens", cfg, n=len(measured["answers"]))
    ll = measured["log_likelihoods"]
    ppl = generation.perplexity(ll, t.bootstrap_resamples, shared.seed, t.confidence)
    rec.add("perplexity", ppl.value, "", cfg, ci=(ppl.low, ppl.high), n=len(ll), note=generation.CORPUS)
    ratio = generation.perplexity_ratio(
        ll, reference["log_likelihoods"], t.bootstrap_resamples, shared.seed, t.confidence
    )
    rec.add("perplexity_ratio", ratio.value, "×", cfg, ci=(ratio.low, ratio.high), n=len(ll))


def kv_cache(model: LanguageModel, rec: Recorder) -> None:
    """The model's parameter count and its KV cache's bytes per token, from its config."""
    shape = model.shape()
    rec.add("parameters", shape.parameters, "count", Config(model=model.name))
    note = f"2 × {shape.layers} layers × {shape.kv_heads} KV heads × {shape.head_dim} × 2 bytes (fp16)"
    rec.add("kv_bytes_per_token", shape.kv_bytes_per_token(), "bytes", Config(model=model.name), "modeled", note=note)


def one_thread_gain(
    name: str, model: LanguageModel, gaps: np.ndarray, section: GenerativeSection
) -> tuple[Estimate, np.ndarray]:
    """Decode at one thread against gaps at the section's threads: the ratio of median token gaps (block-bootstrap
    CI), and the one-thread gaps."""
    decoder = runtimes.get(name).load(model, 1, section.context)
    prompt_list = generation.prompts(model, section.prompt_tokens, 1 + max(3, section.requests // 2))
    timelines = generation.timed_requests(decoder, prompt_list, section.output_tokens, 1)
    single = np.concatenate([t.gaps for t in timelines])
    return ratio(single, gaps), single


def thread_scaling(
    name: str, model: LanguageModel, gaps: np.ndarray, section: GenerativeSection, rec: Recorder
) -> None:
    """Decode at one thread against the section's threads (`one_thread_gain`), beside notebook 00's triad scaled the
    same way: decode that gains more from a second core than memory does is bound by arithmetic."""
    speedup, single = one_thread_gain(name, model, gaps, section)
    note = f"decode at 1 thread: {1 / np.median(single):.0f} tokens/s"
    cfg = config(name, model, section, stage="thread_scaling")
    rec.add("thread_speedup", speedup.value, "×", cfg, ci=(speedup.low, speedup.high), n=len(single), note=note)


def triad_scaling(section: GenerativeSection, rec: Recorder) -> None:
    """Notebook 00's triad at the section's threads over one thread: what a second core does for memory."""
    with contextlib.suppress(MissingResults):
        triad = memory_roof_gbps(section.llm_threads) / memory_roof_gbps(1)
        rec.add("thread_speedup", triad, "×", Config(threads=section.llm_threads, stage="triad"), note="notebook 00")


def measure_all(model: LanguageModel, section: GenerativeSection, shared: Shared, rec: Recorder) -> dict[str, dict]:
    """Every runtime of the section, one after another (each released before the next loads), with its roofline;
    what `compare` needs, by runtime."""
    measured = {}
    for name in section.runtimes:
        result = measure_runtime(name, model, section, shared, rec)
        with contextlib.suppress(MissingResults):  # `edgecloud measure` where notebook 00 never ran: no ceilings
            roofline(name, model, result, section, rec)
        result.pop("decoder")
        if name in section.scaling_runtimes and section.llm_threads > 1:
            thread_scaling(name, model, result["gaps"], section, rec)
        measured[name] = result
        rec.flush()
    if section.llm_threads > 1 and set(section.scaling_runtimes) & set(section.runtimes):
        triad_scaling(section, rec)
    return measured


def compare(
    measured: dict[str, dict], model: LanguageModel, section: GenerativeSection, shared: Shared, rec: Recorder
) -> None:
    """Each runtime's greedy answers and perplexity against the first runtime's, the reference."""
    reference = measured[section.runtimes[0]]
    for name in section.runtimes:
        quality(name, model, measured[name], reference, section, shared, rec)


def _timelines(arrivals: list[list[float]]) -> list[TokenTimeline]:
    return [TokenTimeline(tuple(range(len(a))), np.asarray(a)) for a in arrivals]


def measure_served(
    model: LanguageModel, section: GenerativeSection, shared: Shared, profiles: dict[str, dict], rec: Recorder
) -> None:
    """llama.cpp's OpenAI-compatible server on loopback, streamed through the `openai` client: the same prompts
    (as text) on loopback, over each emulated network path, and from several clients at once."""
    texts = generation.prompt_texts(model, section.prompt_tokens, section.warmup + section.requests)
    shape = model.shape()
    stream = {
        "model": model.name,
        "prompts": texts,
        "n_out": section.output_tokens,
        "eos": shape.eos,
        "warmup": section.warmup,
        "extra_body": GREEDY,
    }
    cfg = config("llama.cpp", model, section, target=LLM_SERVER, protocol="http", input_size=section.prompt_tokens)
    with LlamaServer(model, section.llm_threads, section.context) as server:
        loopback = token_stream.completions(server.url, **stream)
        timeline_rows(rec, cfg.with_(network="loopback"), _timelines(loopback), shared)
        chosen = {name: NetworkProfile.model_validate(profiles[name]) for name in section.served_profiles}
        paths = 1 + len(chosen)  # the baseline and each profile, each its own prompts
        spread = generation.prompt_texts(model, section.prompt_tokens, (1 + section.requests) * paths)
        over = emulation.emulate_streams(server.port, chosen, {**stream, "prompts": spread, "warmup": 1}, shared.seed)
        rng = np.random.default_rng(shared.seed)
        for name, arrivals in over.items():
            timeline_rows(rec, cfg.with_(network=name), _timelines(arrivals), shared)
            if name in chosen:  # what the network model says a first token pays: a request and a chunk each way
                net = network_time_ms(chosen[name], MSS_BYTES, MSS_BYTES, 2000, rng, idle_rtos=None)
                rec.add("network_p50", float(np.median(net)), "ms", cfg.with_(network=name), "modeled",
                        note="the request and the first chunk, each within one segment")  # fmt: skip
        k = section.served_concurrency
        wall, together = generation.concurrent_streams(server.url, stream, k)
        at_k = cfg.with_(network="loopback", concurrency=k)
        timeline_rows(rec, at_k, _timelines(together), shared)
        tokens = sum(len(a) for a in together)
        rec.add(
            "throughput",
            tokens / wall,
            "tokens/s",
            at_k,
            n=len(together),
            note=f"{k} clients streaming at once, {tokens} tokens in {wall:.2f} s",
        )


def measure_loadgen(model: LanguageModel, section: GenerativeSection, rec: Recorder) -> None:
    """MLPerf LoadGen Server runs with token latencies against llama.cpp's server, one per rate in
    generative.loadgen_qps: Poisson arrivals, TTFT and TPOT p99 held to the section's bounds, VALID or not as
    LoadGen says."""
    if not section.loadgen_qps:
        return
    texts = generation.prompt_texts(model, section.prompt_tokens, 32)
    bounds = (cited(section.ttft_bound).value, cited(section.tpot_bound).value)
    eos = model.shape().eos
    base = config("llama.cpp", model, section, target=LLM_SERVER, protocol="http", input_size=section.prompt_tokens,
                  network="loopback", scenario="loadgen-Server")  # fmt: skip
    with LlamaServer(model, section.llm_threads, section.context) as server:
        api = token_stream.client(server.url)

        def stream(index: int, first) -> int:
            answer = token_stream.completion(
                api, model.name, texts[index], section.output_tokens, eos, on_first=first, extra_body=GREEDY
            )
            return len(answer.arrivals)

        for qps in section.loadgen_qps:
            r = scenarios.run_token_server(
                stream, len(texts), qps, bounds, section.loadgen_duration_s, section.loadgen_queries, workers=4
            )
            cfg = base.with_(scale=qps)
            flags = dict(valid=r.valid, note=r.invalid_reason, source="MLPerf LoadGen summary (token latencies)")
            rec.add("loadgen_target_qps", qps, "queries/s", cfg, **flags)
            rec.add("loadgen_tokens_per_s", r.tokens_per_s, "tokens/s", cfg, **flags)
            for metric, got, bound in (("ttft", r.ttft_p50_ms, None), ("ttft", r.ttft_p99_ms, bounds[0]),
                                       ("tpot", r.tpot_p50_ms, None), ("tpot", r.tpot_p99_ms, bounds[1])):  # fmt: skip
                name = f"loadgen_{metric}_{'p99' if bound else 'p50'}"
                rec.add(name, got, "ms", cfg, **flags)
            rec.add("loadgen_bound", bounds[0], "ms", cfg.with_(stage="ttft"), **flags)
            rec.add("loadgen_bound", bounds[1], "ms", cfg.with_(stage="tpot"), **flags)


def measure_endpoint(model: LanguageModel, section: GenerativeSection, shared: Shared, rec: Recorder) -> None:
    """Any OpenAI-compatible endpoint (generative.llm_url), streamed the same way (the prompts are the measured
    model's texts); its key from llm_key_env."""
    if not section.llm_url:
        return
    texts = generation.prompt_texts(model, section.prompt_tokens, section.warmup + section.requests)
    arrivals = token_stream.completions(
        section.llm_url, section.llm_model, texts, section.output_tokens, None, section.warmup, section.llm_key_env
    )
    cfg = Config(model=section.llm_model, target=LLM_REMOTE, protocol="http", input_size=section.prompt_tokens)
    timeline_rows(rec, cfg, _timelines(arrivals), shared)


def decide(profiles: dict[str, dict], rec: Recorder) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model-size sweep and the generative use cases over every option (`decisions.generative`), from this
    run's measured rows; their decode rates, costs and recommendations recorded."""
    rows = rec.frame()
    memory_gb = psutil.virtual_memory().total / 1e9
    sweep = decisions.sweep(rows, memory_gb)
    for r in sweep.dropna(subset=["tokens_per_s"]).itertuples():
        kind = "measured" if r.kind == "measured" else "modeled"
        rec.add("decode_tokens_per_s", r.tokens_per_s, "tokens/s", Config(model=r.model, target=r.option), kind)
    rtt = {name: float(p["rtt_ms"]) for name, p in profiles.items()}
    cases = decisions.evaluate(rows, memory_gb, rtt, float(sourced("electricity_usd_kwh")))
    for r in cases.itertuples():
        cfg = Config(model=r.model, target=r.option, scenario=r.case)
        if r.usd_per_m_output is not None and r.usd_per_m_output == r.usd_per_m_output:
            kind = "sourced" if r.role == "api" else "modeled"
            rec.add("usd_per_million_tokens", r.usd_per_m_output, "USD/1M tokens", cfg, kind)
        if r.recommended:
            rec.add("recommendation", 1, "", cfg, "modeled", note=r.binding)
    return sweep, cases


def crossover(rows: pd.DataFrame, profiles: dict[str, dict]) -> tuple[float | None, str, str, str]:
    """The private assistant's answer length beyond which the hosted API (at its sourced bounds) finishes first, over
    the case's network, against this machine: (tokens or None, edge, cloud, network)."""
    case = catalogue.GENERATIVE_CASES["private-assistant"]
    shape = decisions.shapes(rows)[case["model"]]
    by_name = {o.name: o for o in decisions.options(rows, psutil.virtual_memory().total / 1e9)}
    edge = decisions.predict(by_name[decisions.THIS_MACHINE], shape, case["prompt_tokens"], case["output_tokens"])
    rtt = float(profiles[case["network"]]["rtt_ms"])
    cloud = decisions.predict(by_name["hosted-api"], shape, case["prompt_tokens"], case["output_tokens"], rtt)
    return decisions.crossover_tokens(edge, cloud), decisions.THIS_MACHINE, "hosted-api", case["network"]


def measure_everything(params: Params) -> Path:
    """`edgecloud measure`'s generative part: every runtime, the comparisons and the served stream, into one run of
    notebook 05 marked complete only when all finished (the roofline needs notebook 00's ceilings on this machine)."""
    section, shared = params.generative, params.shared
    rec = Recorder(NOTEBOOK, params.for_notebook(NOTEBOOK))
    model = language_model(section, shared)
    kv_cache(model, rec)
    compare(measure_all(model, section, shared, rec), model, section, shared, rec)
    measure_served(model, section, shared, params.measurements.model_dump()["network_profiles"], rec)
    measure_loadgen(model, section, rec)
    measure_endpoint(model, section, shared, rec)
    rec.complete()
    return rec.folder

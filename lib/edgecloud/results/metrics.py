"""Every metric the store holds, once: its name, unit(s), kind(s) and what it means.

Recording a metric that is not here, or in a unit or kind it does not take, is an error; the README's metric table
is generated from this (`python -m edgecloud metrics-table`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["measured", "modeled", "sourced"]
M, D, S = "measured", "modeled", "sourced"


@dataclass(frozen=True)
class Metric:
    """One metric: the units it is recorded in (the first is usual), the kinds it can be, and its meaning."""

    name: str
    units: tuple[str, ...]
    kinds: tuple[Kind, ...]
    description: str


def _m(name: str, unit: str | tuple[str, ...], kind: Kind | tuple[Kind, ...], description: str) -> Metric:
    return Metric(
        name,
        unit if isinstance(unit, tuple) else (unit,),
        kind if isinstance(kind, tuple) else (kind,),
        description,
    )


_LATENCY = tuple(
    _m(f"latency_{q}", "ms", (M, D), f"{what} of the request latency, with a block-bootstrap CI")
    for q, what in (("p50", "Median"), ("p90", "90th percentile"), ("p99", "99th percentile"), ("p99.9", "99.9th pct."))
)
_CHECKED = ("p50", "p90", "p99")

METRICS: tuple[Metric, ...] = (
    # 00 · the system under test
    _m("gemm_rate", "GFLOP/s", M, "fp32 MatMul rate of ONNX Runtime (MLAS) at the median call"),
    _m("gemm_rate_peak", "GFLOP/s", M, "fp32 MatMul rate of the fastest call: the compute ceiling"),
    _m("triad_bandwidth", "GB/s", M, "STREAM-style triad bandwidth at the median call"),
    _m("triad_bandwidth_peak", "GB/s", M, "STREAM-style triad bandwidth of the fastest call: the memory ceiling"),
    _m("isa_peak", "GFLOP/s", D, "fp32 peak from the cores, clock and vector width (ISA arithmetic)"),
    _m("timer_resolution", "ns", M, "Smallest step of the clock used for timing"),
    _m("measure_overhead", "ns", M, "Cost of the timing loop around an empty call"),
    # 01 · inference concepts
    *_LATENCY,
    _m("latency_mean", "ms", (M, D), "Mean request latency"),
    _m("load_time", "ms", M, "Cold start: loading the model"),
    _m("first_call", "ms", M, "Cold start: the first call after loading"),
    _m("model_size", "MB", M, "Bytes of the model file a runtime loads (or its fp32 weights)"),
    _m("max_abs_diff", "", M, "fp32 parity: largest absolute difference from eager PyTorch"),
    _m("top1_agreement", ("", "fraction"), M, "Share of inputs whose top-1 class matches fp32's"),
    _m("cosine_similarity", "", M, "Mean cosine similarity of outputs to fp32's"),
    _m("decision_agreement", "", M, "Share of inputs whose decision matches fp32's"),
    _m("top1_in_fp32_top5", "fraction", M, "Share of inputs whose top-1 class is among fp32's top 5"),
    _m("top1_agreement_confident", "fraction", M, "Top-1 agreement where fp32's top-1 probability is at least 0.4"),
    _m("confident_share", "fraction", M, "Share of inputs where fp32's top-1 probability is at least 0.4"),
    _m("accuracy", "fraction", M, "Accuracy on held-out labelled data"),
    _m("average_precision", "fraction", M, "Average precision on held-out labelled data (imbalanced classes)"),
    _m("speedup_vs_eager", "×", M, "p50 of eager fp32 over this configuration's, same threads, with its CI"),
    _m("p50_gap_to_runner_up", "ms", M, "A model's fastest configuration's p50 minus the runner-up's (in the note)"),
    _m("flops", "FLOP", M, "FLOPs of one sample (torch.utils.flop_counter)"),
    _m("parameters", "count", M, "Number of weights"),
    _m("output_bytes", "bytes", M, "Bytes of a model's raw output for one sample"),
    _m("answer_json_bytes", "bytes", M, "Bytes of the answer a client needs, as JSON"),
    _m("throughput", ("samples/s", "requests/s", "tokens/s"), M, "Work done per second"),
    # 02 · cloud and edge
    _m("payload_bytes", "bytes", M, "Bytes a request puts on the wire, protocol framing included"),
    _m("response_bytes", "bytes", M, "Bytes a response puts on the wire, protocol framing included"),
    _m("serving_overhead_p50", "ms", M, "Served p50 minus the same work in-process, with its CI"),
    _m("precision_cost_p50", "ms", M, "Served fp32 p50 minus served int8 p50, same server, requests alternating"),
    _m("stage_p50", "ms", M, "Median time of one stage of a served request (server timestamps)"),
    _m("mean_batch", "requests", M, "Mean batch the server formed under concurrent clients"),
    _m("failed_requests", "requests", M, "Requests that failed or timed out, by kind in the note"),
    _m("cpu_mean", "% of one core", M, "Mean CPU of a process during a run"),
    _m("cpu_peak", "% of one core", M, "Peak CPU of a process during a run"),
    _m("rss_peak", "MiB", M, "Peak resident memory of a process during a run"),
    _m("energy_per_inference", "J", (M, D), "Energy per inference (RAPL here; power × time for a device)"),
    _m("rtt", "ms", S, "A network profile's published round-trip time"),
    _m("propagation_floor", "ms", D, "Least RTT over the profile's distance of fiber"),
    _m("network_p50", "ms", D, "Median modeled network time of a request"),
    *(_m(f"emulated_{q}", "ms", M, f"End-to-end {q} over the packet-level emulated path") for q in _CHECKED),
    *(_m(f"modeled_{q}", "ms", D, f"End-to-end {q} from the network model over loopback samples") for q in _CHECKED),
    *(_m(f"model_error_{q}", "fraction", M, f"Network model {q} / emulated {q} − 1") for q in _CHECKED),
    _m("loadgen_p90", "ms", M, "MLPerf LoadGen's 90th percentile latency"),
    _m("loadgen_p99", "ms", M, "MLPerf LoadGen's 99th percentile latency"),
    _m("loadgen_samples_per_s", "samples/s", M, "MLPerf LoadGen's completed samples per second"),
    _m("loadgen_target_qps", "queries/s", M, "The query rate LoadGen was asked for"),
    _m("loadgen_bound", "ms", M, "The p99 bound a LoadGen Server run was held to (VALID needs it met)"),
    # 03 · use cases
    _m("device_factor", "×", (M, D), "A device's latency over this machine's for the same model family"),
    _m("latency_at_percentile", "ms", (M, D), "An option's latency at the use case's percentile, network included"),
    _m("latency_budget", "ms", D, "The use case's latency budget"),
    _m("margin", "fraction", (M, D), "How far inside (positive) or outside its binding requirement an option is"),
    _m("answered_within_budget", "fraction", D, "Share of requests answered within the budget"),
    _m("availability", "%", D, "Share of time an option answers, outages included"),
    _m("bytes_per_inference", "bytes", D, "Bytes a request moves over the network"),
    _m("served_samples_used", "count", M, "Served-path samples the measured cloud option's latency is drawn from"),
    _m("feasible_probability", "fraction", D, "Chance an option meets every requirement of a use case"),
    _m("capacity", "requests/s", (D, M), "Requests/s one device or instance of an option sustains for a use case"),
    _m("instances", "count", D, "Devices per site, or cloud instances for the fleet, sized to the peak"),
    _m("utilisation", "fraction", D, "A use case's peak demand over the capacity provisioned for it"),
    _m("usd_month_transfer", "USD/month", D, "Fees for moving a use case's inputs and answers on an option"),
    _m("response_bytes_used", "bytes", M, "Response bytes used for transfer cost"),
    _m("serving_overhead_used", "ms", M, "Serving overhead added to a served option"),
    _m("daily_volume", "inferences/day", D, "The use case's daily volume"),
    _m("monthly_cost", "USD/month", D, "An option's monthly cost at the use case's volume"),
    _m("cost_model", "", D, "A cost model's parameters (in the note)"),
    _m("cloud_curve", "requests/s", M, "Served throughput against concurrency, for cloud sizing"),
    _m("recommendation", "", D, "The recommended option of a use case (1 for the chosen one)"),
    _m("flip_point", "scale", D, "Scale of a parameter at which the recommendation changes"),
    _m("sweep", "scale", D, "A point of a sensitivity sweep"),
    _m("what_if", "× cloud speed", D, "What-if scaling of the cloud's speed"),
    _m("strategy_usd_month", "USD/month", D, "Monthly cost of a hybrid strategy"),
    # 04 · metrics analysis
    _m("per_million", "USD/1M", D, "Cost per million inferences"),
    _m("usd_per_million", "USD/1M", D, "Cost per million inferences of a target"),
    _m("tco", "USD", D, "Total cost of ownership at a month of the horizon"),
    _m("break_even", "months", D, "Month at which the edge's total cost falls below the cloud's"),
    _m("cascade_accuracy", "fraction", M, "Accuracy of the edge-then-cloud cascade at a threshold"),
    _m("cascade_offloaded", "fraction", M, "Share of inputs the cascade sends to the cloud"),
    _m("cascade_mean", "ms", M, "Mean cascade latency"),
    _m("cascade_p99", "ms", M, "99th percentile cascade latency"),
    _m("cascade_frontier", "", D, "Whether a threshold is on the accuracy/latency frontier (1) or not (0)"),
    _m("cascade_usd_per_million", "USD/1M", D, "Cost per million inferences of the cascade"),
    _m("split_bytes", "bytes", M, "Bytes of the tensor that crosses a split"),
    _m("split_predicted_p50", "ms", D, "Predicted p50 of a split"),
    _m("split_predicted_p90", "ms", D, "Predicted p90 of a split"),
    _m("split_measured_p50", "ms", M, "Measured p50 of a split"),
    _m("split_measured_p90", "ms", M, "Measured p90 of a split"),
    _m("split_best", "", D, "The best cut of a profile (its index)"),
    _m("split_change_bandwidth", "Mbit/s", D, "Bandwidth at which the best cut changes"),
    _m("serving_cost", "ms", M, "What serving costs per request of a split"),
    _m("published_context", ("ms", "samples/s", "queries/s"), (M, S), "A published ResNet-50 figure, or ours"),
    *(_m(f"p{q}_minus_edge", "ms", D, f"Cloud {q}th percentile minus the edge's") for q in ("50", "99")),
    _m("claim", "", (M, D, S), "A claim's verdict (its evidence figure in the value, verdict in the note)"),
    # 05 · generative inference
    _m("ttft", "ms", M, "Median time to first token of a streamed answer, with a block-bootstrap CI"),
    _m("ttft_p99", "ms", M, "99th percentile time to first token"),
    _m("tpot", "ms", M, "Median time per output token after the first ((end-to-end − TTFT) / (tokens − 1))"),
    _m("token_gap_p50", "ms", M, "Median gap between consecutive streamed tokens (every gap, not a mean)"),
    _m("token_gap_p99", "ms", M, "99th percentile gap between consecutive tokens: the stutter a reader sees"),
    _m("end_to_end", "ms", M, "Median time from the request to the last of its fixed number of tokens"),
    _m("tokens_per_s", "tokens/s", M, "Decode rate: 1 / TPOT at the median request"),
    _m("prefill_tokens_per_s", "tokens/s", M, "Prompt tokens per second of TTFT at a prompt length"),
    _m("prefill_gemm_share", "fraction", M, "Prefill's FLOP rate (2 × parameters per token) over the GEMM ceiling"),
    _m("gap_growth", "ms/1k tokens", M, "Growth of the token gap per thousand tokens of context (KV cache reads)"),
    _m("decode_roof", "tokens/s", D, "Memory-bandwidth roof of decode: triad peak / bytes read per token"),
    _m("decode_roof_share", "fraction", M, "Measured decode tokens/s over the memory-bandwidth roof"),
    _m("bytes_per_token", "MB", D, "Bytes one decode step reads: the weights plus the KV cache of the context"),
    _m("kv_bytes_per_token", "bytes", D, "KV cache bytes one token adds (keys and values, fp16, every layer)"),
    _m("token_agreement", "fraction", M, "Share of greedy tokens equal to fp32's at the same position"),
    _m("first_divergence", "tokens", M, "Median position at which a greedy answer first leaves fp32's"),
    _m("perplexity", "", M, "Perplexity on the shipped text, with a block-bootstrap CI"),
    _m("perplexity_ratio", "×", M, "Perplexity over fp32's on the same tokens, with a paired block-bootstrap CI"),
    _m("thread_speedup", "×", M, "Decode (or the triad) at the section's threads over one thread, with its CI"),
    _m("usd_per_million_tokens", "USD/1M tokens", (D, S), "Cost per million output tokens of a generative option"),
    _m("decode_tokens_per_s", "tokens/s", (M, D), "Decode rate of a model on an option (bandwidth physics)"),
    _m("loadgen_ttft_p50", "ms", M, "MLPerf LoadGen's median first-token latency (token-latency Server run)"),
    _m("loadgen_ttft_p99", "ms", M, "MLPerf LoadGen's 99th percentile first-token latency"),
    _m("loadgen_tpot_p50", "ms", M, "MLPerf LoadGen's median time per output token"),
    _m("loadgen_tpot_p99", "ms", M, "MLPerf LoadGen's 99th percentile time per output token"),
    _m("loadgen_tokens_per_s", "tokens/s", M, "MLPerf LoadGen's completed tokens per second"),
    # 06 · speech recognition
    _m("speech_latency", "ms", M, "Median time to transcribe one utterance of the recording, with its CI"),
    _m("encoder_time", "ms", M, "Median time of the speech encoder alone over its fixed 30-second window"),
    _m("encoder_fit", "ms", M, "Fixed cost of a transcription from a least-squares fit of latency on tokens"),
    _m("speech_token_time", "ms", M, "Cost of one decoded token from the same fit (its slope)"),
    _m("real_time_factor", "×", M, "Transcription time over the audio's duration (below 1 keeps up with speech)"),
    _m("wer", "fraction", M, "Word error rate against the shipped transcript, utterances resampled for its CI"),
    _m("wer_difference", "fraction", M, "WER minus the reference precision's on the same utterances (paired CI)"),
    _m("precision_speedup", "×", M, "Reference precision's median utterance latency over this one's, with its CI"),
    _m("speech_option_latency", "ms", (M, D), "An option's latency at a speech use case's length and percentile"),
)
BY_NAME = {m.name: m for m in METRICS}


class UnknownMetric(ValueError):
    """A metric, unit or kind that the registry does not have."""


def check(name: str, unit: str, kind: str) -> None:
    """Raise UnknownMetric unless the registry has the metric, in that unit and of that kind."""
    metric = BY_NAME.get(name)
    if metric is None:
        raise UnknownMetric(f"unknown metric {name!r}: add it to edgecloud/results/metrics.py")
    if unit not in metric.units:
        raise UnknownMetric(f"{name} is recorded in {', '.join(map(repr, metric.units))}, not {unit!r}")
    if kind not in metric.kinds:
        raise UnknownMetric(f"{name} is {' or '.join(metric.kinds)}, not {kind}")


def table() -> str:
    """The README's Markdown table of every metric."""
    rows = ["| metric | unit | kind | meaning |", "| --- | --- | --- | --- |"]
    for m in METRICS:
        units = ", ".join(f"`{u}`" for u in m.units if u) or "—"
        rows.append(f"| `{m.name}` | {units} | {', '.join(m.kinds)} | {m.description} |")
    return "\n".join(rows)

"""Load scenarios with MLPerf LoadGen: SingleStream (p90), Server (peak QPS under a p99 bound), Offline."""

from __future__ import annotations

import array
import math
import re
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import mlperf_loadgen as lg

from edgecloud.params import LoadGen

SCENARIOS = {
    "SingleStream": lg.TestScenario.SingleStream,
    "Server": lg.TestScenario.Server,
    "Offline": lg.TestScenario.Offline,
}


@dataclass(frozen=True)
class LoadGenResult:
    """LoadGen's own summary of one run, with the fields the report uses parsed out."""

    scenario: str
    target_qps: float | None
    valid: bool
    result: str
    samples_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    summary: str
    mean_ms: float = float("nan")
    latencies_ms: tuple[float, ...] = ()  # every query's latency from LoadGen's trace, when the run was traced
    # when LoadGen issued each query (time.perf_counter s, in order): its schedule, which it draws from a fixed seed,
    # so every run at one rate sends the same arrivals
    issued_s: tuple[float, ...] = ()

    @property
    def invalid_reason(self) -> str:
        """Why LoadGen called the run INVALID, in its own words (empty when VALID)."""
        return "" if self.valid else invalid_reason(self.summary)


CHECKS = {
    "Performance constraints satisfied": "latency bound not met",
    "Min duration satisfied": "shorter than min_duration",
    "Min queries satisfied": "fewer queries than min_query_count",
    "Early stopping satisfied": "too few queries for early stopping",
}


def failed_checks(text: str) -> list[str]:
    """The checks a LoadGen summary reports as not satisfied, in our words."""
    return [label for check, label in CHECKS.items() if re.search(rf"^\s*{re.escape(check)}\s*:\s*NO", text, re.M)]


def queries_short(text: str) -> int | None:
    """LoadGen's early-stopping estimate of the queries a run still needed, when it gives one."""
    more = re.search(r"Would need to run at least (\d+) more queries", text)
    return int(more.group(1)) if more else None


def invalid_reason(text: str) -> str:
    """The failed checks of a LoadGen summary, plus its early-stopping estimate of the queries still needed."""
    failed, more = failed_checks(text), queries_short(text)
    if more:
        failed.append(f"early stopping needs {more} more queries")
    return "; ".join(failed) or "INVALID (no failed check named in the summary)"


def parse_summary(scenario: str, text: str, target_qps: float | None = None) -> LoadGenResult:
    """Read mlperf_log_summary.txt: validity, throughput and latency percentiles (ns → ms)."""

    def number(label: str) -> float:
        match = re.search(rf"^{re.escape(label)}\s*:\s*([\d.eE+-]+)", text, re.M)
        return float(match.group(1)) if match else float("nan")

    result = re.search(r"^Result is\s*:\s*(\w+)", text, re.M)
    rate = number("Scheduled samples per second") if scenario == "Server" else number("Samples per second")
    if scenario == "SingleStream" and rate != rate:
        rate = number("QPS w/o loadgen overhead")
    return LoadGenResult(
        scenario,
        target_qps,
        bool(result and result.group(1) == "VALID"),
        result.group(1) if result else "missing",
        rate,
        number("50.00 percentile latency (ns)") / 1e6,
        number("90.00 percentile latency (ns)") / 1e6,
        number("99.00 percentile latency (ns)") / 1e6,
        text,
        number("Mean latency (ns)") / 1e6,
    )


EARLY_STOPPING_MAX_S = 6.0  # the longest Server run the search makes to satisfy LoadGen's early stopping
OFFLINE_HEADROOM = 1.25  # LoadGen's advice for "Min duration satisfied: NO" is a higher expected QPS


SAMPLE_LATENCY = re.compile(r'"name":"Sample".*?"complete_ns":(\d+)')


def trace_latencies_ms(trace: str) -> tuple[float, ...]:
    """Every sample's latency (ms, from its scheduled time, as LoadGen measures it) in LoadGen's trace JSON."""
    return tuple(int(ns) / 1e6 for ns in SAMPLE_LATENCY.findall(trace))


def _run(
    settings, serve: Callable[[int, int], None], sample_count: int, workers: int, what: str, trace: bool = False
) -> tuple[str, tuple[float, ...], tuple[float, ...]]:
    """Run LoadGen with serve(query_id, sample_index) on `workers` threads (never LoadGen's): serve must complete its
    query even when it fails, since LoadGen waits forever for one never completed. Returns LoadGen's summary text,
    with `trace` every query's latency from its trace, and when each query was issued; RuntimeError naming the first
    failure when any query failed."""
    pool = ThreadPoolExecutor(max_workers=workers)
    errors: list[Exception] = []
    issued: list[float] = []

    def guarded(query_id: int, index: int) -> None:
        try:
            serve(query_id, index)
        except Exception as e:
            errors.append(e)

    def issue(queries: list) -> None:
        issued.extend([time.perf_counter()] * len(queries))
        for q in queries:
            pool.submit(guarded, q.id, q.index)

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(sample_count, sample_count, lambda _: None, lambda _: None)
    with tempfile.TemporaryDirectory(prefix="loadgen-") as out:
        log = lg.LogSettings()
        log.log_output.outdir = out
        log.log_output.copy_summary_to_stdout = False
        log.enable_trace = trace
        try:
            lg.StartTestWithLogSettings(sut, qsl, settings, log)
        finally:
            pool.shutdown(wait=True)
            lg.DestroyQSL(qsl)
            lg.DestroySUT(sut)
        text = (Path(out) / "mlperf_log_summary.txt").read_text()
        latencies = trace_latencies_ms((Path(out) / "mlperf_log_trace.json").read_text()) if trace else ()
    if errors:
        raise RuntimeError(f"{len(errors)} LoadGen {what} queries failed; first: {errors[0]!r}") from errors[0]
    return text, latencies, tuple(issued)


def run_scenario(
    infer: Callable[[int], object],
    sample_count: int,
    scenario: str,
    cfg: LoadGen,
    expected_latency_s: float,
    target_qps: float | None = None,
    workers: int = 1,
    expected_qps: float | None = None,
    trace: bool = False,
) -> LoadGenResult:
    """One LoadGen performance run; infer(sample_index) serves a query, on `workers` threads (never LoadGen's).
    With `trace`, LoadGen also writes its trace, and every query's latency is read from it.

    expected_qps sizes the Offline query (LoadGen issues expected_qps × min_duration samples at once), with
    OFFLINE_HEADROOM so a system a little faster than expected still runs past min_duration.
    """
    settings = lg.TestSettings()
    settings.scenario = SCENARIOS[scenario]
    settings.mode = lg.TestMode.PerformanceOnly
    settings.min_duration_ms = int(cfg.min_duration_s * 1000)
    settings.min_query_count = cfg.min_query_count
    settings.single_stream_expected_latency_ns = max(1, int(expected_latency_s * 1e9))
    settings.offline_expected_qps = max(1.0, OFFLINE_HEADROOM * (expected_qps or 1.0 / expected_latency_s))
    settings.server_target_qps = target_qps or 1.0
    settings.server_target_latency_ns = int(cfg.server_latency_bound_ms * 1e6)

    def serve(query_id: int, index: int) -> None:
        try:
            infer(index)
        finally:
            lg.QuerySamplesComplete([lg.QuerySampleResponse(query_id, 0, 0)])

    text, latencies, issued = _run(settings, serve, sample_count, workers, scenario, trace)
    return replace(parse_summary(scenario, text, target_qps), latencies_ms=latencies, issued_s=issued)


def server_search(
    infer: Callable[[int], object],
    sample_count: int,
    cfg: LoadGen,
    expected_latency_s: float,
    offline_qps: float,
    workers: int = 1,
    single_stream_qps: float | None = None,
) -> list[LoadGenResult]:
    """Bisect the Server target QPS between 0 and the measured Offline rate (no system serves more than it), starting
    from the measured SingleStream rate: a rate whose p99 (from scheduled time) meets the bound raises the floor,
    one that misses lowers the ceiling. The headline is the highest VALID run that met the bound (the caller's)."""
    low, high = 0.0, offline_qps
    qps = min(single_stream_qps or offline_qps / 2, offline_qps)
    runs = []
    for _ in range(cfg.server_search_steps):
        runs += server_runs(infer, sample_count, cfg, expected_latency_s, qps, workers)
        r = runs[-1]
        if r.p99_ms <= cfg.server_latency_bound_ms:
            low = qps
        else:
            high = qps
        qps = (low + high) / 2
    return runs


def capacity_ladder(
    infer: Callable[[int], object],
    sample_count: int,
    cfg: LoadGen,
    expected_latency_s: float,
    offline_qps: float,
    workers: int = 1,
) -> list[LoadGenResult]:
    """Server runs at fixed fractions of the Offline rate, each long enough for LoadGen's early stopping at a p99 and
    held to a generous bound, so that VALID means enough queries; the caller holds each p99 to its own budget. Each
    run is traced: its per-query latencies are the latency-vs-rate curve."""
    run_cfg = cfg.model_copy(
        update={"min_query_count": cfg.capacity_queries, "server_latency_bound_ms": cfg.capacity_bound_ms}
    )
    return [
        r
        for f in sorted(cfg.capacity_fractions)
        for r in server_runs(infer, sample_count, run_cfg, expected_latency_s, f * offline_qps, workers, trace=True)
    ]


def server_runs(
    infer: Callable[[int], object],
    sample_count: int,
    cfg: LoadGen,
    expected_latency_s: float,
    qps: float,
    workers: int,
    trace: bool = False,
) -> list[LoadGenResult]:
    """A Server run at qps, then a longer one when only LoadGen's early stopping lacked queries (`long_enough`)."""
    r = run_scenario(infer, sample_count, "Server", cfg, expected_latency_s, qps, workers, trace=trace)
    longer = long_enough(r, cfg)
    if longer is None:
        return [r]
    return [r, run_scenario(infer, sample_count, "Server", longer, expected_latency_s, qps, workers, trace=trace)]


def long_enough(r: LoadGenResult, cfg: LoadGen) -> LoadGen | None:
    """cfg with the queries LoadGen's early stopping asked for (10% spare), when that alone made a Server run INVALID
    and the longer run stays under EARLY_STOPPING_MAX_S; otherwise None."""
    more = queries_short(r.summary)
    if r.valid or more is None or failed_checks(r.summary) != [CHECKS["Early stopping satisfied"]]:
        return None
    queries = math.ceil((max(cfg.min_query_count, r.target_qps * cfg.min_duration_s) + more) * 1.1)
    if queries / r.target_qps > EARLY_STOPPING_MAX_S:
        return None
    return cfg.model_copy(update={"min_query_count": queries})


@dataclass(frozen=True)
class TokenLoadGenResult:
    """LoadGen's summary of one Server run with token latencies: first-token and per-output-token percentiles."""

    target_qps: float
    valid: bool
    result: str
    tokens_per_s: float
    ttft_p50_ms: float
    ttft_p99_ms: float
    tpot_p50_ms: float
    tpot_p99_ms: float
    summary: str

    @property
    def invalid_reason(self) -> str:
        return "" if self.valid else invalid_reason(self.summary)


def parse_token_summary(text: str, target_qps: float) -> TokenLoadGenResult:
    """Read a token-latency Server summary: validity, completed tokens/s, TTFT and TPOT percentiles (ns → ms)."""

    def number(label: str) -> float:
        match = re.search(rf"^{re.escape(label)}\s*:\s*([\d.eE+-]+)", text, re.M)
        return float(match.group(1)) if match else float("nan")

    result = re.search(r"^Result is\s*:\s*(\w+)", text, re.M)
    return TokenLoadGenResult(
        target_qps,
        bool(result and result.group(1) == "VALID"),
        result.group(1) if result else "missing",
        number("Completed tokens per second"),
        number("50.00 percentile first token latency (ns)") / 1e6,
        number("99.00 percentile first token latency (ns)") / 1e6,
        number("50.00 percentile time to output token (ns)") / 1e6,
        number("99.00 percentile time to output token (ns)") / 1e6,
        text,
    )


def _respond(query_id: int, tokens: int, first: bool) -> None:
    """Tell LoadGen a query's first token arrived (first=True) or that it finished with that many tokens."""
    data = array.array("q", [0] * max(1, tokens))
    address, n = data.buffer_info()
    if first:
        lg.FirstTokenComplete([lg.QuerySampleResponse(query_id, address, n * data.itemsize)])
    else:
        lg.QuerySamplesComplete([lg.QuerySampleResponse(query_id, address, n * data.itemsize, tokens)])


def run_token_server(
    stream: Callable[[int, Callable[[], None]], int],
    sample_count: int,
    target_qps: float,
    bounds_ms: tuple[float, float],
    min_duration_s: float,
    min_query_count: int,
    workers: int,
) -> TokenLoadGenResult:
    """One LoadGen Server run with token latencies (MLPerf's LLM rules): stream(sample_index, first_token) serves a
    query, calls first_token() when its first token arrives, and returns how many tokens it produced; bounds_ms are
    the TTFT and TPOT p99 bounds."""
    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Server
    settings.mode = lg.TestMode.PerformanceOnly
    settings.min_duration_ms = int(min_duration_s * 1000)
    settings.min_query_count = min_query_count
    settings.server_target_qps = target_qps
    settings.use_token_latencies = True
    settings.ttft_latency = int(bounds_ms[0] * 1e6)
    settings.tpot_latency = int(bounds_ms[1] * 1e6)

    def serve(query_id: int, index: int) -> None:
        told, tokens = [], 0

        def first() -> None:
            told.append(True)
            _respond(query_id, 1, first=True)

        try:
            tokens = stream(index, first)
        finally:
            if not told:
                _respond(query_id, 1, first=True)
            _respond(query_id, tokens, first=False)

    text, _, _ = _run(settings, serve, sample_count, workers, "token")
    return parse_token_summary(text, target_qps)

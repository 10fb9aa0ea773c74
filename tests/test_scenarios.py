"""MLPerf LoadGen: a run on a tiny model completes and its summary lands in the results table."""

from __future__ import annotations

import re
import threading
import time

from edgecloud.models import get_model
from edgecloud.params import LoadGen
from edgecloud.runtimes import load_session
from edgecloud.scenarios import capacity_ladder, parse_summary, run_scenario, server_search

CFG = LoadGen(min_duration_s=0.2, min_query_count=16, server_latency_bound_ms=15.0, server_search_steps=2)


def _digits():
    session = load_session(get_model("digits_cnn"), "ort", "fp32", 1)
    inputs = [session.model.inputs(1, offset=i) for i in range(8)]
    return lambda i: session.run(inputs[i])


def test_single_stream_and_offline_complete_and_parse() -> None:
    infer = _digits()
    single = run_scenario(infer, 8, "SingleStream", CFG, 1e-4)
    assert f"Result is : {single.result}" in single.summary  # the verdict is LoadGen's own, read from its summary
    assert 0 < single.p90_ms < 100 and single.samples_per_s > 0
    offline = run_scenario(infer, 8, "Offline", CFG, 1e-4)
    assert offline.samples_per_s > 0
    assert (single.invalid_reason == "") == single.valid


def _fixed_service(seconds: float):
    """A system of known capacity: one query at a time, each holding the CPU for `seconds` (1 / seconds per s)."""
    lock = threading.Lock()

    def infer(_: int) -> None:
        with lock:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                pass

    return infer


def test_server_search_moves_up_after_a_pass_and_down_after_a_miss() -> None:
    cfg = LoadGen(min_duration_s=0.3, min_query_count=16, server_latency_bound_ms=15.0, server_search_steps=4)
    runs = server_search(_fixed_service(0.004), 8, cfg, 0.004, offline_qps=250.0, workers=1, single_stream_qps=240.0)
    steps = [
        r for r, then in zip(runs, [*runs[1:], None], strict=True) if then is None or then.target_qps != r.target_qps
    ]
    qps = [r.target_qps for r in steps]  # a run repeated longer for early stopping counts once, as its repeat
    assert qps[0] == 240.0  # starts from the measured SingleStream rate, within the Offline bracket
    for before, after, r in zip(qps, qps[1:], steps, strict=False):
        met = r.p99_ms <= cfg.server_latency_bound_ms
        assert (after > before) == met, f"{before} → {after} after p99 {r.p99_ms:.1f} ms"
    passing = [r.target_qps for r in runs if r.p99_ms <= cfg.server_latency_bound_ms]
    assert all(q < 250.0 for q in passing)  # never above what the system can serve


def test_parse_summary_reads_validity_and_latencies() -> None:
    text = (
        "Scenario : Server\nResult is : INVALID\nScheduled samples per second : 120.5\n"
        "50.00 percentile latency (ns)   : 2000000\n90.00 percentile latency (ns)   : 4000000\n"
        "99.00 percentile latency (ns)   : 9000000\n"
    )
    r = parse_summary("Server", text, 120.0)
    assert (r.valid, r.result, r.samples_per_s, r.p50_ms, r.p90_ms, r.p99_ms) == (
        False,
        "INVALID",
        120.5,
        2.0,
        4.0,
        9.0,
    )


def test_offline_stays_valid_when_the_system_is_a_little_faster_than_expected() -> None:
    cfg = LoadGen(min_duration_s=0.3, min_query_count=16, server_latency_bound_ms=15.0)
    # 2 ms per sample is 500/s; expect 450/s, as when the SingleStream estimate runs 10% slow
    offline = run_scenario(_fixed_service(0.002), 8, "Offline", cfg, 0.002, expected_qps=450.0)
    assert offline.valid, offline.invalid_reason


def test_a_server_run_short_only_of_early_stopping_queries_is_run_again_long_enough() -> None:
    cfg = LoadGen(min_duration_s=0.3, min_query_count=16, server_latency_bound_ms=15.0, server_search_steps=1)
    # 1 ms per query at 300 queries/s meets the bound easily, but 90 queries are too few for LoadGen's p99 estimate
    runs = server_search(_fixed_service(0.001), 8, cfg, 0.001, offline_qps=1000.0, single_stream_qps=300.0)
    first, again = runs
    assert not first.valid and first.invalid_reason.startswith("too few queries for early stopping")
    assert again.target_qps == first.target_qps and again.valid, again.invalid_reason


def test_a_capacity_run_short_only_of_early_stopping_queries_is_run_again_long_enough() -> None:
    cfg = LoadGen(min_duration_s=0.1, min_query_count=16, capacity_fractions=[0.6], capacity_queries=16)
    first, again = capacity_ladder(_fixed_service(0.001), 8, cfg, 0.001, offline_qps=1000.0)
    assert not first.valid and first.invalid_reason.startswith("too few queries for early stopping")
    assert again.target_qps == first.target_qps == 600.0 and again.valid, again.invalid_reason
    for r in (first, again):  # every query's latency from LoadGen's trace agrees with its min, max and mean
        summary = {k: float(v) / 1e6 for k, v in re.findall(r"^(M\w+) latency \(ns\)\s*:\s*(\d+)", r.summary, re.M)}
        assert len(r.latencies_ms) >= cfg.min_query_count
        assert (min(r.latencies_ms), max(r.latencies_ms)) == (summary["Min"], summary["Max"])
        assert abs(sum(r.latencies_ms) / len(r.latencies_ms) - summary["Mean"]) < 1e-3

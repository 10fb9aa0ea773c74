"""Generative inference: token timing, the llama.cpp runtime and its server, streaming checks, and the physics that
scales decode across devices. Real runtimes where they matter (llama.cpp loads the shipped file in a second)."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edgecloud import catalogue, generation
from edgecloud.decisions import generative as decisions
from edgecloud.models import llm
from edgecloud.network import token_stream
from edgecloud.params import Params, ParamsError, load_params
from edgecloud.runtimes import decoding
from edgecloud.timing import TokenTimeline, clock_stream

llama_cpp = pytest.importorskip("llama_cpp")


def test_a_timeline_keeps_every_gap_and_defines_tpot_after_the_first_token() -> None:
    arrivals = np.array([0.5, 0.51, 0.52, 1.52, 1.53])
    t = TokenTimeline((1, 2, 3, 4, 5), arrivals)
    assert t.ttft == 0.5
    assert np.allclose(t.gaps, [0.01, 0.01, 1.0, 0.01])  # the stall stays visible: not averaged away
    assert t.tpot == pytest.approx((1.53 - 0.5) / 4)


def test_a_stall_shows_in_the_p99_gap_not_only_in_the_mean(tmp_path) -> None:
    from edgecloud.experiments.generative import timeline_rows
    from edgecloud.results.store import Config, Recorder

    steady = np.cumsum(np.full(50, 0.01))
    stalled = steady.copy()
    stalled[25:] += 0.5  # a 500 ms stall in two of three answers: 2 of 147 gaps
    timelines = [TokenTimeline(tuple(range(50)), a) for a in (steady, stalled, stalled)]
    rec = Recorder("05-generative-inference", root=tmp_path)
    timeline_rows(rec, Config(model="m", runtime="r"), timelines, Params().shared)
    rows = rec.frame().set_index("metric")["value"]
    assert rows["token_gap_p50"] == pytest.approx(10, rel=0.01)
    assert rows["token_gap_p99"] > 100  # a mean of the gaps (16.8 ms) would hide the stalls


def test_clock_stream_times_each_token_from_the_call_that_starts_it() -> None:
    def stream():
        yield from (7, 8, 9)

    t = clock_stream(stream)
    assert t.tokens == (7, 8, 9) and len(t.arrivals) == 3 and np.all(np.diff(t.arrivals) >= 0)
    with pytest.raises(RuntimeError, match="without a token"):
        clock_stream(lambda: iter(()))


def test_prompts_are_distinct_windows_so_no_request_shares_a_prefix() -> None:
    ids = tuple(range(1000))
    found = generation.windows(ids, 64, 8)
    assert all(len(p) == 64 for p in found) and len({p[0] for p in found}) == 8
    with pytest.raises(ValueError, match="too few"):
        generation.windows(ids, 990, 20)


@pytest.fixture(scope="module")
def llama():

    return decoding.get("llama.cpp").load(llm.get(llm.NAME), threads=2, context=512)


def test_llama_cpp_first_token_is_prefill_not_the_previous_requests_cache(llama) -> None:
    """llama-cpp-python reuses a matching prefix of the last request; a repeated prompt's TTFT must still be a
    prefill (a cached one is 10-30x shorter)."""
    prompt = list(range(1000, 1128))  # 128 tokens
    for _ in llama.stream(prompt, 2):  # warm
        pass
    first = clock_stream(lambda: llama.stream(prompt, 2)).ttft
    again = clock_stream(lambda: llama.stream(prompt, 2)).ttft
    assert again > 0.5 * first, f"repeated prompt TTFT {again * 1e3:.1f} ms vs {first * 1e3:.1f} ms: cache reused"


def test_llama_cpp_decodes_exactly_the_asked_number_of_greedy_tokens(llama) -> None:
    prompt = list(range(2000, 2016))
    first, second = tuple(llama.stream(prompt, 12)), tuple(llama.stream(prompt, 12))
    assert len(first) == 12 and first == second  # greedy: the same answer twice


def test_llama_cpp_evaluates_a_batched_prompt_without_crashing() -> None:
    """Native builds of llama.cpp have crashed on batched prompt evaluation on some CPUs: a child process evaluates
    a 200-token prompt in one batch, so a crash fails this test instead of killing the suite."""
    code = (
        "from edgecloud.runtimes.llama_cpp import open_model\n"
        "from edgecloud.models import llm\n"
        "m = open_model(llm.get(llm.NAME), 2, 512)\n"
        "m.eval(list(range(3000, 3200)))\n"
        "print(m.n_tokens)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-1000:]}"
    assert done.stdout.strip().endswith("200")


def test_the_server_loads_the_model_as_in_process_llama_cpp_does() -> None:
    """The served and in-process TTFTs compare only if both load the model alike: read the server's command line
    with llama_cpp.server's own parser (its default logits_all=True computes logits at every prompt position)."""
    import argparse

    from llama_cpp.server.cli import add_args_from_model, parse_model_from_args
    from llama_cpp.server.settings import ModelSettings, Settings

    from edgecloud.llm_serving import LlamaServer
    from edgecloud.runtimes.llama_cpp import settings

    model = llm.get(llm.NAME)
    parser = argparse.ArgumentParser()
    add_args_from_model(parser, Settings)
    served = parse_model_from_args(ModelSettings, parser.parse_args(LlamaServer(model, 2, 512).command()[3:]))
    for key, value in settings(model, 2, 512).items():
        assert getattr(served, "model" if key == "model_path" else key) == value, key


def _client_ports(port: int) -> set[int]:
    """Local ports of this machine's connections to port, in any state (open, closing, TIME_WAIT)."""
    import psutil

    return {c.laddr.port for c in psutil.net_connections("tcp") if c.raddr and c.raddr.port == port}


def test_the_server_streams_token_by_token_and_stops_with_its_process(llama) -> None:
    import psutil

    from edgecloud.llm_serving import GREEDY, LlamaServer

    model = llm.get(llm.NAME)
    with LlamaServer(model, threads=2, context=512) as server:
        pid = server.process.pid
        api = token_stream.client(server.url)
        t = token_stream.completion(api, "smollm2-135m", "The lighthouse keeper wrote", 12, eos=2)
        assert len(t.arrivals) >= 11 and t.arrivals[-1] - t.arrivals[0] > 0.01  # spread over time, not one lump
        here, served = generation.side_by_side(llama, server.url, model, generation.prompts(model, 16, 3), 4, 1)
        assert [len(t.arrivals) for t in here + served] == [4] * 4  # two pairs after one warm pair
        # the same work on both sides: the server's default repeat penalty (1.1) rewrites this answer by token 6
        prompt = generation.prompts(model, 64, 4)[1]
        here, served = generation.side_by_side(llama, server.url, model, [prompt], 24, 0, GREEDY)
        assert served[0].text == generation.tokenizer(model).decode(here[0].tokens)
        # a series of answers shares one connection: closing one per answer makes each first token pay a handshake
        before = _client_ports(server.port)
        texts = [generation.tokenizer(model).decode(p) for p in generation.prompts(model, 16, 3)]
        assert len(token_stream.completions(server.url, model.name, texts, 4, 2, 1, extra_body=GREEDY)) == 2
        assert len(_client_ports(server.port) - before) == 1
        # endpoints that take turns never send one prompt twice in a row: the server would answer it from its cache
        texts = [generation.tokenizer(model).decode(p) for p in generation.prompts(model, 64, 4)]
        found = token_stream.interleaved_completions({"a": server.url, "b": server.url}, model.name, texts, 2, 2, 0)
        ttft = [answer[0] for answers in found.values() for answer in answers]
        assert len(ttft) == 4 and min(ttft) > 0.5 * max(ttft)  # every one a 64-token prefill, none a cache hit
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_loadgen_times_the_served_models_first_token_apart_and_says_why_a_short_run_is_invalid(tmp_path) -> None:
    from edgecloud.experiments.generative import measure_loadgen
    from edgecloud.results import generative_tables
    from edgecloud.results.store import Recorder
    from edgecloud.sentences import generative as sentences

    changes = {"loadgen_qps": [2.0], "loadgen_queries": 6, "loadgen_duration_s": 0.5, "prompt_tokens": 16,
               "output_tokens": 6}  # fmt: skip
    rec = Recorder("05-generative-inference", root=tmp_path)
    measure_loadgen(llm.get(llm.NAME), Params().generative.model_copy(update=changes), rec)
    row = generative_tables.token_loadgen(rec.frame()).iloc[0]
    assert row["TTFT p99 ms"] >= row["TTFT p50 ms"] > 0 and row["tokens/s"] > 0
    assert row["TPOT p50 ms"] > 1  # had the first token been reported with the last, the rest would take no time
    assert (row["TTFT bound ms"], row["TPOT bound ms"]) == (2000, 100)
    assert not row["valid"] and "early stopping" in row["why not"]
    assert "INVALID" in sentences.token_loadgen(generative_tables.token_loadgen(rec.frame()))


class _Buffering(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that generates the whole answer with llama.cpp, then sends every chunk at once
    (as a proxy that buffers server-sent events does)."""

    model = None

    def do_POST(self) -> None:
        import json

        n = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["max_tokens"]
        self.model.reset()
        tokens = self.model.generate(list(range(500, 532)), top_k=1, temp=0.0)
        answer = [t for _, t in zip(range(n), tokens, strict=False)]
        chunks = [
            json.dumps({"id": "x", "object": "text_completion", "created": 0, "model": "m",
                        "choices": [{"index": 0, "text": f"t{t}"}]})
            for t in answer
        ]  # fmt: skip
        body = "".join(f"data: {c}\n\n" for c in chunks) + "data: [DONE]\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


def test_an_endpoint_that_buffers_its_answer_is_refused(llama) -> None:
    _Buffering.model = llama.llama
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Buffering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = token_stream.client(f"http://127.0.0.1:{server.server_port}/v1")
        with pytest.raises(token_stream.StreamError, match="buffers its answer"):
            token_stream.completion(api, "m", "hello", 16, None)
    finally:
        server.shutdown()


def test_an_llm_url_that_refuses_connections_is_named_with_its_key() -> None:
    from edgecloud import preflight
    from edgecloud.serving import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    params = Params.model_validate({"generative": {"llm_url": url}})
    found = preflight.problems(params, "p.yaml", timeout_s=2)
    assert found == [f"p.yaml: generative.llm_url: {url!r} refuses connections"]


def test_an_unknown_generative_runtime_is_refused_naming_the_choices(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("generative: {runtimes: [vllm]}\n")
    with pytest.raises(ParamsError, match=r"p.yaml: generative.runtimes.*'vllm'.*llama.cpp"):
        load_params(path)


# --- the physics that scales decode across devices ------------------------------------------------------------


def _rows() -> pd.DataFrame:
    """Notebook 05's rows that the decisions read, as this machine might measure them."""
    base = {"model": "smollm2-135m", "runtime": "llama.cpp", "target": "in-process", "input_size": pd.NA}
    values = [
        ("parameters", 134515008, {"runtime": None, "target": None}),
        ("kv_bytes_per_token", 23040.0, {"runtime": None, "target": None}),
        ("tokens_per_s", 60.0, {"input_size": 64}),
        ("bytes_per_token", 100.0, {}),
        ("model_size", 98.4, {}),
        ("prefill_tokens_per_s", 200.0, {"input_size": 256}),
    ]
    return pd.DataFrame([{**base, "metric": m, "value": v, **more} for m, v, more in values])


def test_a_device_figure_for_one_model_reaches_another_only_through_bytes_per_token() -> None:
    """Jetson's published SmolLM2-135M rate is not Llama 8B's: the 8B rate is the same bandwidth over 8B's bytes."""
    shapes = decisions.shapes(_rows())
    jetson = next(o for o in decisions.options(_rows(), 24.0) if o.name == "jetson-orin-nano-super")
    small = decisions.predict(jetson, shapes["smollm2-135m"], 512, 256)
    big = decisions.predict(jetson, shapes["llama-3.2-3b"], 512, 256)
    ratio = shapes["llama-3.2-3b"].bytes_per_token(640) / shapes["smollm2-135m"].bytes_per_token(640)
    assert big.tpot_ms / small.tpot_ms == pytest.approx(ratio)
    assert not decisions.predict(jetson, shapes["llama-3.1-70b"], 512, 256).fits  # 40 GB of weights in 8 GB


def test_the_raspberry_pis_two_published_rates_agree_on_one_bandwidth() -> None:
    first, second = decisions.bandwidth_check(catalogue.GENERATIVE_DEVICES["raspberry-pi-5"])
    assert first == pytest.approx(second, rel=0.15)


def test_the_cloud_wins_on_long_answers_only_when_it_decodes_faster() -> None:
    edge = decisions.Prediction("e", "m", True, ttft_ms=100, tpot_ms=50, kind="modeled")
    cloud = decisions.Prediction("c", "m", True, ttft_ms=600, tpot_ms=10, kind="sourced")
    assert decisions.crossover_tokens(edge, cloud) == pytest.approx(12.5)  # 600 + 12.5·10 = 100 + 12.5·50
    assert decisions.crossover_tokens(cloud, edge) is None


def test_generative_cases_recommend_only_options_that_meet_every_budget() -> None:
    rtt = {"home-wifi": 20.0, "cross-country": 72.0}
    evaluated = decisions.evaluate(_rows(), 24.0, rtt, 0.16)
    chosen = evaluated[evaluated.recommended]
    assert set(chosen.case) <= set(catalogue.GENERATIVE_CASES) and chosen.feasible.all()
    assert (chosen.ttft_ms <= chosen.ttft_budget_ms).all() and (chosen.tpot_ms <= chosen.tpot_budget_ms).all()
    phone = evaluated[evaluated.option == "phone-oneplus-12"]
    unknown = phone[~phone.binding.str.startswith("memory")]
    assert not phone.feasible.any() and unknown.binding.str.contains("unknown").all() and len(unknown)  # no prefill
    missed = evaluated[~evaluated.feasible & evaluated.binding.str.match("(TTFT|TPOT): [0-9]")]
    assert len(missed) and missed.binding.str.contains(r" ms against [0-9,.]+ ms \([0-9,.]+× the budget\)").all()
    big = evaluated[evaluated.model == "llama-3.1-70b"]
    assert not big[big.role == "edge"].feasible.any()  # 40 GB of weights fit no edge device
    assert big[big.option == "cloud-h100"].usd_per_m_output.notna().all()  # priced from the 70B run, not the 8B


def test_a_cloud_gpu_serves_a_model_only_from_a_published_run_at_least_its_size() -> None:
    """A smaller model of the family is bounded by a larger one's run; a model past the largest run is not modeled."""
    shapes = decisions.shapes(_rows())
    h100 = next(o for o in decisions.options(_rows(), 24.0) if o.role == "cloud")
    assert decisions.predict(h100, shapes["llama-3.2-3b"], 512, 256).served_by.model == "llama-3.1-8b"
    assert decisions.predict(h100, shapes["llama-3.1-70b"], 512, 256).served_by.model == "llama-3.1-70b"
    huge = decisions.Shape("llama-3.1-405b", 405e9, 2 * 126 * 8 * 128 * 2, "test")
    p = decisions.predict(h100, huge, 512, 256)
    assert p.served_by is None and p.tpot_ms is None
    case = {"ttft_ms": 2000, "tpot_ms": 200, "prompt_tokens": 512, "output_tokens": 256, "per_day": 1000}
    assert decisions.usd_month(h100, p, case, 0.16) is None


def test_a_self_hosted_gpu_is_paid_by_the_whole_gpu_hour_however_little_it_serves() -> None:
    shapes = decisions.shapes(_rows())
    h100 = next(o for o in decisions.options(_rows(), 24.0) if o.role == "cloud")
    p = decisions.predict(h100, shapes["llama-3.1-8b"], 512, 256)
    case = {"prompt_tokens": 512, "output_tokens": 256}
    one_gpu = h100.hourly_usd * 720
    assert decisions.usd_month(h100, p, {**case, "per_day": 10}, 0.16) == pytest.approx(one_gpu)
    per_gpu_day = p.served_by.tokens_s * 86400 / 256  # requests a day one GPU's reference rate serves
    assert decisions.gpus_needed(p, {**case, "per_day": 2.5 * per_gpu_day}) == 3


@pytest.mark.parametrize(
    ("share", "low", "high", "bound"),
    [
        (0.3, 1.6, 1.9, "arithmetic"),
        (0.3, 1.0, 1.2, "serial work"),  # gaining less than memory does is no sign of a memory bound
        (0.9, 1.2, 1.6, "memory bandwidth"),
        (0.3, 1.2, 1.6, None),
    ],
)
def test_what_binds_decode_follows_its_roof_share_and_what_a_second_core_does_against_the_triad(
    share, low, high, bound
) -> None:
    assert decisions.decode_bound(share, (low, high), 1.4) == bound


def test_the_scaling_sentence_says_what_binds_from_the_store() -> None:
    from edgecloud.sentences.generative import BINDS, _scaling

    rows = pd.DataFrame(
        [
            {"metric": "tpot", "runtime": "llama.cpp", "precision": "q4_1", "stage": "tpot", "threads": 2,
             "input_size": None, "value": 12.0, "ci_low": 11.0, "ci_high": 13.0, "note": ""},
            {"metric": "decode_roof_share", "runtime": "llama.cpp", "precision": "q4_1", "stage": None,
             "threads": 2, "input_size": None, "value": 0.3, "ci_low": 0.29, "ci_high": 0.31, "note": ""},
            {"metric": "thread_speedup", "runtime": "llama.cpp", "precision": "q4_1", "stage": "thread_scaling",
             "threads": 2, "input_size": None, "value": 1.1, "ci_low": 1.0, "ci_high": 1.2,
             "note": "1 thread: 40 tokens/s"},
            {"metric": "thread_speedup", "runtime": None, "precision": None, "stage": "triad", "threads": 2,
             "input_size": None, "value": 1.4, "ci_low": float("nan"), "ci_high": float("nan"), "note": "00"},
        ]
    )  # fmt: skip
    assert BINDS["serial work"] in _scaling(rows) and "bound by memory" not in _scaling(rows)


def test_a_users_gguf_file_is_measured_under_its_own_name_and_a_broken_one_is_refused(tmp_path, monkeypatch) -> None:
    """A GGUF file in shared.custom_models is notebook 05's model when generative.model names it: loaded by the
    runtimes, labelled with its name and its file's quantization; a file that is not a language model gets one
    line naming the key before any kernel starts."""
    import shutil

    from edgecloud import paths, preflight
    from edgecloud.experiments import generative as experiment

    (tmp_path / "cache").mkdir()
    monkeypatch.setattr(paths, "cache_dir", lambda: tmp_path / "cache")  # what the file derives stays in tmp_path
    mine, broken = tmp_path / "my-model.gguf", tmp_path / "broken.gguf"
    shutil.copyfile(llm.shipped_gguf(), mine)
    broken.write_bytes(b"not a model")
    path = tmp_path / "p.yaml"
    custom = f"shared: {{custom_models: [{{name: my_llm, gguf_path: '{mine}'}}]}}\n"
    path.write_text(custom + "generative: {model: my_llm}\n")
    params = load_params(path)
    model = experiment.language_model(params.generative, params.shared)
    assert model.gguf_file() == mine and model.shape().parameters == 134515008
    cfg = experiment.config("llama.cpp", model, params.generative)
    assert (cfg.model, cfg.precision) == ("my_llm", "q4_1")
    assert len(tuple(decoding.get("llama.cpp").load(model, 2, 256).stream(list(range(700, 716)), 3))) == 3
    path.write_text(f"shared: {{custom_models: [{{name: broken, gguf_path: '{broken}'}}]}}\n")
    assert preflight.custom_model_problems(load_params(path), path) == [
        f"{path}: shared.custom_models[0].gguf_path: '{broken}' is not allowed: cannot be read as a language model: "
        "it does not start with the GGUF magic bytes, so it is not a GGUF file."
    ]
    path.write_text("shared: {custom_models: [{name: mine, onnx_path: 'missing.onnx'}]}\n")
    with pytest.raises(ParamsError, match="no such file"):
        load_params(path)
    path.write_text("generative: {model: llama-70b}\n")
    with pytest.raises(ParamsError, match=r"p.yaml: generative.model.*'llama-70b'.*gguf_path"):
        load_params(path)


def _tiny_llama(folder: Path) -> int:
    """A two-layer Llama with random weights and SmolLM2's tokenizer, saved as a Hugging Face folder; its size."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    vocab = generation.tokenizer(llm.get(llm.NAME))
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                         eos_token_id=vocab.eos_token_id, bos_token_id=vocab.bos_token_id)  # fmt: skip
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    vocab.save_pretrained(folder)
    return model.num_parameters()


def test_a_users_hugging_face_folder_runs_on_llama_cpp_through_llama_cpps_own_converter(tmp_path) -> None:
    """An hf_path in shared.custom_models: transformers reads the folder as it is, llama.cpp runs it converted to
    GGUF f16 by the convert_hf_to_gguf.py of the installed llama-cpp-python (from its source distribution), and
    both score the same tokens alike; a folder transformers cannot read gets one line naming the key."""
    from transformers import LlamaForCausalLM

    from edgecloud import preflight

    folder = tmp_path / "tiny"
    parameters = _tiny_llama(folder)
    model = llm.get("tiny", [{"name": "tiny", "hf_path": str(folder)}])
    assert decoding.get("llama.cpp").precision(model) == "f16" and model.shape().parameters == parameters
    ids = generation.prompts(model, 32, 1)[0]
    fp32 = np.array(decoding.get("transformers").load(model, 2, 256).log_likelihoods(ids))
    f16 = np.array(decoding.get("llama.cpp").load(model, 2, 256).log_likelihoods(ids))
    assert np.abs(f16 - fp32).max() < 0.05  # nats a token: f16 rounding, not another model
    # the GGUF file read back into the folder's model (how the shipped file's fp32 folder is built): every weight
    # within f16 rounding, so the names map and llama.cpp's Q/K permutation is undone
    original = LlamaForCausalLM.from_pretrained(folder)
    back = llm.dequantized_state(model.gguf_file(), LlamaForCausalLM(original.config))
    assert back is not None and back.keys() == original.state_dict().keys()
    for key, weights in original.state_dict().items():
        np.testing.assert_allclose(back[key].numpy(), weights.numpy(), atol=2e-3, err_msg=key)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "llama"}')
    path = tmp_path / "p.yaml"
    path.write_text(f"shared: {{custom_models: [{{name: nothing, hf_path: '{broken}'}}]}}\n")
    [line] = preflight.custom_model_problems(load_params(path), path)
    assert line.startswith(f"{path}: shared.custom_models[0].hf_path: '{broken}' is not allowed: cannot be read")


def test_the_first_tokens_network_cost_is_shown_beside_the_network_models(tmp_path) -> None:
    """A streamed answer over a path pays the path on its first token; the sentence sets what was measured beside
    what the model says the request and the first chunk cost, so a harness that adds round trips shows."""
    from edgecloud.experiments import generative as experiment
    from edgecloud.params import Shared
    from edgecloud.results.store import Config, Recorder
    from edgecloud.sentences import generative as says
    from edgecloud.vocabulary import IN_PROCESS, LLM_SERVER

    def answers(ttft: float) -> list[TokenTimeline]:
        return [TokenTimeline(tuple(range(8)), ttft + 0.01 * np.arange(8) + 1e-4 * i) for i in range(6)]

    rec, base = Recorder("05-generative-inference", root=tmp_path), Config(model="m", runtime="llama.cpp")
    experiment.timeline_rows(rec, base.with_(target=IN_PROCESS), answers(0.2), Shared())
    for network, ttft in (("loopback", 0.201), ("baseline", 0.205), ("cross-country", 0.410)):
        experiment.timeline_rows(rec, base.with_(target=LLM_SERVER, network=network), answers(ttft), Shared())
    rec.add("network_p50", 67.0, "ms", base.with_(target=LLM_SERVER, network="cross-country"), "modeled")
    rows, samples = rec.stored()
    assert "**+205 ms** over cross-country (the network model: +67 ms)" in says.served(rows, samples)

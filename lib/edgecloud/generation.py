"""Generative load: timed requests to a Decoder with a fresh prompt each, prefill against prompt length, decode
against context position, greedy agreement with fp32 and perplexity, all on one tokenizer's token ids."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

import numpy as np

from edgecloud import paths
from edgecloud.models.llm import LanguageModel
from edgecloud.runtimes.decoding import Decoder
from edgecloud.timing import Estimate, TokenTimeline, block_resample, clock_stream, cluster_bootstrap

CORPUS = "data/generative/corpus.txt"  # original prose written for this project (no download, no licence question)


@cache
def tokenizer(model: LanguageModel):
    """The model's own tokenizer, loaded once."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model.description())


@cache
def corpus_ids(model: LanguageModel) -> tuple[int, ...]:
    """The shipped text as token ids of the model's own tokenizer."""
    return tuple(tokenizer(model).encode((paths.project_root() / CORPUS).read_text()))


def windows(ids: tuple[int, ...], length: int, count: int) -> list[list[int]]:
    """count windows of length tokens spread over ids, so no two share a prefix."""
    if length + count > len(ids):
        raise ValueError(f"the corpus has {len(ids)} tokens: too few for {count} prompts of {length}")
    step = max(1, (len(ids) - length) // count)
    return [list(ids[i * step : i * step + length]) for i in range(count)]


def prompts(model: LanguageModel, length: int, count: int) -> list[list[int]]:
    """count prompts of length tokens, each a different window of the corpus."""
    return windows(corpus_ids(model), length, count)


def prompt_texts(model: LanguageModel, length: int, count: int) -> list[str]:
    """The same prompts as text, for a server that tokenizes them itself (the round trip gives the same ids)."""
    return [tokenizer(model).decode(p) for p in prompts(model, length, count)]


def concurrent_streams(url: str, stream: dict, clients: int) -> tuple[float, list[list[float]]]:
    """clients streaming at once from url, each its own prompts (`token_stream.completions` arguments in stream);
    the wall time of them all and every answer's arrival times."""
    from concurrent.futures import ThreadPoolExecutor

    from edgecloud.network.token_stream import completions

    prompts_each = [stream["prompts"][i::clients] for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(lambda p: completions(url, **{**stream, "prompts": p, "warmup": 0}), prompts_each))
    return time.perf_counter() - start, [a for answers in done for a in answers]


def timed_requests(decoder: Decoder, prompt_list: list[list[int]], n_out: int, warmup: int) -> list[TokenTimeline]:
    """One streamed answer of n_out tokens per prompt, after warmup untimed requests on prompts of their own."""
    for prompt in prompt_list[:warmup]:
        for _ in decoder.stream(prompt, n_out):
            pass
    return [clock_stream(lambda p=prompt: decoder.stream(p, n_out)) for prompt in prompt_list[warmup:]]


def side_by_side(
    decoder: Decoder,
    url: str,
    model: LanguageModel,
    prompt_list: list[list[int]],
    n_out: int,
    warmup: int,
    extra_body: dict | None = None,
) -> tuple[list[TokenTimeline], list[TokenTimeline]]:
    """Each prompt answered in-process, then by the server at url (as text, with the server's own sampling fields
    in extra_body), alternately after warmup pairs: a noisy machine's drift falls on both sides alike, so their
    differences pair up."""
    from edgecloud.network import token_stream

    api, eos, texts = token_stream.client(url), model.shape().eos, [tokenizer(model).decode(p) for p in prompt_list]
    here, served = [], []
    for i, (prompt, text) in enumerate(zip(prompt_list, texts, strict=True)):
        mine = clock_stream(lambda p=prompt: decoder.stream(p, n_out))
        theirs = token_stream.completion(api, model.name, text, n_out, eos, extra_body=extra_body)
        if i >= warmup:
            here.append(mine)
            served.append(theirs)
    return here, served


@dataclass(frozen=True)
class PrefillPoint:
    """TTFT of prompts of one length: prefill's share of a request, against the compute ceiling."""

    prompt_tokens: int
    ttft_s: np.ndarray

    @property
    def tokens_per_s(self) -> float:
        return self.prompt_tokens / float(np.median(self.ttft_s))


def prefill_curve(decoder: Decoder, model: LanguageModel, lengths: list[int], repeats: int) -> list[PrefillPoint]:
    """TTFT (one output token) at each prompt length, repeats fresh prompts each, after one warm request."""
    out = []
    for length in lengths:
        timelines = timed_requests(decoder, prompts(model, length, repeats + 1), 1, warmup=1)
        out.append(PrefillPoint(length, np.array([t.ttft for t in timelines])))
    return out


def gap_slope(timeline: TokenTimeline, prompt_tokens: int) -> tuple[float, float]:
    """Least-squares growth of the token gap with context position (s per token of context) and its intercept."""
    positions = prompt_tokens + 1 + np.arange(len(timeline.gaps))
    slope, intercept = np.polyfit(positions, timeline.gaps, 1)
    return float(slope), float(intercept)


def token_agreement(
    answers: list[tuple[int, ...]], reference: list[tuple[int, ...]], resamples: int, seed: int, confidence: float
) -> Estimate:
    """Share of greedy tokens equal to the reference's at the same position, with an interval that resamples
    prompts (a divergence carries on through the rest of an answer, so tokens are not independent)."""
    matches = [np.equal(a, r).astype(float) for a, r in zip(answers, reference, strict=True)]
    return cluster_bootstrap(matches, lambda m: float(np.mean(np.concatenate(m))), resamples, seed, confidence)


def first_divergence(answers: list[tuple[int, ...]], reference: list[tuple[int, ...]]) -> float:
    """Median position at which an answer first leaves the reference (its length when it never does)."""
    firsts = []
    for a, r in zip(answers, reference, strict=True):
        differ = np.flatnonzero(np.not_equal(a, r))
        firsts.append(differ[0] if len(differ) else len(a))
    return float(np.median(firsts))


def perplexity(log_likelihoods: np.ndarray, resamples: int, seed: int, confidence: float) -> Estimate:
    """exp of the mean negative log-likelihood per token, with a moving-block bootstrap interval."""
    ll = np.asarray(log_likelihoods, dtype=float)
    boot = np.exp(-block_resample(ll, np.random.default_rng(seed), resamples).mean(axis=1))
    point = float(np.exp(-ll.mean()))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return Estimate(point, float(min(low, point)), float(max(high, point)))


def perplexity_ratio(
    ll: np.ndarray, ll_reference: np.ndarray, resamples: int, seed: int, confidence: float
) -> Estimate:
    """Perplexity over the reference's on the same tokens, with one block bootstrap of positions for both."""
    ll, ref = np.asarray(ll, dtype=float), np.asarray(ll_reference, dtype=float)
    index = block_resample(np.arange(len(ll)), np.random.default_rng(seed), resamples)
    boot = np.exp(ref[index].mean(axis=1) - ll[index].mean(axis=1))
    point = float(np.exp(ref.mean() - ll.mean()))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return Estimate(point, float(min(low, point)), float(max(high, point)))


def text_window(model: LanguageModel, tokens: int) -> list[int]:
    """The first tokens of the corpus: the fixed text perplexity is computed on."""
    ids = corpus_ids(model)
    if tokens > len(ids):
        raise ValueError(f"the corpus has {len(ids)} tokens, fewer than {tokens}")
    return list(ids[:tokens])

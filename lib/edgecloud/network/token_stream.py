"""A streamed completion from any OpenAI-compatible endpoint through the official `openai` client, clocked chunk by
chunk: what a user of a served language model perceives, on loopback or over an emulated path."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from edgecloud.timing import TokenTimeline

BUFFERED_GAP_S = 0.001  # chunks a millisecond apart after a first token that took twenty times the rest: buffered


class StreamError(RuntimeError):
    """An endpoint that refused, timed out, stopped early or did not stream; the message says which."""


def client(base_url: str, api_key_env: str | None = None, timeout_s: float = 60.0, asynchronous: bool = False):
    """The official client for base_url (…/v1), or its asyncio twin; the key, if any, comes from the named
    environment variable."""
    from openai import AsyncOpenAI, OpenAI

    key = os.environ.get(api_key_env, "") if api_key_env else ""
    kind = AsyncOpenAI if asynchronous else OpenAI
    return kind(base_url=base_url, api_key=key or "unused", timeout=timeout_s, max_retries=0)


def _request(model: str, prompt: str, n_out: int, eos: int | None, extra_body: dict | None) -> dict:
    """A greedy streamed completion of exactly n_out tokens: end-of-sequence suppressed by a logit bias."""
    bias = {str(eos): -100} if eos is not None else None
    return dict(model=model, prompt=prompt, max_tokens=n_out, temperature=0.0, stream=True, logit_bias=bias,
                extra_body=extra_body)  # fmt: skip


@contextmanager
def _named_errors(api) -> Iterator[None]:
    """The client's connection and status errors as a StreamError naming the endpoint."""
    import openai

    try:
        yield
    except openai.APIConnectionError as e:
        raise StreamError(f"cannot reach {api.base_url}: {e.__cause__ or e}") from None
    except openai.APIStatusError as e:
        raise StreamError(f"{api.base_url} answered HTTP {e.status_code}: {e.message}") from None


class _Clock:
    """Each chunk with text: when it arrived (s from the request) and what it said; on_first at the first."""

    def __init__(self, on_first: Callable[[], None] | None):
        self.t0, self.on_first, self.arrivals, self.pieces = time.perf_counter(), on_first, [], []

    def chunk(self, chunk) -> None:
        if chunk.choices and chunk.choices[0].text:
            self.arrivals.append(time.perf_counter() - self.t0)
            self.pieces.append(chunk.choices[0].text)
            if self.on_first is not None and len(self.arrivals) == 1:
                self.on_first()

    def timeline(self, n_out: int, where: str) -> TokenTimeline:
        timeline = TokenTimeline(tuple(range(len(self.arrivals))), np.asarray(self.arrivals), "".join(self.pieces))
        check(timeline, n_out, where)
        return timeline


def completion(
    api,
    model: str,
    prompt: str,
    n_out: int,
    eos: int | None,
    on_first: Callable[[], None] | None = None,
    extra_body: dict | None = None,
) -> TokenTimeline:
    """One greedy completion of exactly n_out tokens, streamed; each chunk's arrival from the call that sends the
    request; on_first is called as the first token arrives; extra_body holds a server's own sampling fields
    (`llm_serving.GREEDY`). The sync client closes an HTTP/1.1 connection at [DONE]: a new one per request."""
    clock = _Clock(on_first)
    with _named_errors(api):
        for chunk in api.completions.create(**_request(model, prompt, n_out, eos, extra_body)):
            clock.chunk(chunk)
    return clock.timeline(n_out, str(api.base_url))


async def _completion(api, model: str, prompt: str, n_out: int, eos: int | None, extra_body: dict | None):
    clock = _Clock(None)
    with _named_errors(api):
        async for chunk in await api.completions.create(**_request(model, prompt, n_out, eos, extra_body)):
            clock.chunk(chunk)
    return clock.timeline(n_out, str(api.base_url))


def check(timeline: TokenTimeline, n_out: int, where: str) -> None:
    """StreamError unless the answer came as n_out chunks spread over time, as a streaming endpoint sends them."""
    n = len(timeline.arrivals)
    if n == 0:
        raise StreamError(f"{where} sent no tokens")
    if n == 1 and n_out > 1:
        raise StreamError(f"{where} sent its whole answer in one chunk: it does not stream")
    span = timeline.arrivals[-1] - timeline.arrivals[0]
    if n_out >= 8 and np.median(timeline.gaps) < BUFFERED_GAP_S and span < 0.05 * timeline.ttft:
        raise StreamError(
            f"{where} sent {n} chunks in {span * 1e3:.1f} ms after {timeline.ttft * 1e3:.0f} ms of silence: "
            "it buffers its answer"
        )
    if n < n_out * 0.9:
        raise StreamError(f"{where} stopped after {n} of {n_out} tokens")


def completions(
    base_url: str,
    model: str,
    prompts: list[str],
    n_out: int,
    eos: int | None,
    warmup: int,
    api_key_env: str | None = None,
    extra_body: dict | None = None,
) -> list[list[float]]:
    """Arrival times (s) of each prompt's streamed answer from one endpoint (`interleaved_completions`)."""
    found = interleaved_completions({"": base_url}, model, prompts, n_out, eos, warmup, api_key_env, extra_body)
    return found[""]


def interleaved_completions(
    base_urls: dict[str, str],
    model: str,
    prompts: list[str],
    n_out: int,
    eos: int | None,
    warmup: int,
    api_key_env: str | None = None,
    extra_body: dict | None = None,
) -> dict[str, list[list[float]]]:
    """Arrival times (s) of the streamed answers of each named endpoint, after warmup untimed requests: endpoint j
    of P answers prompts[j::P], and the endpoints take turns, so a drift of the machine falls on all alike and no
    prompt comes twice (llama-cpp-python's server answers a repeat of the last prompt from its cache). Each
    endpoint's answers share one kept-alive connection, as a chat client's do: the official client's async stream
    reads each answer to its end (its sync stream closes the connection at [DONE], so each request would pay a TCP
    handshake, and a TLS one over HTTPS, on top of the round trip)."""
    return _run(_interleaved(base_urls, model, prompts, n_out, eos, warmup, api_key_env, extra_body))


async def _interleaved(urls, model, prompts, n_out, eos, warmup, api_key_env, extra_body) -> dict:
    apis = {name: client(url, api_key_env, asynchronous=True) for name, url in urls.items()}
    found: dict[str, list[list[float]]] = {name: [] for name in urls}
    try:
        for i in range(len(prompts) // len(apis)):
            for j, (name, api) in enumerate(apis.items()):
                answer = await _completion(api, model, prompts[i * len(apis) + j], n_out, eos, extra_body)
                if i >= warmup:
                    found[name].append(answer.arrivals.tolist())
    finally:
        for api in apis.values():
            await api.close()
    return found


def _run(coroutine):
    """asyncio.run in a daemon thread of its own (a Jupyter kernel's thread already runs an event loop); Ctrl-C
    reaches the caller at once."""
    out: dict = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(coroutine)
        except BaseException as e:  # handed to the caller's thread
            out["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


async def _completions(base_url, model, prompts, n_out, eos, warmup, api_key_env, extra_body) -> list[list[float]]:
    async with client(base_url, api_key_env, asynchronous=True) as api:
        for prompt in prompts[:warmup]:
            await _completion(api, model, prompt, n_out, eos, extra_body)
        return [(await _completion(api, model, p, n_out, eos, extra_body)).arrivals.tolist() for p in prompts[warmup:]]

"""A streamed completion from any OpenAI-compatible endpoint through the official `openai` client, clocked chunk by
chunk: what a user of a served language model perceives, on loopback or over an emulated path."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

from edgecloud.timing import TokenTimeline

BUFFERED_GAP_S = 0.001  # chunks a millisecond apart after a first token that took twenty times the rest: buffered


class StreamError(RuntimeError):
    """An endpoint that refused, timed out, stopped early or did not stream; the message says which."""


def client(base_url: str, api_key_env: str | None = None, timeout_s: float = 60.0):
    """The official client for base_url (…/v1); the key, if any, comes from the named environment variable."""
    from openai import OpenAI

    key = os.environ.get(api_key_env, "") if api_key_env else ""
    return OpenAI(base_url=base_url, api_key=key or "unused", timeout=timeout_s, max_retries=0)


def completion(
    api,
    model: str,
    prompt: str,
    n_out: int,
    eos: int | None,
    on_first: Callable[[], None] | None = None,
    extra_body: dict | None = None,
) -> TokenTimeline:
    """One greedy completion of exactly n_out tokens (end-of-sequence suppressed by a logit bias), streamed; each
    chunk's arrival from the call that sends the request; on_first is called as the first token arrives;
    extra_body holds a server's own sampling fields (`llm_serving.GREEDY`)."""
    import openai

    bias = {str(eos): -100} if eos is not None else None
    t0 = time.perf_counter()
    arrivals, pieces = [], []
    try:
        stream = api.completions.create(
            model=model,
            prompt=prompt,
            max_tokens=n_out,
            temperature=0.0,
            stream=True,
            logit_bias=bias,
            extra_body=extra_body,
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].text:
                arrivals.append(time.perf_counter() - t0)
                pieces.append(chunk.choices[0].text)
                if on_first is not None and len(arrivals) == 1:
                    on_first()
    except openai.APIConnectionError as e:
        raise StreamError(f"cannot reach {api.base_url}: {e.__cause__ or e}") from None
    except openai.APIStatusError as e:
        raise StreamError(f"{api.base_url} answered HTTP {e.status_code}: {e.message}") from None
    timeline = TokenTimeline(tuple(range(len(arrivals))), np.asarray(arrivals), "".join(pieces))
    check(timeline, n_out, str(api.base_url))
    return timeline


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
    """Arrival times (s) of each prompt's streamed answer, after warmup untimed requests (the first prompts)."""
    api = client(base_url, api_key_env)
    for prompt in prompts[:warmup]:
        completion(api, model, prompt, n_out, eos, extra_body=extra_body)
    return [completion(api, model, p, n_out, eos, extra_body=extra_body).arrivals.tolist() for p in prompts[warmup:]]

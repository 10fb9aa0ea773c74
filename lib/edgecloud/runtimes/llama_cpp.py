"""llama.cpp (through llama-cpp-python), the shipped Q4_1 GGUF file: the runtime behind Ollama and LM Studio, and
behind the published device figures that the generative use cases scale from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from edgecloud.models import llm

BATCH = 512  # prompt tokens evaluated per batch: llama.cpp's default, so prefill is what its users get


def open_model(threads: int, context: int, logits_all: bool = False):
    """A llama_cpp.Llama on the shipped GGUF file, quiet, with its thread counts for decode and for prefill."""
    from llama_cpp import Llama

    return Llama(
        model_path=str(llm.gguf_file()),
        n_ctx=context,
        n_batch=BATCH,
        n_threads=threads,
        n_threads_batch=threads,
        logits_all=logits_all,
        verbose=False,
    )


@dataclass
class LlamaCppDecoder:
    """One Llama, reset before every request: llama-cpp-python otherwise reuses the longest prefix that matches the
    previous request's tokens, and a repeated prompt's first token would measure that cache, not prefill."""

    llama: object
    threads: int
    context: int
    _scorer: object = field(default=None, repr=False)

    def stream(self, prompt: list[int], n_out: int) -> Iterator[int]:
        self.llama.reset()
        tokens = self.llama.generate(prompt, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0, reset=True)
        for _, token in zip(range(n_out), tokens, strict=False):
            yield int(token)

    def log_likelihoods(self, ids: list[int]) -> list[float]:
        if self._scorer is None:  # a second context that keeps every position's logits
            self._scorer = open_model(self.threads, self.context, logits_all=True)
        self._scorer.reset()
        self._scorer.eval(ids)
        logits = np.asarray(self._scorer.scores[: len(ids) - 1], dtype=np.float64)
        top = logits.max(axis=1, keepdims=True)
        logp = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
        return logp[np.arange(len(ids) - 1), ids[1:]].tolist()

    def weight_bytes(self) -> int:
        return llm.gguf_file().stat().st_size


class LlamaCpp:
    """llama.cpp on the CPU, the GGUF file's Q4_1 weights as shipped."""

    name = "llama.cpp"
    precision = "q4_1"
    requires = ("llama_cpp",)

    def load(self, threads: int, context: int) -> LlamaCppDecoder:
        return LlamaCppDecoder(open_model(threads, context), threads, context)


GENERATOR = LlamaCpp()

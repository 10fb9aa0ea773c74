"""llama.cpp (through llama-cpp-python) on the model's GGUF file as it is (the shipped one is Q4_1): the
runtime behind Ollama and LM Studio, and behind the published device figures that the generative use cases scale
from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from edgecloud.models.llm import LanguageModel

BATCH = 512  # prompt tokens evaluated per batch: llama.cpp's default, so prefill is what its users get


def settings(model: LanguageModel, threads: int, context: int, logits_all: bool = False) -> dict:
    """How llama.cpp loads the model, in-process and behind its server alike: llama_cpp.Llama's keywords, which are
    also the server's options (its own default, logits_all=True, computes logits at every prompt position: about
    30 ms of a 64-token prompt's first token here). Flash attention is on, as llama.cpp's own default (auto) has it
    and llama-cpp-python's turns it off: decode 8-13% faster here."""
    return {
        "model_path": str(model.gguf_file()),
        "n_ctx": context,
        "n_batch": BATCH,
        "n_threads": threads,
        "n_threads_batch": threads,
        "logits_all": logits_all,
        "flash_attn": True,
    }


def open_model(model: LanguageModel, threads: int, context: int, logits_all: bool = False):
    """A quiet llama_cpp.Llama on the model's GGUF file with `settings`."""
    from llama_cpp import Llama

    return Llama(**settings(model, threads, context, logits_all), verbose=False)


@dataclass
class LlamaCppDecoder:
    """One Llama, reset before every request: llama-cpp-python otherwise reuses the longest prefix that matches the
    previous request's tokens, and a repeated prompt's first token would measure that cache, not prefill."""

    llama: object
    model: LanguageModel
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
            self._scorer = open_model(self.model, self.threads, self.context, logits_all=True)
        self._scorer.reset()
        self._scorer.eval(ids)
        logits = np.asarray(self._scorer.scores[: len(ids) - 1], dtype=np.float64)
        top = logits.max(axis=1, keepdims=True)
        logp = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
        return logp[np.arange(len(ids) - 1), ids[1:]].tolist()

    def weight_bytes(self) -> int:
        return self.model.gguf_file().stat().st_size


class LlamaCpp:
    """llama.cpp on the CPU, the GGUF file's weights as they are (the shipped file's are Q4_1)."""

    name = "llama.cpp"
    requires = ("llama_cpp",)

    def precision(self, model: LanguageModel) -> str:
        return model.file_type()

    def load(self, model: LanguageModel, threads: int, context: int) -> LlamaCppDecoder:
        return LlamaCppDecoder(open_model(model, threads, context), model, threads, context)


GENERATOR = LlamaCpp()

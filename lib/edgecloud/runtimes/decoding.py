"""How a language model decodes: the Decoder protocol that every generative runtime module (one defining
GENERATOR) implements, and the registry of those runtimes by name.

Prompts go in as token ids from one tokenizer, so every runtime decodes exactly the same input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from edgecloud.models.llm import LanguageModel
from edgecloud.runtimes.registry import checked, defined


class Decoder(Protocol):
    """A loaded language model that decodes greedily from a fresh KV cache."""

    def stream(self, prompt: list[int], n_out: int) -> Iterator[int]:
        """Exactly n_out greedy tokens after prompt, each yielded as soon as it is chosen; nothing of an earlier
        request (its KV cache or a matching prefix) is reused, and an end-of-sequence token does not stop it."""
        ...

    def log_likelihoods(self, ids: list[int]) -> list[float]:
        """The log-probability of each token of ids after the ones before it (len(ids) - 1 values)."""
        ...

    def weight_bytes(self) -> int:
        """Bytes of the weights one decode step reads (the model file)."""
        ...


class Generator(Protocol):
    """A generative runtime: its name, what it needs, the precision it runs a model's weights in, and how it loads."""

    name: str
    requires: tuple[str, ...]

    def precision(self, model: LanguageModel) -> str: ...

    def load(self, model: LanguageModel, threads: int, context: int) -> Decoder: ...


def get(name: str) -> Generator:
    """The generative runtime called name; ValueError naming the choices or the packages it lacks."""
    return checked(defined("GENERATOR"), name, "generative runtime")

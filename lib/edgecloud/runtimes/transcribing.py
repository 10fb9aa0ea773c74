"""How a speech model transcribes: the Transcriber protocol that every speech runtime module (one defining
RECOGNIZER) implements, and the registry of those runtimes by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edgecloud.runtimes.registry import checked, defined


@dataclass(frozen=True)
class Transcript:
    """What one call heard: its text and how many tokens the decoder produced for it."""

    text: str
    tokens: int


class Transcriber(Protocol):
    """A loaded speech model that transcribes English greedily, one utterance per call."""

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """The transcript of 16 kHz mono float32 audio: greedy, no temperature fallback, no voice-activity filter and
        no text carried over from an earlier call, so every call does the same work for the same audio."""
        ...

    def encode(self, audio: np.ndarray) -> None:
        """Run the encoder alone over audio's padded window (the part of a call that does not grow with speech)."""
        ...

    def weight_bytes(self) -> int:
        """Bytes of the weights on disk."""
        ...


class Recognizer(Protocol):
    """A speech runtime: its name, the precisions it computes in, what it needs, and how it loads."""

    name: str
    precisions: tuple[str, ...]
    requires: tuple[str, ...]

    def load(self, precision: str, threads: int) -> Transcriber: ...


def get(name: str) -> Recognizer:
    """The speech runtime called name; ValueError naming the choices or the packages it lacks."""
    return checked(defined("RECOGNIZER"), name, "speech runtime")

"""Speech transcribed and scored: each utterance timed, its words compared with the transcript (word error rate,
with an interval that resamples utterances), and latency split into the encoder's fixed window and a cost per
decoded token by a least-squares fit that is checked against the encoder timed alone."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jiwer
import numpy as np

from edgecloud.models.speech import Recording
from edgecloud.runtimes.transcribing import Transcriber, Transcript
from edgecloud.timing import Estimate, cluster_bootstrap

# How transcripts are compared: case, punctuation and spacing do not count as errors (as in Whisper's evaluations,
# without its spelling normaliser: "okay" and "OK" still differ).
NORMALISE = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
        jiwer.ReduceToListOfListOfWords(),
    ]
)


@dataclass(frozen=True)
class Heard:
    """One timed transcription of one utterance."""

    duration_s: float
    latency_s: float
    transcript: Transcript
    reference: str


def transcribe_all(model: Transcriber, recording: Recording, warmup: int, repeats: int) -> list[Heard]:
    """Every utterance of the recording, `repeats` times in order after `warmup` untimed calls on the first one."""
    for _ in range(warmup):
        model.transcribe(recording.clip(recording.utterances[0]))
    heard = []
    for _ in range(repeats):
        for u in recording.utterances:
            audio = recording.clip(u)
            t0 = time.perf_counter()
            got = model.transcribe(audio)
            heard.append(Heard(u.duration_s, time.perf_counter() - t0, got, u.text))
    return heard


def time_encoder(model: Transcriber, audio: np.ndarray, repeats: int) -> np.ndarray:
    """Seconds of the encoder alone over audio's padded window, `repeats` times after one untimed call."""
    model.encode(audio)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.encode(audio)
        out.append(time.perf_counter() - t0)
    return np.asarray(out)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, words in the reference) after normalising both."""
    if not NORMALISE(reference)[0]:
        return len(NORMALISE(hypothesis)[0]), 0
    out = jiwer.process_words(reference, hypothesis, reference_transform=NORMALISE, hypothesis_transform=NORMALISE)
    return out.substitutions + out.deletions + out.insertions, out.hits + out.substitutions + out.deletions


def _errors(heard: list[Heard]) -> list[np.ndarray]:
    return [np.array(word_errors(h.reference, h.transcript.text), dtype=float) for h in heard]


def wer(heard: list[Heard], resamples: int, seed: int, confidence: float) -> Estimate:
    """Word error rate over the utterances (errors over reference words), resampling whole utterances."""
    return cluster_bootstrap(_errors(heard), _ratio_of_sums, resamples, seed, confidence)


def wer_difference(
    heard: list[Heard], reference: list[Heard], resamples: int, seed: int, confidence: float
) -> Estimate:
    """WER of heard minus WER of reference on the same utterances (paired: an utterance is resampled for both)."""
    pairs = [np.array([a[0], b[0], a[1]]) for a, b in zip(_errors(heard), _errors(reference), strict=True)]

    def stat(values: list[np.ndarray]) -> float:
        total = np.sum(values, axis=0)
        return float((total[0] - total[1]) / total[2])

    return cluster_bootstrap(pairs, stat, resamples, seed, confidence)


def _ratio_of_sums(values: list[np.ndarray]) -> float:
    total = np.sum(values, axis=0)
    return float(total[0] / total[1])


@dataclass(frozen=True)
class LatencyFit:
    """latency = fixed + per_token × tokens, fitted by least squares over timed utterances."""

    fixed_s: float
    per_token_s: float
    residuals_s: np.ndarray

    def at(self, tokens: float, q: float = 50.0) -> float:
        """Predicted latency (s) of an utterance of that many tokens at percentile q of the fit's residuals."""
        return self.fixed_s + self.per_token_s * tokens + float(np.percentile(self.residuals_s, q))


def latency_fit(heard: list[Heard]) -> LatencyFit:
    """The fixed cost (the encoder's 30-second window, whatever the speech's length) and the cost per token."""
    tokens = np.array([h.transcript.tokens for h in heard], dtype=float)
    latency = np.array([h.latency_s for h in heard])
    per_token, fixed = np.polyfit(tokens, latency, 1)
    residuals = latency - (fixed + per_token * tokens)
    return LatencyFit(float(fixed), float(per_token), residuals - np.median(residuals))


def per_token_interval(heard: list[Heard], resamples: int, seed: int, confidence: float) -> Estimate:
    """The fit's cost per token (s) with an interval that resamples whole transcriptions."""
    points = [np.array([h.transcript.tokens, h.latency_s], dtype=float) for h in heard]

    def slope(values: list[np.ndarray]) -> float:
        xy = np.stack(values)
        return float(np.polyfit(xy[:, 0], xy[:, 1], 1)[0]) if np.ptp(xy[:, 0]) > 0 else float("nan")

    return cluster_bootstrap(points, slope, resamples, seed, confidence)


def tokens_per_second(heard: list[Heard]) -> float:
    """Tokens the decoder produced per second of speech, over every utterance."""
    return sum(h.transcript.tokens for h in heard) / sum(h.duration_s for h in heard)

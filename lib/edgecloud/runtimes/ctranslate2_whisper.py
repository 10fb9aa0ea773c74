"""CTranslate2 through faster-whisper: Whisper converted for CPU inference, computed in fp32 or int8 (weights
quantized at load, per channel), the way faster-whisper's users run it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgecloud.models import speech
from edgecloud.runtimes.transcribing import Transcript

COMPUTE_TYPES = {"fp32": "float32", "int8": "int8"}


@dataclass
class WhisperTranscriber:
    """One faster-whisper WhisperModel and its CTranslate2 model underneath."""

    model: object

    def transcribe(self, audio: np.ndarray) -> Transcript:
        segments, _ = self.model.transcribe(
            audio,
            language="en",
            beam_size=1,
            temperature=0.0,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        done = list(segments)  # the work happens while the segments are read
        return Transcript(" ".join(s.text.strip() for s in done), sum(len(s.tokens) for s in done))

    def encode(self, audio: np.ndarray) -> None:
        import ctranslate2

        frames = self.model.feature_extractor.nb_max_frames
        features = self.model.feature_extractor(audio)[:, :frames]
        padded = np.zeros((1, features.shape[0], frames), dtype=np.float32)
        padded[0, :, : features.shape[1]] = features
        self.model.model.encode(ctranslate2.StorageView.from_array(padded), to_cpu=True)

    def weight_bytes(self) -> int:
        return (speech.model_folder() / "model.bin").stat().st_size


@dataclass(frozen=True)
class CTranslate2Whisper:
    name: str = "ctranslate2"
    precisions: tuple[str, ...] = tuple(COMPUTE_TYPES)
    requires: tuple[str, ...] = ("faster_whisper", "ctranslate2")

    def load(self, precision: str, threads: int) -> WhisperTranscriber:
        from faster_whisper import WhisperModel

        model = WhisperModel(
            str(speech.model_folder()), device="cpu", compute_type=COMPUTE_TYPES[precision], cpu_threads=threads
        )
        return WhisperTranscriber(model)


RECOGNIZER = CTranslate2Whisper()

"""Speech recognition: word error rates and their intervals, the latency fit, the real model on real recorded
speech, the params that choose it, and the speech use cases' arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edgecloud import transcription
from edgecloud.decisions import speech as decisions
from edgecloud.params import Params, ParamsError, load_params
from edgecloud.runtimes.transcribing import Transcript
from edgecloud.transcription import Heard


def _heard(pairs: list[tuple[str, str]], latency: float = 1.0, tokens: int = 5) -> list[Heard]:
    return [Heard(1.0, latency, Transcript(hyp, tokens), ref) for ref, hyp in pairs]


def test_case_and_punctuation_are_not_errors_but_missing_and_extra_words_are() -> None:
    assert transcription.word_errors("Oh, hello.", "oh hello") == (0, 2)
    assert transcription.word_errors("I didn't know you were there.", "I didn't know he was there") == (2, 6)
    assert transcription.word_errors("Hello?", "Hello. Hello. Hello.") == (2, 1)  # insertions count


def test_wer_weights_utterances_by_their_words_and_its_interval_resamples_utterances() -> None:
    heard = _heard([("a b c d e f g h", "a b c d e f g h"), ("x", "y")] * 5)  # 5 errors in 45 words
    w = transcription.wer(heard, 500, 0, 0.95)
    assert w.value == pytest.approx(5 / 45)  # not the mean of per-utterance rates (0.5)
    assert w.low < w.value < w.high


def test_the_paired_difference_is_zero_for_identical_transcripts_and_signed_otherwise() -> None:
    same = _heard([("one two three", "one two tree"), ("four five", "four five")] * 4)
    d = transcription.wer_difference(same, same, 200, 0, 0.95)
    assert (d.value, d.low, d.high) == (0.0, 0.0, 0.0)
    better = _heard([("one two three", "one two three"), ("four five", "four five")] * 4)
    d = transcription.wer_difference(same, better, 200, 0, 0.95)
    assert d.value == pytest.approx(4 / 20) and d.low > 0


def test_the_latency_fit_recovers_a_fixed_window_and_a_cost_per_token() -> None:
    rng = np.random.default_rng(0)
    heard = [
        Heard(1.0, 0.5 + 0.004 * n + rng.normal(0, 0.001), Transcript("x", int(n)), "x")
        for n in rng.integers(1, 40, 60)
    ]
    fit = transcription.latency_fit(heard)
    assert fit.fixed_s == pytest.approx(0.5, abs=0.002) and fit.per_token_s == pytest.approx(0.004, rel=0.05)
    assert fit.at(10, 95) > fit.at(10, 50)


def test_upload_time_is_pcm_bytes_over_the_uplink() -> None:
    assert decisions.upload_ms(2.0, 20.0) == pytest.approx(2 * 32_000 * 8 / 20e6 * 1e3)  # 25.6 ms


def _rows(command_ms: float, meeting_ms: float, wer: dict[str, float] | None = None) -> pd.DataFrame:
    from edgecloud.results.store import COLUMNS, _typed

    records = []
    for precision, w in (wer or {"int8": 0.3}).items():
        base = {"metric": "speech_option_latency", "unit": "ms", "model": "whisper-tiny.en", "precision": precision}
        records += [
            {**base, "value": command_ms, "scenario": "smart-home-voice", "kind": "measured"},
            {**base, "value": meeting_ms, "scenario": "meeting-transcription", "kind": "modeled"},
            {**base, "metric": "wer", "unit": "fraction", "value": w, "stage": "utterance", "kind": "measured"},
        ]
    return _typed(pd.DataFrame(records), COLUMNS)


PROFILES = Params().measurements.model_dump()["network_profiles"]


def test_a_fast_enough_device_keeps_personal_speech_at_home_and_a_slow_one_needs_a_named_speedup() -> None:
    fast = decisions.evaluate(_rows(150.0, 0.1 * 3600e3), PROFILES, 0.16)
    chosen = fast[fast.recommended]
    assert set(chosen.role) == {"edge"} and set(chosen.case) == {"smart-home-voice", "meeting-transcription"}
    cloud = fast[(fast.case == "smart-home-voice") & (fast.role == "cloud")].iloc[0]
    assert cloud.latency_ms == pytest.approx(150 + 20 + decisions.upload_ms(2.0, 20.0))  # RTT + upload added
    slow = decisions.evaluate(_rows(800.0, 0.1 * 3600e3), PROFILES, 0.16)
    voice = slow[slow.case == "smart-home-voice"]
    assert not voice.feasible.any() and voice.speedup_needed.min() == pytest.approx(4.0)


def test_at_the_same_cost_the_precision_that_hears_more_words_right_is_chosen() -> None:
    table = decisions.evaluate(_rows(150.0, 0.1 * 3600e3, {"int8": 0.33, "fp32": 0.23}), PROFILES, 0.16)
    assert set(table[table.recommended].precision) == {"fp32"}


def test_params_name_the_speech_runtime_and_precisions(tmp_path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("speech: {precisions: [fp16]}\n")
    with pytest.raises(ParamsError, match=r"speech.*fp16"):
        load_params(bad)
    bad.write_text("speech: {runtime: whisper.cpp}\n")
    with pytest.raises(ParamsError, match=r"whisper\.cpp"):
        load_params(bad)


def test_int8_whisper_hears_a_real_recorded_sentence_and_the_encoder_is_part_of_each_call() -> None:
    pytest.importorskip("faster_whisper")
    from edgecloud.models import speech
    from edgecloud.runtimes import transcribing

    recording = speech.recording()
    assert recording.duration_s == pytest.approx(30.0) and len(recording.utterances) == 13
    turn = next(u for u in recording.utterances if "Chicago" in u.text and "Texas" in u.text)
    model = transcribing.get("ctranslate2").load("int8", 2)
    heard = transcription.transcribe_all(model, _one(recording, turn), warmup=1, repeats=1)[0]
    assert {"texas", "chicago"} <= set(heard.transcript.text.lower().replace(",", "").replace(".", "").split())
    encoder = transcription.time_encoder(model, recording.clip(turn), 3)
    assert heard.latency_s > 0.5 * np.median(encoder)  # a lazily read transcript would take almost no time


def _one(recording, turn):
    from dataclasses import replace

    return replace(recording, utterances=(turn,))

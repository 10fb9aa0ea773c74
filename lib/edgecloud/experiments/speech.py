"""Notebook 06: a speech model on real recorded speech, utterance by utterance, in every precision: latency and the
real-time factor, the encoder's fixed 30-second window against the cost per decoded token, word error rate against
the shipped transcript, and the speech use cases decided from those measurements."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from edgecloud import catalogue, notebooks, transcription
from edgecloud.decisions import speech as decisions
from edgecloud.decisions.devices import cited
from edgecloud.models import speech
from edgecloud.params import Params, Shared, SpeechSection
from edgecloud.results.store import Config, Recorder
from edgecloud.runtimes import transcribing
from edgecloud.sources import sourced
from edgecloud.timing import from_samples, ratio
from edgecloud.vocabulary import IN_PROCESS

NOTEBOOK = notebooks.of_experiment(__name__)


def config(precision: str, section: SpeechSection, **more: object) -> Config:
    """The store's labels of one precision's measurement."""
    return Config(
        model=speech.NAME,
        runtime=section.runtime,
        precision=precision,
        threads=section.speech_threads,
        target=IN_PROCESS,
        **more,
    )


def _ms_row(rec: Recorder, metric: str, samples_s: np.ndarray, cfg: Config, shared: Shared, note: str = "") -> None:
    m = from_samples(samples_s, cfg, shared.timing)
    p50 = m.percentiles["p50"]
    rec.add(metric, p50.value * 1e3, "ms", cfg, ci=(p50.low * 1e3, p50.high * 1e3), n=m.n, noisy=m.noisy, note=note)


def measure_precision(precision: str, section: SpeechSection, shared: Shared, rec: Recorder) -> dict:
    """Load (timed apart), every utterance timed and scored, the encoder alone, and the whole recording in one call;
    records the rows of one precision and returns what the comparisons and the use cases need."""
    cfg, t = config(precision, section), shared.timing
    recording = speech.recording()
    t0 = time.perf_counter()
    model = transcribing.get(section.runtime).load(precision, section.speech_threads)
    rec.add("load_time", (time.perf_counter() - t0) * 1e3, "ms", cfg, n=1)
    rec.add("model_size", model.weight_bytes() / 1e6, "MB", cfg)
    heard = transcription.transcribe_all(model, recording, section.warmup, section.repeats)
    latency = np.array([h.latency_s for h in heard])
    _ms_row(rec, "speech_latency", latency, cfg.with_(stage="utterance"), shared, note=recording.source)
    for h in heard:
        rec.samples(np.array([h.latency_s * 1e3]), cfg.with_(stage="utterance", input_size=round(h.duration_s * 1e3)))
    rtf = latency / np.array([h.duration_s for h in heard])
    rec.add("real_time_factor", float(np.median(rtf)), "×", cfg.with_(stage="utterance"), n=len(rtf))
    encoder = transcription.time_encoder(model, recording.clip(recording.utterances[0]), section.encoder_repeats)
    _ms_row(rec, "encoder_time", encoder, cfg, shared)
    fit = transcription.latency_fit(heard)
    note = f"latency = fixed + per token × tokens, least squares over {len(heard)} transcriptions"
    rec.add("encoder_fit", fit.fixed_s * 1e3, "ms", cfg, n=len(heard), note=note)
    slope = transcription.per_token_interval(heard, t.bootstrap_resamples, shared.seed, t.confidence)
    ci = (slope.low * 1e3, slope.high * 1e3)
    rec.add("speech_token_time", fit.per_token_s * 1e3, "ms", cfg, ci=ci, n=len(heard), note=note)
    first = heard[: len(recording.utterances)]  # greedy decoding: every pass hears the same words
    score = transcription.wer(first, t.bootstrap_resamples, shared.seed, t.confidence)
    rec.add("wer", score.value, "fraction", cfg.with_(stage="utterance"), ci=(score.low, score.high), n=len(first))
    long = None
    if section.long_form:
        t0 = time.perf_counter()
        got = model.transcribe(recording.audio)
        long = time.perf_counter() - t0
        whole = " ".join(u.text for u in recording.utterances)
        errors, words = transcription.word_errors(whole, got.text)
        rec.add("wer", errors / words, "fraction", cfg.with_(stage="long-form"), n=1, note=got.text[:300])
        rec.add("real_time_factor", long / recording.duration_s, "×", cfg.with_(stage="long-form"), n=1)
    rec.flush()
    return {"heard": heard, "fit": fit, "long_s": long, "speech_tokens_s": transcription.tokens_per_second(first)}


def measure_all(section: SpeechSection, shared: Shared, rec: Recorder) -> dict[str, dict]:
    """Every precision of the section, one after another."""
    return {p: measure_precision(p, section, shared, rec) for p in section.precisions}


def compare(measured: dict[str, dict], section: SpeechSection, shared: Shared, rec: Recorder) -> None:
    """Each precision against the first: WER difference on the same utterances and the latency ratio."""
    t, reference = shared.timing, measured[section.precisions[0]]
    ref_latency = np.array([h.latency_s for h in reference["heard"]])
    n = len(speech.recording().utterances)
    for precision in section.precisions[1:]:
        cfg = config(precision, section)
        heard = measured[precision]["heard"]
        diff = transcription.wer_difference(heard[:n], reference["heard"][:n], t.bootstrap_resamples, shared.seed,
                                            t.confidence)  # fmt: skip
        rec.add("wer_difference", diff.value, "fraction", cfg, ci=(diff.low, diff.high), n=n)
        speedup = ratio(ref_latency, np.array([h.latency_s for h in heard]), seed=shared.seed)
        rec.add("precision_speedup", speedup.value, "×", cfg, ci=(speedup.low, speedup.high), n=len(heard))


def option_latencies(measured: dict[str, dict], section: SpeechSection, rec: Recorder) -> None:
    """Each speech case's transcription time on this machine per precision: a command from the fit at the case's
    percentile and the tokens its length holds; a long recording from the whole-recording call's real-time factor,
    since Whisper reads long audio as consecutive 30-second windows."""
    recording = speech.recording()
    for name, case in catalogue.SPEECH_CASES.items():
        for precision, m in measured.items():
            cfg = config(precision, section, scenario=name, input_size=round(case["utterance_s"] * 1e3))
            if case["utterance_s"] <= speech.WINDOW_S:
                q = case["percentile"]
                tokens = m["speech_tokens_s"] * case["utterance_s"]
                note = (f"fit {m['fit'].fixed_s * 1e3:.0f} ms + {m['fit'].per_token_s * 1e3:.1f} ms × {tokens:.1f} "
                        f"tokens, p{q} of its residuals")  # fmt: skip
                rec.add("speech_option_latency", m["fit"].at(tokens, q) * 1e3, "ms", cfg, note=note)
            elif m["long_s"] is not None:
                rtf = m["long_s"] / recording.duration_s
                note = f"real-time factor {rtf:.3f} of the {recording.duration_s:.0f}-second recording × its length"
                rec.add("speech_option_latency", rtf * case["utterance_s"] * 1e3, "ms", cfg, "modeled", note=note)


def decide(profiles: dict[str, dict], rec: Recorder) -> pd.DataFrame:
    """The speech use cases over this machine as an edge box and as a cloud VM; recommendations recorded."""
    table = decisions.evaluate(rec.frame(), profiles, float(sourced("electricity_usd_kwh")))
    for r in table[table.recommended].itertuples():
        cfg = Config(model=speech.NAME, precision=r.precision, target=r.option, scenario=r.case)
        rec.add("recommendation", 1, "", cfg, "modeled", note=f"{r.requirement}: margin {r.margin:+.0%}")
    return table


def budget_text(case: str) -> str:
    """A case's requirement and where it comes from."""
    spec = catalogue.SPEECH_CASES[case]
    key = spec.get("latency_budget_ms") or spec["real_time_budget"]
    return cited(key).cite


def measure_everything(params: Params) -> Path:
    """`edgecloud measure`'s speech part: every precision and the comparisons, one complete run of notebook 06."""
    section, shared = params.speech, params.shared
    rec = Recorder(NOTEBOOK, params.for_notebook(NOTEBOOK))
    measured = measure_all(section, shared, rec)
    compare(measured, section, shared, rec)
    option_latencies(measured, section, rec)
    rec.complete()
    return rec.folder

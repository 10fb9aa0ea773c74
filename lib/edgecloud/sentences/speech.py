"""Notebook 06: what the speech timings, the encoder's fixed window, the word error rates and the speech use cases
say, from the store."""

from __future__ import annotations

import pandas as pd

from edgecloud.results.query import select
from edgecloud.results.speech_tables import value
from edgecloud.sentences import escaped, ms

AGREES = 0.15  # a fit whose fixed cost lies within 15% of the encoder timed alone explains the latency


def _ci(x: tuple[float, float, float], fmt: str = ".3g") -> str:
    return f"CI {x[1]:{fmt}}–{x[2]:{fmt}}"


@escaped
def timing(rows: pd.DataFrame, order: list[str]) -> str:
    """Each precision's utterance latency, the encoder's share of it and whether the fit agrees with the encoder
    timed alone; the faster precision's speed-up with its interval."""
    parts, checks, gaps = [], [], []
    for p in order:
        latency = value(rows, "speech_latency", precision=p, stage="utterance")
        encoder = value(rows, "encoder_time", precision=p)
        fixed = value(rows, "encoder_fit", precision=p)[0]
        per_token = value(rows, "speech_token_time", precision=p)
        parts.append(
            f"{p} transcribes an utterance in **{ms(latency[0])}** (p50, {_ci(latency)}), of which the encoder alone "
            f"takes {ms(encoder[0])} ({encoder[0] / latency[0]:.0%}); each decoded token adds {ms(per_token[0])} "
            f"({_ci(per_token)})"
        )
        gaps.append(fixed / encoder[0] - 1)
        checks.append(f"{p} {gaps[-1]:+.0%}")
    text = "**Measured:** " + "; ".join(parts) + "."
    text += (
        " Whisper pads every input to a 30-second window, so a half-second *Hello?* costs nearly what a four-second "
        "sentence does: latency is a fixed encoder cost plus a small cost per token, not proportional to speech. "
    )
    agree = max(map(abs, gaps)) <= AGREES
    text += f"The least-squares fit's fixed cost against the encoder timed alone: {', '.join(checks)} " + (
        "(within 15%: the two-part model explains the latency)."
        if agree
        else "(beyond 15%: something else costs time at a fixed rate, such as feature extraction or the decoder's "
        "first step)."
    )
    for p in order[1:]:
        s = value(rows, "precision_speedup", precision=p)
        verdict = "faster" if s[1] > 1 else "slower" if s[2] < 1 else "no faster beyond noise"
        text += f" {p} is **{s[0]:.2f}×** the speed of {order[0]} ({_ci(s, '.2f')}): {verdict}."
    return text


@escaped
def quality(rows: pd.DataFrame, order: list[str]) -> str:
    """Each precision's WER against the transcript, the difference from the reference with its interval, and the
    whole recording in one call."""
    parts = []
    for p in order:
        w = value(rows, "wer", precision=p, stage="utterance")
        parts.append(f"{p} {w[0]:.1%} ({_ci(w, '.1%')})")
    text = "**Measured:** word error rate against the shipped transcript, utterance by utterance: " + ", ".join(parts)
    text += "."
    for p in order[1:]:
        d = value(rows, "wer_difference", precision=p)
        verdict = (
            "worse, beyond noise" if d[1] > 0 else "better, beyond noise" if d[2] < 0 else "no difference beyond noise"
        )
        n = int(select(rows, "wer_difference", precision=p).n.iloc[0])
        text += f" {p} − {order[0]}: {d[0]:+.1%} ({_ci(d, '+.1%')}): {verdict}, paired over {n} utterances."
    try:
        longs = [(p, value(rows, "real_time_factor", precision=p, stage="long-form")[0]) for p in order]
        wers = [value(rows, "wer", precision=p, stage="long-form")[0] for p in order]
    except KeyError:
        return text
    text += " The whole recording in one call: " + ", ".join(
        f"{p} real-time factor {rtf:.2f}, WER {w:.1%}" for (p, rtf), w in zip(longs, wers, strict=True)
    )
    text += (
        ". The recording opens with seconds that the transcript gives no words: whatever the model writes there counts "
        "as inserted words."
    )
    return text


def _case_line(name: str, part: pd.DataFrame) -> str:
    chosen = part[part.recommended]
    if chosen.empty:
        best = part.loc[part.margin.idxmax()]
        return (
            f"- **{name}**: nothing here meets it. Closest: {best.option} ({best.precision}, *{best.kind}*), "
            f"{best.requirement} {best.got:.3g} against {best.budget:.3g}; a device **{best.speedup_needed:.1f}× "
            "faster** would be needed."
        )
    pick = chosen.iloc[0]
    others = part[~part.feasible]
    why = "; ".join(f"{r.option} ({r.precision}) misses by {-r.margin:.0%}" for r in others.head(2).itertuples())
    return (
        f"- **{name}** → **{pick.option}** ({pick.precision}, *{pick.kind}*, WER {pick.wer:.0%}), "
        f"${pick.usd_month:,.0f} a month; binding: {pick.requirement}, margin {pick.margin:+.0%}."
        + (f" Not chosen: {why}." if why else "")
    )


@escaped
def cases(evaluated: pd.DataFrame) -> str:
    """Each speech case's recommendation with its binding requirement and margin, or how far every option is."""
    return "\n".join(_case_line(name, part) for name, part in evaluated.groupby("case", sort=False))


@escaped
def summary(rows: pd.DataFrame, order: list[str]) -> str:
    """The report's run summary of notebook 06."""
    fastest = min(order, key=lambda p: value(rows, "speech_latency", precision=p, stage="utterance")[0])
    latency = value(rows, "speech_latency", precision=fastest, stage="utterance")[0]
    encoder = value(rows, "encoder_time", precision=fastest)[0]
    w = value(rows, "wer", precision=fastest, stage="utterance")[0]
    return (
        f"- **Speech:** Whisper tiny.en transcribes an utterance of real telephone speech in {ms(latency)} "
        f"({fastest}; the encoder's fixed 30-second window is {encoder / latency:.0%} of it), WER {w:.0%}."
    )


@escaped
def executive(evaluated: pd.DataFrame) -> str:
    """The speech use cases for the executive summary."""
    return (
        "**Speech use cases (notebook 06; this machine measured, the network modeled).** smart-home-voice here is "
        "the speech-to-text step that runs before the intent model notebook 03 scores, so its latency adds to "
        "that one's:\n\n" + cases.__wrapped__(evaluated)
    )

"""Measurements behind the four concepts of inference: anatomy, architecture, input data, mechanism, output."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from tqdm import tqdm

from edgecloud.models import ImageClassifier, SentenceEmbedder, ZooModel, encode_jpeg, photo_crops
from edgecloud.params import Timing
from edgecloud.results import Run
from edgecloud.runtimes import RUNTIMES, Session, load_session
from edgecloud.timing import ColdStart, Measurement, cold_start, measure


def anatomy(image: Session, text: Session, timing: Timing) -> pd.DataFrame:
    """Time each stage of one image request (JPEG in, top-3 out) and one text request (sentence in, vector out)."""
    img: ImageClassifier = image.model  # type: ignore[assignment]
    jpeg = encode_jpeg(photo_crops(1, 480, img.seed)[0])
    pixels = img.decode([jpeg])
    x = {"input": img.preprocess(pixels)}
    logits = image.run(x)
    emb: SentenceEmbedder = text.model  # type: ignore[assignment]
    sentence = ["The robot arm stops when the vision model sees a person in the cell."]
    tokens = emb.tokenize(sentence)
    vector = text.run(tokens)
    stages = [
        ("image", "input: decode JPEG + resize", lambda: img.decode([jpeg])),
        ("image", "preprocess: normalise to NCHW", lambda: img.preprocess(pixels)),
        ("image", "model", lambda: image.run(x)),
        ("image", "postprocess: softmax + top-3 names", lambda: img.postprocess(logits)),
        ("image", "output: serialise JSON", lambda: json.dumps(img.postprocess(logits))),
        ("text", "input: tokenize", lambda: emb.tokenize(sentence)),
        ("text", "model", lambda: text.run(tokens)),
        ("text", "output: serialise JSON", lambda: json.dumps(vector.tolist())),
    ]
    rows = []
    for request, stage, fn in tqdm(stages, desc="anatomy", leave=False):
        m = measure(fn, stage, timing)
        rows.append({"request": request, "stage": stage, "p50_ms": m.median * 1e3, "n": m.n, "warnings": m.warnings})
    return pd.DataFrame(rows)


def measure_session(
    session: Session, inputs: dict[str, np.ndarray], timing: Timing, cold: ColdStart | None = None, **config: object
) -> Measurement:
    """Latency of one session on one input batch, labelled with its configuration."""
    cfg = {
        "model": session.model.name,
        "runtime": session.runtime,
        "precision": session.precision,
        "threads": session.threads,
        **config,
    }
    return measure(lambda: session.run(inputs), session.label, timing, cfg, cold)


def mechanisms(
    models: list[ZooModel], threads: list[int], timing: Timing, run: Run, calibration: int, agreement_samples: int
) -> pd.DataFrame:
    """Every model × runtime × thread count at batch 1: latency, cold start, speed-up and accuracy cost."""
    rows = []
    combos = [(m, r, p, t) for m in models for r, p in RUNTIMES for t in threads]
    for model, runtime, precision, t in tqdm(combos, desc="runtimes", leave=False):
        if runtime == "eager" and getattr(model, "onnx_path", None):
            continue
        x = model.inputs(1)
        session, cold = cold_start(
            lambda m=model, r=runtime, p=precision, n=t: load_session(m, r, p, n, calibration, agreement_samples),
            lambda s, x=x: s.run(x),
        )
        m = measure_session(session, x, timing, cold, batch=1)
        dims = dict(model=model.name, runtime=runtime, precision=precision, threads=t, batch=1)
        run.add_latency(m, **dims)
        quality = model.quality(session.run)
        if quality:
            run.add(quality[0], quality[1], "fraction", **dims)
        run.add(session.parity["metric"], session.parity["value"], "", n=session.parity["n"], **dims)
        rows.append(
            {
                **m.summary(),
                "size_mb": session.size_bytes() / 1e6,
                "parity_metric": session.parity["metric"],
                "parity": session.parity["value"],
                "quality_metric": quality[0] if quality else "",
                "quality": quality[1] if quality else np.nan,
            }
        )
    df = pd.DataFrame(rows)
    base = df[(df.runtime == "eager")].set_index(["model", "threads"])["p50_ms"]
    df["speedup_vs_eager"] = [base.get((r.model, r.threads), np.nan) / r.p50_ms for r in df.itertuples()]
    return df


def input_sweep(
    session: Session, timing: Timing, sizes: list[int] | None = None, batches: list[int] | None = None
) -> pd.DataFrame:
    """Latency against input size (image side or token count) at batch 1, and against batch size at the default."""
    rows = []
    for size in sizes or []:
        m = measure_session(session, session.model.inputs(1, size), timing, size=size, batch=1)
        rows.append({**m.summary(), "axis": "size", "size": size, "batch": 1})
    for batch in batches or []:
        m = measure_session(session, session.model.inputs(batch), timing, size=session.model.default_size, batch=batch)
        rows.append({**m.summary(), "axis": "batch", "size": session.model.default_size, "batch": batch})
    df = pd.DataFrame(rows)
    df["samples_per_s"] = df["batch"] / (df["p50_ms"] / 1e3)
    return df


def outputs_table(models: list[ZooModel]) -> pd.DataFrame:
    """What each model returns, its raw size per sample and the size of its JSON answer."""
    rows = []
    for model in models:
        out = load_session(model, "ort", "fp32", 1, check_samples=1).run(model.inputs(1))
        answer = model.postprocess(out)
        rows.append(
            {
                "model": model.name,
                "output": model.output_description,
                "shape": str(tuple(out.shape[1:])),
                "dtype": str(out.dtype),
                "raw_bytes": out[0].nbytes,
                "json_bytes": len(json.dumps(answer[0] if isinstance(answer, list) else answer)),
                "example": str(answer[0])[:80],
            }
        )
    return pd.DataFrame(rows)


def pareto_front(df: pd.DataFrame, cost: str, benefit: str) -> pd.DataFrame:
    """Rows not dominated by another row that is at most as costly and at least as good (one strictly)."""
    keep = []
    for i, r in df.iterrows():
        dominated = (
            (df[cost] <= r[cost]) & (df[benefit] >= r[benefit]) & ((df[cost] < r[cost]) | (df[benefit] > r[benefit]))
        ).any()
        if not dominated:
            keep.append(i)
    return df.loc[keep].sort_values(cost)

"""Notebook 01: the concepts of inference (anatomy, architecture, input data, mechanism, output), measured."""

from __future__ import annotations

import json

from tqdm import tqdm

from edgecloud import notebooks
from edgecloud.models.data import encode_jpeg, photo_crops
from edgecloud.models.families import CONFIDENT, ImageClassifier, SentenceEmbedder, ZooModel
from edgecloud.models.zoo import get_model
from edgecloud.params import ConceptsSection, Shared, Timing
from edgecloud.results.store import Config, Recorder
from edgecloud.runtimes import Session, combos, load_session
from edgecloud.timing import ColdStart, Measurement, cold_start, difference, measure, ratio

NOTEBOOK = notebooks.of_experiment(__name__)


def session_config(session: Session, **extra: object) -> Config:
    """The store's labels for a session: model, runtime, precision, threads."""
    s = session
    return Config(model=s.model.name, runtime=s.runtime, precision=s.precision, threads=s.threads, **extra)


def measure_session(
    session: Session, inputs: dict, timing: Timing, cold: ColdStart | None = None, **config: object
) -> Measurement:
    """Latency of one session on one input batch, labelled with the session's Config and the extra fields; eager
    sessions get their thread count once, before timing."""
    session.activate()
    return measure(lambda: session.run(inputs), session_config(session, **config), timing, cold)


def zoo(shared: Shared, section: ConceptsSection) -> list[ZooModel]:
    """The zoo models in params, then the user's own."""
    names = [*section.models, *(c.name for c in shared.custom_models if not c.generative)]
    return [get_model(name, shared.seed, shared.custom_models) for name in names]


def anatomy(shared: Shared, rec: Recorder) -> None:
    """Time each stage of one image request (JPEG in, top-3 out, EfficientNet-Lite0) and one text request
    (sentence in, vector out, MiniLM), both on ONNX Runtime fp32 with one thread."""
    timing = shared.timing
    image = load_session(get_model("efficientnet_lite0", shared.seed), "ort", "fp32", 1)
    text = load_session(get_model("minilm", shared.seed), "ort", "fp32", 1)
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
        (image, "input: decode JPEG + resize", lambda: img.decode([jpeg])),
        (image, "preprocess: normalise to NCHW", lambda: img.preprocess(pixels)),
        (image, "model", lambda: image.run(x)),
        (image, "postprocess: softmax + top-3 names", lambda: img.postprocess(logits)),
        (image, "output: serialise JSON", lambda: json.dumps(img.postprocess(logits))),
        (text, "input: tokenize", lambda: emb.tokenize(sentence)),
        (text, "model", lambda: text.run(tokens)),
        (text, "output: serialise JSON", lambda: json.dumps(vector.tolist())),
    ]
    for session, stage, fn in tqdm(stages, desc="anatomy", leave=False):
        rec.latency(measure(fn, session_config(session, stage=stage, scenario="anatomy", batch=1), timing))


FP32_CHECKS = 8  # fp32 runtimes are checked for parity on this many inputs; int8 on agreement_samples
RANDOM_CHECKS = 32  # random weights: similarity to fp32 is no accuracy measure, so fewer inputs do
FIDELITY_NOTES = {
    "top1_in_fp32_top5": "int8 top-1 among fp32's top 5",
    "top1_agreement_confident": f"top-1 agreement where fp32's top-1 probability ≥ {CONFIDENT}",
    "confident_share": f"share of inputs where fp32's top-1 probability ≥ {CONFIDENT}",
}


def check_samples(model: ZooModel, precision: str, section: ConceptsSection) -> int:
    """Inputs a runtime is checked on: agreement_samples for int8 of real or trained weights, fewer otherwise."""
    if precision != "int8":
        return FP32_CHECKS
    if model.weights.startswith("random"):
        return min(RANDOM_CHECKS, section.agreement_samples)
    return section.agreement_samples


def mechanisms(models: list[ZooModel], shared: Shared, section: ConceptsSection, rec: Recorder) -> None:
    """Every model × runtime × thread count at batch 1: latency, cold start, size, fp32 parity or int8 agreement,
    task quality where labels exist; and each model's FLOPs and parameter count."""
    configs = [(m, r, p, t) for m in models for r, p in combos() for t in shared.threads]
    timed: dict[Config, Measurement] = {}
    for model, runtime, precision, t in tqdm(configs, desc="runtimes", leave=False):
        if runtime == "eager" and getattr(model, "onnx_path", None):
            continue
        x = model.inputs(1)
        session, cold = cold_start(
            lambda m=model, r=runtime, p=precision, n=t: load_session(
                m, r, p, n, shared.calibration_samples, check_samples(m, p, section)
            ),
            lambda s, x=x: s.run(x),
        )
        m = measure_session(session, x, shared.timing, cold, batch=1, scenario="runtimes")
        cfg = m.config
        timed[cfg] = m
        rec.latency(m)
        rec.add("model_size", session.size_bytes() / 1e6, "MB", cfg)
        parity = session.parity
        kind_of = "fp32 parity" if precision == "fp32" else model.agreement_note()
        ci = parity.get("ci")
        rec.add(parity["metric"], parity["value"], "", cfg, ci=ci and (ci.low, ci.high), n=parity["n"], note=kind_of)
        for metric, value in parity.get("more", {}).items():
            rec.add(metric, value, "fraction", cfg, n=parity["n"], note=FIDELITY_NOTES[metric])
        if quality := model.quality(session.run):
            rec.add(quality[0], quality[1], "fraction", cfg, note="held-out labelled data")
    compare_runtimes(timed, shared.timing, rec)
    for model in models:
        rec.add("flops", model.flops(), "FLOP", Config(model=model.name, batch=1))
        rec.add(
            "parameters",
            model.parameter_count(),
            "count",
            Config(model=model.name),
            note=f"{model.task}; {model.weights}",
        )


def compare_runtimes(timed: dict[Config, Measurement], timing: Timing, rec: Recorder) -> None:
    """The comparisons that sentences and tables quote, computed once from the samples: each configuration's speed-up
    over eager fp32 at the same threads, and each model's fastest configuration against its runner-up (p50
    difference), both with moving-block bootstrap intervals."""
    stats = dict(confidence=timing.confidence, resamples=timing.bootstrap_resamples)
    for cfg, m in timed.items():
        eager = timed.get(cfg.with_(runtime="eager", precision="fp32"))
        if eager is not None:
            r = ratio(eager.samples, m.samples, 50, **stats)
            rec.add("speedup_vs_eager", r.value, "×", cfg, ci=(r.low, r.high), n=m.n)
    for model in dict.fromkeys(cfg.model for cfg in timed):
        ranked = sorted((c for c in timed if c.model == model), key=lambda c: timed[c].median)
        if len(ranked) > 1:
            a, b = ranked[:2]
            d = difference(timed[a].samples * 1e3, timed[b].samples * 1e3, 50, **stats)
            note = f"{b.runtime}-{b.precision}@{b.threads}t"
            rec.add("p50_gap_to_runner_up", d.value, "ms", a, ci=(d.low, d.high), n=timed[a].n, note=note)


def input_sweeps(shared: Shared, section: ConceptsSection, rec: Recorder) -> None:
    """EfficientNet-Lite0 against image side and MiniLM against token count, both against batch size (ONNX Runtime
    fp32, the most threads)."""
    for name, sizes in (("efficientnet_lite0", section.resolutions), ("minilm", section.seq_lengths)):
        session = load_session(get_model(name, shared.seed), "ort", "fp32", max(shared.threads))
        input_sweep(session, shared.timing, rec, sizes, section.batch_sizes)


def input_sweep(session: Session, timing: Timing, rec: Recorder, sizes: list[int], batches: list[int]) -> None:
    """Latency against input size (image side or token count) at batch 1, and against batch size at the default."""
    model = session.model
    for size in sizes:
        rec.latency(
            measure_session(session, model.inputs(1, size), timing, input_size=size, batch=1, scenario="size-sweep")
        )
    for batch in batches:
        m = measure_session(
            session, model.inputs(batch), timing, input_size=model.default_size, batch=batch, scenario="batch-sweep"
        )
        cfg = m.config
        rec.latency(m)
        rec.add("throughput", batch / m.median, "samples/s", cfg, n=m.n, note="batch ÷ p50 latency")


def outputs(models: list[ZooModel], rec: Recorder) -> None:
    """What each model returns: raw bytes per sample and the size of its JSON answer, with an example."""
    for model in models:
        out = load_session(model, "ort", "fp32", 1, check_samples=1).run(model.inputs(1))
        answer = model.postprocess(out)
        first = answer[0] if isinstance(answer, list) else answer
        cfg = Config(model=model.name, runtime="ort", precision="fp32", batch=1)
        note = f"{model.output_description} | {tuple(out.shape[1:])} {out.dtype} | {str(first)[:80]}"
        rec.add("output_bytes", out[0].nbytes, "bytes", cfg, note=note)
        rec.add("answer_json_bytes", len(json.dumps(first)), "bytes", cfg)

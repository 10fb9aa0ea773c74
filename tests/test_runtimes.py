"""Models and runtimes: fp32 parity for every model, int8 loads and runs, the cache is reused, user models join."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgecloud import cache
from edgecloud.models import get_model
from edgecloud.params import CustomModel, Timing
from edgecloud.results.store import Config
from edgecloud.runtimes import ParityError, load_session, reference
from edgecloud.runtimes.onnx_files import top5_floor
from edgecloud.timing import measure

ZOO = ["efficientnet_lite0", "mobilenetv2", "resnet50", "minilm", "digits_cnn", "digits_linear", "fraud_mlp"]


@pytest.mark.parametrize("name", ZOO)
def test_onnx_fp32_matches_eager(name: str) -> None:
    session = load_session(get_model(name), "ort", "fp32", 1, check_samples=2)
    assert session.parity["metric"] == "max_abs_diff"
    x = session.model.inputs(3, offset=5)
    ref = reference(session.model, x)
    assert np.abs(session.run(x) - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("name", ["efficientnet_lite0", "minilm", "digits_cnn", "fraud_mlp"])
def test_int8_loads_runs_and_reports_agreement(name: str) -> None:
    session = load_session(get_model(name), "ort", "int8", 1, calibration_samples=8, check_samples=8)
    x = session.model.inputs(8)
    out = session.run(session.model.inputs(2))
    assert out.shape[0] == 2 and np.isfinite(out).all()
    assert session.parity["metric"] in {"top1_agreement", "cosine_similarity", "decision_agreement"}
    metric, value = session.model.agreement(reference(session.model, x), session.run(x))  # recomputed here
    assert (session.parity["metric"], session.parity["value"]) == (metric, pytest.approx(value))
    assert value >= 0.5  # a broken quantization (scale or zero point wrong) agrees on next to nothing
    assert session.size_bytes() < load_session(session.model, "ort", "fp32", 1).size_bytes()


def test_trained_models_learn_their_task() -> None:
    digits = load_session(get_model("digits_cnn"), "ort", "fp32", 1)
    name, accuracy = digits.model.quality(digits.run)
    assert name == "accuracy" and accuracy > 0.9
    fraud = load_session(get_model("fraud_mlp"), "ort", "fp32", 1)
    name, ap = fraud.model.quality(fraud.run)
    assert name == "average_precision" and ap > 0.3  # 2% positives: a random scorer gets about 0.02


def test_efficientnet_sees_the_cat_and_the_rocket() -> None:
    """The real ImageNet weights on whole evaluation photos: scikit-image's cat (chelsea) and rocket."""
    model = get_model("efficientnet_lite0")
    top = model.postprocess(load_session(model, "ort", "fp32", 1).run(model.inputs(4)))
    assert top[2][0][0] in {"Egyptian Mau", "a cat having a striped coat", "tabby cat", "tiger cat"}
    assert top[3][0][0] in {"missile", "projectile", "space shuttle"}


def test_drifting_runtime_fails_parity(monkeypatch) -> None:
    model = get_model("digits_cnn")
    monkeypatch.setattr(
        "edgecloud.runtimes.session.reference", lambda m, x: np.zeros((len(x["input"]), 10), np.float32) + 5
    )
    monkeypatch.setattr("edgecloud.runtimes.session._REFERENCES", {})  # no reference cached by an earlier test
    with pytest.raises(ParityError, match="max"):
        load_session(model, "ort", "fp32", 1)


def test_cache_is_reused(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("EDGECLOUD_ROOT", str(tmp_path))
    (tmp_path / "params").mkdir()
    (tmp_path / "notebooks").mkdir()
    builds = []

    def build(path):
        builds.append(path)
        path.write_text("x")

    first = cache.cached({"model": "m", "kind": "k"}, ".txt", build)
    second = cache.cached({"model": "m", "kind": "k"}, ".txt", build)
    assert first == second and len(builds) == 1 and first.parent == tmp_path / "outputs" / "cache"
    other = cache.cached({"model": "m", "kind": "other"}, ".txt", build)
    assert other != first and len(builds) == 2


def test_an_eager_session_sets_its_threads_once_not_inside_the_timed_call(monkeypatch) -> None:
    before = torch.get_num_threads()
    try:
        session = load_session(get_model("digits_cnn"), "eager", "fp32", 1)
        assert torch.get_num_threads() == 1
        calls: list[int] = []
        monkeypatch.setattr(torch, "set_num_threads", calls.append)
        for _ in range(3):
            session.run(session.model.inputs(1))
        assert calls == []  # nothing process-wide happens per call
        session.activate()
        assert calls == [1]
    finally:
        monkeypatch.undo()
        torch.set_num_threads(before)


def test_a_users_onnx_file_runs_through_the_measurements(tmp_path) -> None:
    net = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)).eval()
    path = tmp_path / "mine.onnx"
    torch.onnx.export(
        net,
        (torch.randn(1, 12),),
        str(path),
        dynamo=False,
        input_names=["features"],
        output_names=["scores"],
        dynamic_axes={"features": {0: "batch"}},
    )
    model = get_model("mine", custom=[CustomModel(name="mine", onnx_path=str(path))])
    assert model.input_names == ("features",)
    assert model.parameter_count() == 12 * 16 + 16 + 16 * 3 + 3
    for precision in ("fp32", "int8"):
        session = load_session(model, "ort", precision, 1, calibration_samples=4)
        m = measure(
            lambda s=session: s.run(model.inputs(1)),
            Config(model="mine"),
            Timing(warmup=1, min_time_s=0.01, min_count=5),
        )
        assert m.n >= 5 and m.median > 0
    with pytest.raises(ValueError, match="torch_factory"):
        load_session(model, "eager", "fp32", 1)


def test_the_cache_key_covers_every_module_that_builds_models() -> None:
    from importlib.util import find_spec
    from pathlib import Path

    keyed = set(cache.keyed_files())
    models = Path(find_spec("edgecloud.models").origin).parent
    assert set(models.glob("*.py")) <= keyed
    assert Path(find_spec("edgecloud.runtimes.onnx_files").origin) in keyed  # builds the cached ONNX files
    assert all(path.is_file() for path in keyed)


# int8 must stay close to fp32 on held-out inputs for the models whose weights are real or trained here.
INT8_FLOORS = {"digits_cnn": 0.95, "digits_linear": 0.95, "fraud_mlp": 0.97, "minilm": 0.95}


@pytest.mark.parametrize("name", list(INT8_FLOORS))
def test_int8_agreement_stays_above_its_floor(name: str) -> None:
    session = load_session(get_model(name), "ort", "int8", 1, calibration_samples=128, check_samples=64)
    assert session.parity["value"] >= INT8_FLOORS[name], session.parity
    if quality := session.model.quality(session.run):
        fp32 = load_session(session.model, "ort", "fp32", 1)
        assert quality[1] >= session.model.quality(fp32.run)[1] - 0.02  # task quality within 2 points of fp32


def test_efficientnet_int8_flips_only_where_fp32_is_unsure() -> None:
    """On 240 held-out crops (scenes calibration never saw): int8's answer among fp32's top 5 on at least 99% of
    them (95% where the CPU lacks VNNI and weights have 7 bits), and top-1 agreement at least 0.95 where fp32's top-1
    probability is at least 0.4. The overall agreement is reported with its interval, not held to a floor: two thirds
    of these crops fp32 itself calls with under 0.4."""
    model = get_model("efficientnet_lite0")
    session = load_session(model, "ort", "int8", 2, calibration_samples=128, check_samples=240)
    parity, more = session.parity, session.parity["more"]
    assert parity["n"] == 240 and parity["ci"].low <= parity["value"] <= parity["ci"].high
    assert more["top1_in_fp32_top5"] >= top5_floor(), more
    assert more["top1_agreement_confident"] >= 0.95, more


def test_calibration_and_evaluation_photos_never_share_a_scene() -> None:
    from edgecloud.models.data import CALIBRATION_SCENES, EVALUATION_SCENES

    assert set(CALIBRATION_SCENES).isdisjoint(EVALUATION_SCENES)
    model = get_model("efficientnet_lite0")
    evaluation = model.inputs(24)["input"]
    for i in range(24):
        calib = model.calibration_inputs(i)["input"][0]
        assert not any(np.array_equal(calib, e) for e in evaluation)


def test_minilm_is_calibrated_on_sentences_it_is_never_evaluated_on() -> None:
    model = get_model("minilm")
    evaluation = model.inputs(model.distinct_inputs)["input_ids"]
    for i in range(32):
        calib = model.calibration_inputs(i)["input_ids"][0]
        assert not any(np.array_equal(calib, e) for e in evaluation)

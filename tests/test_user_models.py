"""A user's own model, exported with the pinned torch's own ONNX exporter as a user would: external weight files,
several integer inputs, fixed or dynamic batch, dynamic spatial dims with an input_shape; through fp32 and int8,
in-process and served."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from edgecloud.client import connect
from edgecloud.models import get_model
from edgecloud.params import CustomModel
from edgecloud.payloads import make_payload, samples
from edgecloud.runtimes import load_session
from edgecloud.serving import ServedModel, Server


class Detector(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, 2, 1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(16, 5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(x)


class TinyText(nn.Module):
    """Token ids and an attention mask in, a pooled vector out (like a sentence encoder)."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(100, 16)
        self.out = nn.Linear(16, 8)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).float()
        return self.out((self.emb(input_ids) * mask).sum(1) / mask.sum(1).clamp(min=1))


def _export(module: nn.Module, args: tuple, path, **kw) -> None:
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), args, str(path), **kw)


@pytest.fixture(scope="module")
def detector(tmp_path_factory) -> CustomModel:
    """The pinned exporter's defaults: weights in a separate .onnx.data file, a fixed batch of 1."""
    path = tmp_path_factory.mktemp("user") / "my_detector.onnx"
    torch.manual_seed(0)
    _export(Detector(), (torch.randn(1, 3, 64, 64),), path, input_names=["image"])
    assert path.with_name("my_detector.onnx.data").exists()
    return CustomModel(name="my_detector", onnx_path=str(path))


@pytest.fixture(scope="module")
def text(tmp_path_factory) -> CustomModel:
    """Two int64 inputs with dynamic batch and sequence length, shaped by input_shape."""
    path = tmp_path_factory.mktemp("user") / "my_text.onnx"
    ids, mask = torch.randint(0, 100, (2, 12)), torch.ones(2, 12, dtype=torch.int64)
    _export(
        TinyText(),
        (ids, mask),
        path,
        input_names=["input_ids", "attention_mask"],
        dynamo=False,
        dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
    )
    return CustomModel(name="my_text", onnx_path=str(path), input_shape=[1, 12])


@pytest.mark.parametrize("which", ["detector", "text"])
def test_a_user_model_runs_fp32_and_int8_in_process(request, which) -> None:
    spec = request.getfixturevalue(which)
    model = get_model(spec.name, custom=[spec])
    for precision in ("fp32", "int8"):
        session = load_session(model, "ort", precision, 1, calibration_samples=4)
        out = session.run(model.inputs(3))  # a fixed-batch file runs a batch of 3 one sample at a time
        assert len(out) == 3 and np.isfinite(out).all()
        assert session.parity["n"] == 8


def test_integer_inputs_and_masks_are_built_from_the_declared_inputs(text) -> None:
    model = get_model(text.name, custom=[text])
    x = model.inputs(2)
    assert set(x) == {"input_ids", "attention_mask"} and x["input_ids"].shape == (2, 12)
    assert x["input_ids"].dtype == np.int64 and set(np.unique(x["attention_mask"])) == {1}


def test_dynamic_dims_without_input_shape_fail_clearly(text) -> None:
    bare = text.model_copy(update={"input_shape": None})
    with pytest.raises(ValueError, match=r"dynamic dimensions \[1\] and no input_shape"):
        get_model(bare.name, custom=[bare])


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_a_user_model_is_served_like_in_process(detector, text, protocol) -> None:
    specs = (detector.model_dump(), text.model_dump())
    served = [ServedModel(s["name"], s["name"], threads=1, custom=specs) for s in specs]
    with Server(served) as srv:
        client = connect(protocol, srv.http_url, srv.grpc_url)
        try:
            for spec in (detector, text):
                model = get_model(spec.name, custom=[detector, text])
                payload = make_payload(model, "tensor", samples(model, 1))
                out, _ = client.infer(spec.name, payload)
                expected = load_session(model, "ort", "fp32", 1).run(payload.arrays)
                assert np.abs(out - expected).max() < 1e-4
        finally:
            client.close()


def test_dynamic_spatial_dims_run_with_an_input_shape(tmp_path) -> None:
    path = tmp_path / "fcn.onnx"
    _export(
        nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        (torch.zeros(1, 3, 32, 32),),
        path,
        dynamo=False,
        input_names=["image"],
        dynamic_axes={"image": {0: "b", 2: "h", 3: "w"}},
    )
    spec = CustomModel(name="fcn", onnx_path=str(path), input_shape=[1, 3, 48, 40])
    model = get_model("fcn", custom=[spec])
    assert model.input_spec() == {"image": ([1, 3, 48, 40], "float32")} and model.max_batch is None
    for precision in ("fp32", "int8"):
        assert load_session(model, "ort", precision, 1, calibration_samples=4).run(model.inputs(2)).shape == (2, 4)

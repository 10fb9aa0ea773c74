"""Small models trained here in seconds, with fixed seeds, on bundled or synthetic labelled data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from edgecloud.cache import cached
from edgecloud.models import architectures
from edgecloud.models.families import ZooModel


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

    def calibration_inputs(self, i: int) -> dict[str, np.ndarray]:
        """Calibrate on the training split, in a seeded order: the held-out split stays unseen until evaluation."""
        x, _, _, _ = self.data()
        order = np.random.default_rng(self.seed).permutation(len(x))
        return {"input": np.ascontiguousarray(x[order[i % len(x)] : order[i % len(x)] + 1])}

    def inputs(self, batch: int, size: int | None = None, offset: int = 0) -> dict[str, np.ndarray]:
        _, _, x, _ = self.data()
        idx = (np.arange(batch) + offset) % len(x)
        return {"input": np.ascontiguousarray(x[idx])}


@dataclass
class DigitsCNN(TrainedHere):
    """A CNN on scikit-learn's bundled 8×8 handwritten digits (real data, real accuracy)."""

    family: ClassVar[str] = "convolutional vision"

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
class DigitsLinear(DigitsCNN):
    """Logistic regression on the same digits and split: cheaper and less accurate than the CNN."""

    family: ClassVar[str] = "linear"

    def architecture(self) -> nn.Module:
        return architectures.digits_linear()


@dataclass
class FraudMLP(TrainedHere):
    """An MLP on a synthetic, imbalanced (2% positive) fraud-like table from make_classification."""

    family: ClassVar[str] = "MLP"

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

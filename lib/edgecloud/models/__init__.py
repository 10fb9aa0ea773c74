"""What runs: the zoo (zoo.py), its families, data (data.py, torch-free) and a user's own models (user.py).

Names are loaded on first use, so `edgecloud.models.data` can be imported without torch.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "get_model": "zoo",
    "ZooModel": "families",
    "ImageClassifier": "families",
    "SentenceEmbedder": "families",
    "UserModel": "user",
    "DigitsCNN": "trained",
    "FraudMLP": "trained",
    "encode_jpeg": "data",
    "photo_crops": "data",
    "cosine_similarity": "data",
}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


__all__ = sorted(_WHERE)

"""Real inputs the zoo feeds its models: photographs, sentences, JPEG bytes. Torch-free (PIL, numpy, sklearn)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

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

"""What a request carries: a sample (camera pixels for an image model, model-ready tensors for any other) turned
into a payload of one kind, and back into the model's inputs on the server. Client and server share this module.

Kinds: `tensor` (the model's input tensors, as they are fed to it), and for image models `uint8` (raw pixels,
preprocessed on the server) and `jpeg` (compressed bytes, decoded on the server).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:  # models (and torch) are only passed in; sending requests needs neither
    from edgecloud.models.families import ZooModel

PayloadKind = Literal["tensor", "uint8", "jpeg"]
Sample = np.ndarray | dict  # uint8 NHWC pixels (image models) or {input name: array}
DATATYPES = {
    "float32": "FP32",
    "float16": "FP16",
    "float64": "FP64",
    "int64": "INT64",
    "int32": "INT32",
    "int8": "INT8",
    "uint8": "UINT8",
    "bool": "BOOL",
    "object": "BYTES",
}


def is_image(model: ZooModel) -> bool:
    """Image classifiers take pixels from a camera; every other model takes its tensors directly."""
    return hasattr(model, "preprocess") and hasattr(model, "decode")


def kinds_for(model: ZooModel, wanted: list[str]) -> list[str]:
    """The payload kinds a model can receive, in the order asked: only `tensor` for a non-image model."""
    return list(wanted) if is_image(model) else ["tensor"]


def samples(model: ZooModel, n: int, offset: int = 0) -> Sample:
    """n request samples: camera-like frames (real photo crops) for image models, real inputs for the others."""
    if is_image(model):
        from edgecloud.models.data import photo_crops

        return photo_crops(n, model.default_size, model.seed, offset)
    return model.inputs(n, offset=offset)


def model_inputs(model: ZooModel, sample: Sample) -> dict[str, np.ndarray]:
    """What the model is fed for a sample: preprocessed pixels, or the tensors as they are."""
    return {"input": model.preprocess(sample)} if is_image(model) else sample


@dataclass(frozen=True)
class Payload:
    """One request body: named arrays of one kind (an object array of JPEG bytes for `jpeg`)."""

    kind: PayloadKind
    arrays: dict[str, np.ndarray]

    @property
    def nbytes(self) -> int:
        """Bytes of the tensors or the compressed images, before protocol encoding."""
        if self.kind == "jpeg":
            return sum(len(b) for a in self.arrays.values() for b in a)
        return sum(a.nbytes for a in self.arrays.values())

    @property
    def batch(self) -> int:
        return len(next(iter(self.arrays.values())))


def datatype(array: np.ndarray) -> str:
    """The Open Inference Protocol datatype of an array."""
    return DATATYPES[array.dtype.name if array.dtype != object else "object"]


def make_payload(model: ZooModel, kind: PayloadKind, sample: Sample) -> Payload:
    """Build a payload from a sample, doing on the client what this payload kind asks of it."""
    if kind == "tensor":
        return Payload(kind, {k: np.ascontiguousarray(v) for k, v in model_inputs(model, sample).items()})
    if not is_image(model):
        raise ValueError(f"{model.name} is not an image model: its only payload kind is 'tensor', not {kind!r}")
    if kind == "uint8":
        return Payload(kind, {"input": np.ascontiguousarray(sample)})
    from edgecloud.models.data import encode_jpeg

    return Payload(kind, {"input": np.array([encode_jpeg(p) for p in sample], dtype=object)})


def kind_of(model: ZooModel, datatypes: list[str]) -> PayloadKind:
    """The kind of a received request, from its inputs' datatypes."""
    if is_image(model) and len(datatypes) == 1 and datatypes[0] in ("UINT8", "BYTES"):
        return "uint8" if datatypes[0] == "UINT8" else "jpeg"
    return "tensor"


def to_model_inputs(model: ZooModel, payload: Payload) -> dict[str, np.ndarray]:
    """The server's side: a payload → the model's inputs (pixels preprocessed, JPEG decoded)."""
    if payload.kind == "tensor":
        return payload.arrays
    data = payload.arrays["input"]
    pixels = model.decode(list(data)) if payload.kind == "jpeg" else data
    return {"input": model.preprocess(pixels)}

"""A user's own model: an ONNX file, or a torch module from 'package.module:function'."""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch import nn

from edgecloud.models.families import ZooModel
from edgecloud.models.onnx_inputs import graph_inputs, resolved_shapes
from edgecloud.params import CustomModel


@dataclass
class UserModel(ZooModel):
    """A user's model: an ONNX file, or a torch module from 'package.module:function'."""

    spec: CustomModel | None = None

    def __post_init__(self) -> None:
        self.input_names = tuple(self.input_spec())

    @property
    def family(self) -> str:  # its own: no published figure is for it
        return f"user model {self.name}"

    def build(self) -> nn.Module:
        if self.spec.torch_factory is None:
            raise TypeError(f"{self.name} is an ONNX file: it has no eager PyTorch module")
        module, _ = _factory(self.spec.torch_factory)
        return module

    @property
    def onnx_path(self) -> Path | None:
        return Path(self.spec.onnx_path) if self.spec.onnx_path else None

    @cached_property
    def max_batch(self) -> int | None:
        """1 when the ONNX file fixes its batch dimension (larger batches then run one sample at a time); read once,
        since parsing a large file on every call would be timed as inference."""
        if not self.onnx_path:
            return None
        fixed = [dims[0] for dims, _ in graph_inputs(self.onnx_path).values() if dims and dims[0] is not None]
        return min(fixed) if fixed else None

    def input_spec(self) -> dict[str, tuple[list[int], str]]:
        """Input names → (shape with batch first, numpy dtype), from the file or factory, with params overrides."""
        if self.onnx_path:
            return resolved_shapes(self.onnx_path, self.spec.input_shape, self.spec.input_dtype)
        _, example = _factory(self.spec.torch_factory)
        shape = list(self.spec.input_shape or example.shape)
        return {"input": (shape, self.spec.input_dtype or str(example.numpy().dtype))}

    def source_digest(self) -> str:
        """A hash of the ONNX file and its external-data files, so the cache notices a changed model."""
        import onnx
        from onnx.external_data_helper import ExternalDataInfo, uses_external_data

        digest = hashlib.sha1(self.onnx_path.read_bytes())
        graph = onnx.load(str(self.onnx_path), load_external_data=False).graph
        files = {ExternalDataInfo(t).location for t in graph.initializer if uses_external_data(t)}
        for name in sorted(files):
            digest.update((self.onnx_path.parent / name).read_bytes())
        return digest.hexdigest()[:16]

    def inputs(self, batch: int, size: int | None = None, offset: int = 0) -> dict[str, np.ndarray]:
        """Synthetic inputs of the declared shape (a user model brings no data): labelled as such in reports."""
        rng = np.random.default_rng(self.seed + offset)
        out = {}
        for name, (shape, dtype) in self.input_spec().items():
            full = [batch, *shape[1:]]
            if "mask" in name:
                out[name] = np.ones(full, dtype)
            elif "int" in dtype:
                out[name] = rng.integers(0, 100, full).astype(dtype)
            else:
                out[name] = rng.standard_normal(full).astype(dtype)
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

"""A user's own model: an ONNX file, or a torch module from 'package.module:function'."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from edgecloud.models.families import ZooModel
from edgecloud.params import CustomModel


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

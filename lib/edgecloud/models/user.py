"""A user's own model: an ONNX file, or a torch module from 'package.module:function'."""

from __future__ import annotations

import hashlib
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

    def _graph_inputs(self) -> dict[str, tuple[list[int | None], str]]:
        """Input names → (dims, None where dynamic; numpy dtype), read without loading weights."""
        import onnx

        graph = onnx.load(str(self.onnx_path), load_external_data=False).graph
        init = {i.name for i in graph.initializer}
        out = {}
        for inp in graph.input:
            if inp.name not in init:
                t = inp.type.tensor_type
                dims = [d.dim_value if d.dim_value > 0 else None for d in t.shape.dim]
                out[inp.name] = (dims, onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name)
        return out

    @property
    def max_batch(self) -> int | None:
        """1 when the ONNX file fixes its batch dimension (larger batches then run one sample at a time)."""
        if not self.onnx_path:
            return None
        fixed = [dims[0] for dims, _ in self._graph_inputs().values() if dims and dims[0] is not None]
        return min(fixed) if fixed else None

    def input_spec(self) -> dict[str, tuple[list[int], str]]:
        """Input names → (shape with batch first, numpy dtype), from the file or factory; `input_shape` fills the
        dynamic dimensions of every input of its rank, and a dynamic dimension it does not fill is an error."""
        if self.onnx_path:
            spec = {}
            for name, (dims, dtype) in self._graph_inputs().items():
                given = self.spec.input_shape
                if given and len(given) == len(dims):
                    dims = [d if d is not None else g for d, g in zip(dims, given, strict=True)]
                missing = [i for i, d in enumerate(dims) if d is None and i > 0]
                if missing:
                    raise ValueError(
                        f"custom model {self.name}: input {name!r} has dynamic dimensions {missing} and no "
                        f"input_shape in params: add e.g. input_shape: {[1, *[d or 224 for d in dims[1:]]]}"
                    )
                spec[name] = ([1 if d is None else d for d in dims], self.spec.input_dtype or dtype)
            return spec
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

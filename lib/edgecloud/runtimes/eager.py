"""PyTorch eager fp32: the reference every other runtime is checked against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def torch_forward(module, inputs: dict[str, np.ndarray], threads: int | None = None) -> np.ndarray:
    """One no-grad call of a torch module on numpy inputs (by keyword when there are several); with threads, PyTorch
    uses that many for this call and then the thread count it had."""
    import torch

    if threads is not None:  # never inside a timed call: setting threads is process-wide and not free
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return torch_forward(module, inputs)
        finally:
            torch.set_num_threads(before)
    tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}
    with torch.no_grad():
        out = module(**tensors) if len(tensors) > 1 else module(*tensors.values())
    return out.numpy()


@dataclass
class EagerHandle:
    """A torch module run eagerly with a process-wide thread count."""

    model: object
    threads: int

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return torch_forward(self.model.module(), inputs)

    def activate(self) -> None:
        """Give PyTorch this session's thread count (process-wide, so once before timing, not per call)."""
        import torch

        torch.set_num_threads(self.threads)

    def size_bytes(self) -> int:
        """Bytes of the fp32 weights."""
        return sum(p.numel() * p.element_size() for p in self.model.module().parameters())


class Eager:
    """PyTorch eager mode, fp32."""

    name = "eager"
    precisions = ("fp32",)
    requires = ("torch",)

    def load(
        self, model, precision: str, threads: int, calibration_samples: int, spin_wait: bool = True
    ) -> EagerHandle:
        if getattr(model, "onnx_path", None):
            raise ValueError(f"{model.name} is an ONNX file: the eager runtime needs a torch_factory model")
        return EagerHandle(model, threads)


RUNTIME = Eager()

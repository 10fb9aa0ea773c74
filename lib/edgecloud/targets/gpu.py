"""cloud-gpu: eager fp32 PyTorch on CUDA, each call timed by CUDA events (device time, synchronised per call)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgecloud.models.families import ZooModel
from edgecloud.payloads import Sample, model_inputs
from edgecloud.results.store import Config
from edgecloud.vocabulary import CLOUD_GPU


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@dataclass
class Gpu:
    """The model's torch module on the first CUDA device; a sample (its whole batch, preprocessed) is one call."""

    model: ZooModel
    name: str = CLOUD_GPU

    def config(self, **extra: object) -> Config:
        return Config(target=self.name, model=self.model.name, runtime="eager", precision="fp32", **extra)

    def device(self) -> str:
        import torch

        return torch.cuda.get_device_name()

    def call(self, sample: Sample) -> Callable[[], float]:
        import torch

        module = self.model.module().cuda()
        x = {k: torch.from_numpy(v).cuda() for k, v in model_inputs(self.model, sample).items()}
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

        def timed() -> float:
            start.record()
            with torch.no_grad():
                module(**x) if len(x) > 1 else module(*x.values())
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / 1e3

        return timed

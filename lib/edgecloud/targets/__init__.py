"""Where a model runs: one module per kind of target, each a `Target` that turns a sample into a timed call.

`in_process` (edge targets: this process, a runtime session), `served` (an Open Inference Protocol server: the local
MLServer as cloud-cpu, or any URL as cloud-remote) and `gpu` (eager PyTorch on CUDA as cloud-gpu). Every latency goes
through one sampling API, `timing.collect`, in seconds; the store converts to milliseconds once. Adding a target is
one new module here that defines a Target, plus its tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from edgecloud.timing import Measurement, collect

if TYPE_CHECKING:
    from edgecloud.params import Timing
    from edgecloud.payloads import Sample
    from edgecloud.results.store import Config


class Target(Protocol):
    """Where a model answers: its name in the store, its configuration, and one request as a timed call."""

    name: str

    def config(self, **extra: object) -> Config:
        """The store's Config of this target's measurements, with extra fields (batch, network, ...)."""
        ...

    def call(self, sample: Sample) -> Callable[[], float]:
        """One request on sample, ready to repeat: each call returns its own latency in seconds."""
        ...


def latency(target: Target, sample: Sample, timing: Timing, **extra: object) -> Measurement:
    """The target's latency on sample (warmed up, repeated until timing's minimum time and count), labelled with its
    Config and the extra fields."""
    return collect(target.call(sample), target.config(**extra), timing)

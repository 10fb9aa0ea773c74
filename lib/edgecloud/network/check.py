"""The analytic network model against packet-level emulation: model percentiles over the baseline path's samples
against the emulated percentiles with their intervals. The one module that reads both."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgecloud.network import model as network
from edgecloud.network.emulation import IDLE_RTOS
from edgecloud.params import NetworkProfile, Timing
from edgecloud.timing import PERCENTILES, Estimate, bootstrap_percentiles, tail_untrusted

MODEL_DRAWS = 20  # network-time draws per loopback sample, so the model's median carries no sampling noise
CHECKED = ("p50", "p90", "p99")


@dataclass(frozen=True)
class ModelCheck:
    """The model's percentiles against the emulated ones (with CIs) for one profile; error = model / emulated − 1."""

    emulated: dict[str, Estimate]
    modeled_ms: dict[str, float]
    n: int

    def untrusted(self, q: str) -> bool:
        return tail_untrusted(PERCENTILES[q], self.n)

    def error(self, q: str) -> Estimate:
        """The model's relative error at percentile q; its CI comes from the emulated percentile's (none when that
        tail has too few samples beyond it)."""
        e, m = self.emulated[q], self.modeled_ms[q]
        if self.untrusted(q):
            return Estimate(m / e.value - 1, float("nan"), float("nan"))
        return Estimate(m / e.value - 1, m / e.high - 1, m / e.low - 1)


def compare(
    baseline_ms: np.ndarray,
    emulated_ms: np.ndarray,
    profile: NetworkProfile,
    up_bytes: int,
    down_bytes: int,
    rng: np.random.Generator,
    timing: Timing,
) -> ModelCheck:
    """Model percentiles (many draws over the baseline samples, loss included) against the emulated percentiles with
    their block-bootstrap CIs."""
    loop = rng.choice(baseline_ms, MODEL_DRAWS * len(baseline_ms))
    modeled = network.end_to_end_ms(loop, profile, up_bytes, down_bytes, rng, idle_rtos=IDLE_RTOS)
    est = bootstrap_percentiles(emulated_ms, timing.confidence, timing.bootstrap_resamples, 0)
    return ModelCheck(
        {q: est[q] for q in CHECKED},
        {q: float(np.percentile(modeled, PERCENTILES[q])) for q in CHECKED},
        len(emulated_ms),
    )

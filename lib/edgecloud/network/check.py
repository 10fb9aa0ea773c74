"""The analytic network model against packet-level emulation: model percentiles over the baseline path's samples
against the emulated percentiles with their intervals. The one module that reads both."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgecloud.network import model as network
from edgecloud.network.emulation import IDLE_RTOS
from edgecloud.params import NetworkProfile, Timing
from edgecloud.timing import PERCENTILES, Estimate, block_resample, bootstrap_percentiles, tail_untrusted

MODEL_DRAWS = 20  # network-time draws per loopback sample, so the model's median carries no sampling noise
CHECKED = ("p50", "p90", "p99")


@dataclass(frozen=True)
class ModelCheck:
    """The model's percentiles against the emulated ones (with CIs) for one profile; error = model / emulated − 1,
    with an interval that resamples both sides."""

    emulated: dict[str, Estimate]
    modeled_ms: dict[str, float]
    errors: dict[str, Estimate]
    n: int

    def untrusted(self, q: str) -> bool:
        return tail_untrusted(PERCENTILES[q], self.n)

    def error(self, q: str) -> Estimate:
        """The model's relative error at percentile q (no interval when that tail has too few samples beyond it)."""
        e = self.errors[q]
        return Estimate(e.value, float("nan"), float("nan")) if self.untrusted(q) else e


def compare(
    baseline_ms: np.ndarray,
    emulated_ms: np.ndarray,
    profile: NetworkProfile,
    up_bytes: int,
    down_bytes: int,
    rng: np.random.Generator,
    timing: Timing,
) -> ModelCheck:
    """Model percentiles (many draws over the baseline samples, loss included) against the emulated percentiles.

    The baseline is as finite a sample as the emulated path, so the error's interval comes from a block bootstrap
    of both: each resample of the baseline, plus the same network draws, against a resample of the emulated path."""
    baseline_ms, emulated_ms = np.asarray(baseline_ms, dtype=float), np.asarray(emulated_ms, dtype=float)
    pick = rng.integers(0, len(baseline_ms), MODEL_DRAWS * len(baseline_ms))
    net = network.network_time_ms(profile, up_bytes, down_bytes, len(pick), rng, idle_rtos=IDLE_RTOS)
    qs = [PERCENTILES[q] for q in CHECKED]
    modeled = np.percentile(baseline_ms[pick] + net, qs)
    emulated = np.percentile(emulated_ms, qs)
    est = bootstrap_percentiles(emulated_ms, timing.confidence, timing.bootstrap_resamples, 0)
    boot_rng = np.random.default_rng(0)
    base_boot = block_resample(baseline_ms, boot_rng, timing.bootstrap_resamples)
    emu_boot = np.percentile(block_resample(emulated_ms, boot_rng, timing.bootstrap_resamples), qs, axis=1)
    model_boot = np.percentile(base_boot[:, pick] + net, qs, axis=1)
    alpha = (1 - timing.confidence) / 2
    low, high = np.quantile(model_boot / emu_boot - 1, [alpha, 1 - alpha], axis=1)
    errors = {}
    for i, q in enumerate(CHECKED):
        point = float(modeled[i] / emulated[i] - 1)
        errors[q] = Estimate(point, float(min(low[i], point)), float(max(high[i], point)))
    return ModelCheck(
        {q: est[q] for q in CHECKED}, {q: float(modeled[i]) for i, q in enumerate(CHECKED)}, errors, len(emulated_ms)
    )

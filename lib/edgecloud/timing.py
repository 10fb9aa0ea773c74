"""Timing: samples in, statistics out, as immutable value objects (after torch.utils.benchmark).

Intervals come from a moving-block bootstrap, valid for serially correlated latencies."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: the statistics need neither the schema nor the store
    from edgecloud.params import Timing
    from edgecloud.results.store import Config


PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}
NOISE_IQR_RATIO = 0.10  # torch.utils.benchmark flags IQR/median above 10%
TAIL_MIN_BEYOND = 5  # a tail percentile needs this many samples beyond it to be trusted


@dataclass(frozen=True)
class Estimate:
    """A statistic with its confidence interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class ColdStart:
    """What a first request costs: loading the model, then the first call."""

    load_s: float
    first_call_s: float


@dataclass(frozen=True)
class Measurement:
    """Latency samples (seconds) with the store's Config of what produced them, and derived statistics."""

    config: Config
    samples: np.ndarray
    cold_start: ColdStart | None = None
    confidence: float = 0.95
    resamples: int = 1000
    seed: int = 0

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def label(self) -> str:
        """The configuration's fields that are set, joined: how the measurement prints."""
        return "/".join(str(v) for v in vars(self.config).values() if v is not None) or "unlabelled"

    @cached_property
    def percentiles(self) -> dict[str, Estimate]:
        """p50/p90/p99/p99.9 with percentile-bootstrap confidence intervals."""
        return bootstrap_percentiles(self.samples, self.confidence, self.resamples, self.seed)

    @property
    def median(self) -> float:
        return self.percentiles["p50"].value

    @cached_property
    def mean(self) -> float:
        return float(np.mean(self.samples))

    @cached_property
    def std(self) -> float:
        return float(np.std(self.samples, ddof=1)) if self.n > 1 else 0.0

    @property
    def cov(self) -> float:
        return self.std / self.mean if self.mean else float("nan")

    @cached_property
    def iqr(self) -> float:
        q75, q25 = np.percentile(self.samples, [75, 25])
        return float(q75 - q25)

    @property
    def noisy(self) -> bool:
        """IQR/median above NOISE_IQR_RATIO."""
        return not self.median or self.iqr / self.median > NOISE_IQR_RATIO

    def untrusted(self, name: str) -> bool:
        """A tail percentile with fewer than TAIL_MIN_BEYOND samples beyond it."""
        return tail_untrusted(PERCENTILES[name], self.n)

    @cached_property
    def warnings(self) -> tuple[str, ...]:
        out = []
        if self.noisy:
            ratio = self.iqr / self.median if self.median else float("inf")
            out.append(f"noisy: IQR/median {ratio:.0%}")
        for name in PERCENTILES:
            if self.untrusted(name):
                out.append(f"{name} untrusted: fewer than {TAIL_MIN_BEYOND} samples beyond it (n={self.n})")
        return tuple(out)

    def __str__(self) -> str:
        p = self.percentiles
        flags = f" [{'; '.join(self.warnings)}]" if self.warnings else ""
        return (
            f"{self.label}: p50 {p['p50'].value * 1e3:.3f} ms "
            f"(CI {p['p50'].low * 1e3:.3f}-{p['p50'].high * 1e3:.3f}), p99 {p['p99'].value * 1e3:.3f} ms, "
            f"n={self.n}{flags}"
        )


def tail_untrusted(q: float, n: int) -> bool:
    """True when percentile q of n samples has fewer than TAIL_MIN_BEYOND samples beyond it."""
    return q > 50 and n * (100 - q) / 100 < TAIL_MIN_BEYOND


def samples_for(q: float) -> int:
    """The fewest samples whose percentile q is trusted (TAIL_MIN_BEYOND beyond it): 500 for a p99."""
    return math.ceil(TAIL_MIN_BEYOND * 100 / (100 - q) - 1e-9) if q > 50 else 1


def wilson(successes: int, n: int, confidence: float = 0.95) -> Estimate:
    """A proportion with its Wilson score interval (independent trials)."""
    from scipy.stats import binomtest

    ci = binomtest(successes, n).proportion_ci(confidence, method="wilson")
    return Estimate(successes / n, float(ci.low), float(ci.high))


def block_length(n: int) -> int:
    """Moving-block length for serially correlated latencies: n^(1/3), the usual rate (Hall et al., 1995)."""
    return max(1, round(n ** (1 / 3)))


def block_resample(
    samples: np.ndarray, rng: np.random.Generator, resamples: int, block: int | None = None
) -> np.ndarray:
    """Moving-block bootstrap: resamples × n arrays built from random runs of `block` consecutive samples (by default
    block_length(n); 1 for independent draws, the plain bootstrap)."""
    n, b = len(samples), block or block_length(len(samples))
    starts = rng.integers(0, n - b + 1, size=(resamples, -(-n // b)))
    idx = (starts[:, :, None] + np.arange(b)).reshape(resamples, -1)[:, :n]
    return samples[idx]


def _paired_stat(a: np.ndarray, b: np.ndarray, q: float, op, confidence: float, resamples: int, seed: int) -> Estimate:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    boot = op(
        np.percentile(block_resample(a, rng, resamples), q, axis=1),
        np.percentile(block_resample(b, rng, resamples), q, axis=1),
    )
    point = float(op(np.percentile(a, q), np.percentile(b, q)))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return Estimate(point, float(min(low, point)), float(max(high, point)))


def difference(
    a: np.ndarray, b: np.ndarray, q: float = 50.0, confidence: float = 0.95, resamples: int = 1000, seed: int = 0
) -> Estimate:
    """Percentile q of a minus that of b, with a moving-block bootstrap interval (samples in time order)."""
    return _paired_stat(a, b, q, np.subtract, confidence, resamples, seed)


def ratio(
    a: np.ndarray, b: np.ndarray, q: float = 50.0, confidence: float = 0.95, resamples: int = 1000, seed: int = 0
) -> Estimate:
    """Percentile q of a divided by that of b (a speed-up when a is the slower), with a block-bootstrap interval."""
    return _paired_stat(a, b, q, np.divide, confidence, resamples, seed)


def percentile(
    samples: np.ndarray,
    q: float,
    confidence: float,
    resamples: int,
    rng: np.random.Generator,
    independent: bool = False,
) -> Estimate:
    """Percentile q with its bootstrap interval: moving blocks for latencies in time order, blocks of one for
    independent Monte Carlo draws. The one way a single percentile gets an interval."""
    samples = np.asarray(samples, dtype=float)
    boot = np.percentile(block_resample(samples, rng, resamples, 1 if independent else None), q, axis=1)
    return bootstrap_interval(float(np.percentile(samples, q)), boot, confidence)


def bootstrap_interval(point: float, boot: np.ndarray, confidence: float) -> Estimate:
    """point with the central `confidence` share of its bootstrap values boot (widened to hold the point)."""
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return Estimate(point, float(min(low, point)), float(max(high, point)))


def cluster_bootstrap(
    values: list[np.ndarray], stat: Callable[[list[np.ndarray]], float], resamples: int, seed: int, confidence: float
) -> Estimate:
    """stat over clusters (a prompt's tokens, an utterance's words), with a bootstrap that resamples whole clusters:
    the interval for values that are correlated within a cluster and independent between clusters."""
    rng = np.random.default_rng(seed)
    point = stat(values)
    boot = [stat([values[i] for i in rng.integers(0, len(values), len(values))]) for _ in range(resamples)]
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return Estimate(point, float(min(low, point)), float(max(high, point)))


def bootstrap_percentiles(samples: np.ndarray, confidence: float, resamples: int, seed: int) -> dict[str, Estimate]:
    """Percentiles of samples (in time order) with moving-block bootstrap intervals, resampled in bounded chunks.

    Blocks keep the serial correlation of consecutive latencies (a warm cache, a noisy neighbour) in each resample.
    """
    samples = np.asarray(samples, dtype=float)
    qs = list(PERCENTILES.values())
    point = np.percentile(samples, qs)
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // max(len(samples), 1))
    boots = []
    for start in range(0, resamples, chunk):
        boots.append(np.percentile(block_resample(samples, rng, min(chunk, resamples - start)), qs, axis=1).T)
    boot = np.vstack(boots)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    return {
        name: Estimate(float(point[i]), float(min(low[i], point[i])), float(max(high[i], point[i])))
        for i, name in enumerate(PERCENTILES)
    }


def clocked(fn: Callable[[], object]) -> Callable[[], float]:
    """fn as a timed call: each call returns its own duration in seconds (perf_counter_ns)."""
    clock = time.perf_counter_ns

    def call() -> float:
        t0 = clock()
        fn()
        return (clock() - t0) / 1e9

    return call


def collect(
    call: Callable[[], float], config: Config, timing: Timing, cold_start: ColdStart | None = None
) -> Measurement:
    """The one sampling loop: warm up, then take the seconds each call reports until both timing.min_time_s and
    timing.min_count are reached (at most max_count). A call times itself, so a GPU's events or a server's client
    fit the same loop."""
    for _ in range(timing.warmup):
        call()
    samples: list[float] = []
    deadline = time.perf_counter() + timing.min_time_s
    while len(samples) < timing.max_count and (len(samples) < timing.min_count or time.perf_counter() < deadline):
        samples.append(call())
    return from_samples(np.asarray(samples), config, timing, cold_start)


def collect_pair(
    a: Callable[[], float], b: Callable[[], float], config_a: Config, config_b: Config, timing: Timing
) -> tuple[Measurement, Measurement]:
    """`collect` over two calls taken alternately (a, then b), so drift on a shared machine falls on both alike and
    their samples pair up in time order."""
    firsts: list[float] = []

    def both() -> float:
        firsts.append(a())
        return b()

    second = collect(both, config_b, timing)
    return from_samples(np.asarray(firsts[timing.warmup :]), config_a, timing), second


def measure(
    fn: Callable[[], object], config: Config, timing: Timing, cold_start: ColdStart | None = None
) -> Measurement:
    """Latency of fn by the wall clock: `collect` over `clocked(fn)`."""
    return collect(clocked(fn), config, timing, cold_start)


def from_samples(
    samples_s: np.ndarray, config: Config, timing: Timing, cold_start: ColdStart | None = None
) -> Measurement:
    """Wrap latencies measured elsewhere (a server client, LoadGen, a model) in a Measurement."""
    return Measurement(
        config, np.asarray(samples_s, dtype=float), cold_start, timing.confidence, timing.bootstrap_resamples
    )


def cold_start(load: Callable[[], object], first_call: Callable[[object], object]) -> tuple[object, ColdStart]:
    """Time loading (returns the loaded object) and the first call on it, separately."""
    t0 = time.perf_counter()
    loaded = load()
    t1 = time.perf_counter()
    first_call(loaded)
    t2 = time.perf_counter()
    return loaded, ColdStart(t1 - t0, t2 - t1)


@dataclass(frozen=True)
class TokenTimeline:
    """One streamed answer: each token (or chunk, from a server) and when it arrived, in seconds from the request;
    a server's answer also keeps its text."""

    tokens: tuple[int, ...]
    arrivals: np.ndarray
    text: str = ""

    @property
    def ttft(self) -> float:
        """Time to first token: prefill plus choosing the first token (plus the network, when served)."""
        return float(self.arrivals[0])

    @property
    def gaps(self) -> np.ndarray:
        """The time between consecutive tokens: every one, not their mean, since a reader sees the stutter."""
        return np.diff(self.arrivals)

    @property
    def tpot(self) -> float:
        """Time per output token after the first: (end-to-end − TTFT) / (tokens − 1), MLPerf's definition."""
        return float((self.arrivals[-1] - self.arrivals[0]) / max(len(self.arrivals) - 1, 1))


def clock_stream(stream: Callable[[], Iterable[int]]) -> TokenTimeline:
    """Time one streamed answer from the call that starts it to each token it yields."""
    clock = time.perf_counter
    t0 = clock()
    tokens, arrivals = [], []
    for token in stream():
        arrivals.append(clock() - t0)
        tokens.append(int(token))
    if not tokens:
        raise RuntimeError("the stream ended without a token")
    return TokenTimeline(tuple(tokens), np.asarray(arrivals))

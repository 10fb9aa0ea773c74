"""Reading the store: rows of a metric for a configuration, one value, raw samples, a stored row's Config."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd

from edgecloud.results.store import Config


def select(rows: pd.DataFrame, metric: str | None = None, **config: object) -> pd.DataFrame:
    """Rows of one metric whose configuration matches every given field (None matches a missing value)."""
    mask = pd.Series(True, index=rows.index)
    if metric:
        mask &= rows["metric"] == metric
    for key, want in config.items():
        mask &= rows[key].isna() if want is None else (rows[key] == want).fillna(False)
    return rows[mask]


def value(rows: pd.DataFrame, metric: str, **config: object) -> float:
    """The one value of a metric for a configuration (KeyError naming it when absent)."""
    found = select(rows, metric, **config)
    if found.empty:
        raise KeyError(f"no {metric} for {config} in the results")
    return float(found["value"].iloc[0])


def samples_of(samples: pd.DataFrame, config: Config) -> np.ndarray:
    """Raw latencies (ms, in time order) recorded under exactly this configuration."""
    mask = pd.Series(True, index=samples.index)
    for f in fields(Config):
        want = getattr(config, f.name)
        mask &= samples[f.name].isna() if want is None else (samples[f.name] == want).fillna(False)
    return samples.loc[mask, "latency_ms"].to_numpy()


def config_of(r) -> Config:
    """The Config of a stored row (a namedtuple from itertuples, or a Series)."""
    return Config(**{k: (None if pd.isna(getattr(r, k)) else getattr(r, k)) for k in Config.__dataclass_fields__})

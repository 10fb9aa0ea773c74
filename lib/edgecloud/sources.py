"""Sourced figures: published numbers with their source and date, read from data/sourced_figures.csv."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd

from edgecloud import paths


@dataclass(frozen=True)
class Figure:
    """A published number, never measured here."""

    key: str
    value: str
    unit: str
    source: str
    date: str

    def __float__(self) -> float:
        return float(self.value)

    def cite(self) -> str:
        return f"{self.source}, {self.date}"


@cache
def table() -> pd.DataFrame:
    return pd.read_csv(paths.project_root() / "data" / "sourced_figures.csv", dtype=str, keep_default_na=False)


def sourced(key: str) -> Figure:
    """One sourced figure by key (KeyError names the file and the known keys)."""
    rows = table()[table()["key"] == key]
    if rows.empty:
        raise KeyError(f"data/sourced_figures.csv has no key {key!r}; known: {sorted(table()['key'])}")
    r = rows.iloc[0]
    return Figure(key, r["value"], r["unit"], r["source"], r["date"])

"""The results store: one tidy parquet table per run under outputs/results/<machine>/runs/."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pandas as pd

from edgecloud import paths, system
from edgecloud.timing import Measurement

Kind = Literal["measured", "modeled", "sourced"]
DIMENSIONS = (
    "target",
    "model",
    "runtime",
    "precision",
    "threads",
    "batch",
    "scenario",
    "network",
    "payload",
    "protocol",
    "concurrency",
)
COLUMNS = (
    "run_id",
    "machine",
    "notebook",
    *DIMENSIONS,
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "unit",
    "kind",
    "source",
    "started",
    "finished",
)


def machine_id() -> str:
    """A readable, stable fingerprint of this machine: cpu, cores, memory and a short hash."""
    d = system.describe()
    key = f"{d['cpu_model']}|{d['usable_cpus']}|{d['memory_gib']}|{d['os']}"
    words = "".join(c if c.isalnum() else "-" for c in d["cpu_model"].lower()).split("-")
    name = "-".join(w for w in words if w)[:32]
    return f"{name}-{d['usable_cpus']}c-{hashlib.sha1(key.encode()).hexdigest()[:6]}"


@dataclass
class Run:
    """Rows of one notebook run, written atomically to the store in one parquet file."""

    notebook: str
    run_id: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6])
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    rows: list[dict] = field(default_factory=list)

    def add(
        self,
        metric: str,
        value: float,
        unit: str,
        kind: Kind = "measured",
        *,
        ci: tuple[float, float] | None = None,
        n: int | None = None,
        source: str = "",
        **dims: object,
    ) -> None:
        """Add one number with its dimensions (see DIMENSIONS), unit and kind."""
        unknown = set(dims) - set(DIMENSIONS)
        if unknown:
            raise ValueError(f"unknown result dimensions {sorted(unknown)}; allowed: {DIMENSIONS}")
        low, high = ci if ci else (float("nan"), float("nan"))
        self.rows.append(
            {
                "metric": metric,
                "value": float(value),
                "ci_low": low,
                "ci_high": high,
                "n": n,
                "unit": unit,
                "kind": kind,
                "source": source,
                **dims,
            }
        )

    def add_latency(self, m: Measurement, **dims: object) -> None:
        """Add a measurement's percentiles (ms, with CIs), mean and cold start."""
        for name, est in m.percentiles.items():
            self.add(f"latency_{name}", est.value * 1e3, "ms", ci=(est.low * 1e3, est.high * 1e3), n=m.n, **dims)
        self.add("latency_mean", m.mean * 1e3, "ms", n=m.n, **dims)
        if m.cold_start:
            self.add("load_time", m.cold_start.load_s * 1e3, "ms", n=1, **dims)
            self.add("first_call", m.cold_start.first_call_s * 1e3, "ms", n=1, **dims)

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows)
        for col in COLUMNS:
            if col not in df:
                df[col] = None
        df["run_id"], df["machine"], df["notebook"] = self.run_id, machine_id(), self.notebook
        df["started"], df["finished"] = self.started, datetime.now(UTC).isoformat(timespec="seconds")
        df["n"] = df["n"].astype("Int64")
        df["threads"] = pd.to_numeric(df["threads"]).astype("Int64")
        df["batch"] = pd.to_numeric(df["batch"]).astype("Int64")
        df["concurrency"] = pd.to_numeric(df["concurrency"]).astype("Int64")
        for col in ("target", "model", "runtime", "precision", "scenario", "network", "payload", "protocol"):
            df[col] = df[col].astype("string")
        return df[list(COLUMNS)]

    def write(self, root: Path | None = None) -> Path:
        """Write the run to <root>/<machine>/runs/<run_id>.parquet via a temporary file."""
        folder = (root or paths.results_dir()) / machine_id() / "runs"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.notebook}-{self.run_id}.parquet"
        tmp = path.with_suffix(".tmp")
        self.frame().to_parquet(tmp, index=False)
        os.replace(tmp, path)
        return path


def result_roots() -> list[Path]:
    """Every folder that may hold results: this machine's outputs and committed data/results/."""
    return [paths.results_dir(), paths.project_root() / "data" / "results"]


def read_runs(roots: list[Path] | None = None, notebook: str | None = None, latest: bool = True) -> pd.DataFrame:
    """All runs found under the roots, labelled by machine; by default the latest run per machine and notebook."""
    files = [f for root in (roots or result_roots()) if root.exists() for f in root.glob("*/runs/*.parquet")]
    if notebook:
        files = [f for f in files if f.name.startswith(notebook)]
    if not files:
        return pd.DataFrame(columns=list(COLUMNS))
    df = pd.concat([pd.read_parquet(f).assign(machine=f.parent.parent.name) for f in files], ignore_index=True)
    if latest:
        last = df.groupby(["machine", "notebook"])["run_id"].transform("max")
        df = df[df["run_id"] == last]
    return df.reset_index(drop=True)

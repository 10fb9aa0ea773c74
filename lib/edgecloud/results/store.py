"""The results store: every number of a run as tidy rows, written once by a Recorder and read by everyone.

Layout: <root>/<machine>/runs/<run_id>/rows.parquet (statistics), samples.parquet (raw latencies, ms) and
run.json (provenance; `complete` turns true only when the notebook or `edgecloud measure` finished).
Roots are this machine's outputs/results/ and the committed data/results/ (runs measured elsewhere).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from edgecloud import paths
from edgecloud.env import RUN_ID_VAR
from edgecloud.machine import describe, git_state, machine_id
from edgecloud.results import metrics
from edgecloud.results.metrics import Kind

if TYPE_CHECKING:  # a Measurement is only passed in; reading the store needs pandas and pyarrow alone
    from edgecloud.timing import Measurement


@dataclass(frozen=True)
class Config:
    """What produced a number: one label set, the same in rows, samples and tables."""

    model: str | None = None
    runtime: str | None = None
    precision: str | None = None
    threads: int | None = None
    target: str | None = None
    payload: str | None = None
    protocol: str | None = None
    network: str | None = None
    scenario: str | None = None
    concurrency: int | None = None
    batch: int | None = None
    input_size: int | None = None
    stage: str | None = None
    scale: float | None = None

    def with_(self, **changes: object) -> Config:
        return replace(self, **changes)


CONFIG = tuple(f.name for f in fields(Config))
INT_CONFIG = ("threads", "concurrency", "batch", "input_size")
PROVENANCE = ("run_id", "machine", "commit", "dirty", "params_hash", "notebook")
STATISTIC = ("metric", "value", "ci_low", "ci_high", "n", "unit", "kind", "noisy", "untrusted", "loadgen_valid")
COLUMNS = (*PROVENANCE, *STATISTIC, *CONFIG, "source", "note")
SAMPLE_COLUMNS = (*PROVENANCE, "kind", *CONFIG, "latency_ms")


def params_hash(params: dict | None) -> str:
    """A short hash of a notebook's resolved parameters."""
    blob = json.dumps(params or {}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def _typed(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    for col in columns:
        if col not in df:
            df[col] = None
    for col in (*INT_CONFIG, "n"):
        if col in df:
            df[col] = pd.to_numeric(df[col]).astype("Int64")
    for col in ("noisy", "untrusted", "loadgen_valid", "dirty"):
        if col in df:
            df[col] = df[col].astype("boolean")
    if "scale" in df:
        df["scale"] = pd.to_numeric(df["scale"]).astype(float)
    for col in set(CONFIG) - {*INT_CONFIG, "scale"} | {"source", "note", "metric", "unit", "kind"}:
        if col in df:
            df[col] = df[col].astype("string")
    return df[list(columns)]


class Recorder:
    """Collects one run's rows and samples and writes them to the store; the only writer there is."""

    def __init__(self, notebook: str, params: dict | None = None, root: Path | None = None, run_id: str | None = None):
        self.notebook, self.root = notebook, root or paths.results_dir()
        self.run_id = (
            run_id
            or os.environ.get(RUN_ID_VAR)
            or (datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6])
        )
        git = git_state(paths.project_root())
        self.provenance = {
            "run_id": self.run_id,
            "machine": machine_id(),
            "commit": git["commit"],
            "dirty": git["dirty"],
            "params_hash": params_hash(params),
            "notebook": notebook,
        }
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self._rows: list[dict] = []
        self._samples: list[pd.DataFrame] = []

    @property
    def folder(self) -> Path:
        return self.root / self.provenance["machine"] / "runs" / self.run_id

    def add(
        self,
        metric: str,
        value: float,
        unit: str,
        config: Config,
        kind: Kind = "measured",
        *,
        ci: tuple[float, float] | None = None,
        n: int | None = None,
        noisy: bool = False,
        untrusted: bool = False,
        valid: bool | None = None,
        source: str = "",
        note: str = "",
    ) -> None:
        """Record one statistic with its configuration, unit, kind and flags; the metric, its unit and kind must be
        in the registry (`results.metrics`)."""
        metrics.check(metric, unit, kind)
        low, high = ci if ci else (float("nan"), float("nan"))
        self._rows.append(
            {
                **self.provenance,
                "metric": metric,
                "value": float(value),
                "ci_low": float(low),
                "ci_high": float(high),
                "n": n,
                "unit": unit,
                "kind": kind,
                "noisy": noisy,
                "untrusted": untrusted,
                "loadgen_valid": valid,
                "source": source,
                "note": note,
                **asdict(config),
            }
        )

    def latency(self, m: Measurement, kind: Kind = "measured", source: str = "") -> None:
        """A measurement's percentiles (ms, CIs withheld on untrusted tails), mean, cold start and raw samples, under
        the Config it carries."""
        config = m.config
        for name, est in m.percentiles.items():
            untrusted = m.untrusted(name)
            ci = None if untrusted else (est.low * 1e3, est.high * 1e3)
            self.add(
                f"latency_{name}",
                est.value * 1e3,
                "ms",
                config,
                kind,
                ci=ci,
                n=m.n,
                noisy=m.noisy,
                untrusted=untrusted,
                source=source,
            )
        self.add("latency_mean", m.mean * 1e3, "ms", config, kind, n=m.n, noisy=m.noisy, source=source)
        if m.cold_start:
            self.add("load_time", m.cold_start.load_s * 1e3, "ms", config, n=1)
            self.add("first_call", m.cold_start.first_call_s * 1e3, "ms", config, n=1)
        self.samples(m.samples * 1e3, config, kind)

    def samples(self, latency_ms, config: Config, kind: Kind = "measured") -> None:
        """Raw latency samples (ms), kept so distributions can be combined later (Monte Carlo, differences)."""
        df = pd.DataFrame({"latency_ms": pd.Series(latency_ms, dtype=float)})
        for key, value in {**self.provenance, "kind": kind, **asdict(config)}.items():
            df[key] = value
        self._samples.append(df)

    def frame(self) -> pd.DataFrame:
        """This run's rows so far, typed as the store holds them."""
        return _typed(pd.DataFrame(self._rows), COLUMNS)

    def sample_frame(self) -> pd.DataFrame:
        frames = [f for f in self._samples if len(f)]
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return _typed(df, SAMPLE_COLUMNS)

    def flush(self, complete: bool = False) -> Path:
        """Write rows, samples and run.json atomically; complete=True marks the run finished."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, df in (("rows", self.frame()), ("samples", self.sample_frame())):
            tmp = self.folder / f".{name}.tmp"
            df.to_parquet(tmp, index=False)
            os.replace(tmp, self.folder / f"{name}.parquet")
        meta = {
            **self.provenance,
            "started": self.started,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "complete": complete,
            "system": describe(),
        }
        tmp = self.folder / ".run.tmp"
        tmp.write_text(json.dumps(meta, indent=1))
        os.replace(tmp, self.folder / "run.json")
        return self.folder

    def stored(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Flush, then read this run's rows and samples back from the store: what tables are built from."""
        folder = self.flush()
        return pd.read_parquet(folder / "rows.parquet"), pd.read_parquet(folder / "samples.parquet")

    def complete(self) -> None:
        """Flush and mark the run complete: call it as the notebook's last step."""
        self.flush(complete=True)


class MissingResults(LookupError):
    """An earlier notebook's results are not in the store."""


def latest_here(notebook: str, table: str = "rows") -> pd.DataFrame:
    """Rows (or samples) of this machine's latest complete run of a notebook, or a clear error to run it first."""
    reader = read if table == "rows" else read_samples
    rows = reader([paths.results_dir()], notebook=notebook)
    rows = rows[rows["machine"] == machine_id()]
    if rows.empty:
        raise MissingResults(
            f"no complete run of notebooks/{notebook}.ipynb on this machine in {paths.results_dir()}: "
            "run that notebook first (or `make report`)"
        )
    return rows


def result_roots() -> list[Path]:
    """Every folder that may hold results: this machine's outputs and committed data/results/."""
    return [paths.results_dir(), paths.project_root() / "data" / "results"]


def runs(roots: list[Path] | None = None, include_incomplete: bool = False) -> pd.DataFrame:
    """One row per stored run (run.json), labelled by the folder's machine name; complete runs by default."""
    metas = []
    for root in roots or result_roots():
        for meta in sorted(root.glob("*/runs/*/run.json")) if root.exists() else []:
            doc = json.loads(meta.read_text())
            metas.append({**doc, "machine": meta.parent.parent.parent.name, "folder": str(meta.parent)})
    df = pd.DataFrame(metas, columns=["run_id", "machine", "notebook", "complete", "started", "finished", "folder"])
    return df if include_incomplete else df[df["complete"].astype(bool)]


def _read(
    table: str,
    columns: tuple[str, ...],
    roots: list[Path] | None,
    notebook: str | None,
    latest: bool,
    include_incomplete: bool,
) -> pd.DataFrame:
    found = runs(roots, include_incomplete)
    if notebook:
        found = found[found["notebook"] == notebook]
    if latest and len(found):
        found = found[found["run_id"] == found.groupby(["machine", "notebook"])["run_id"].transform("max")]
    files = [Path(f) / f"{table}.parquet" for f in found["folder"]]
    frames = [pd.read_parquet(f).assign(machine=m) for f, m in zip(files, found["machine"], strict=True) if f.exists()]
    if not frames:
        return _typed(pd.DataFrame(), columns)
    return _typed(pd.concat(frames, ignore_index=True), columns)


def read(
    roots: list[Path] | None = None,
    notebook: str | None = None,
    latest: bool = True,
    include_incomplete: bool = False,
) -> pd.DataFrame:
    """Rows of the stored runs (by default the latest complete run per machine and notebook)."""
    return _read("rows", COLUMNS, roots, notebook, latest, include_incomplete)


def read_samples(
    roots: list[Path] | None = None,
    notebook: str | None = None,
    latest: bool = True,
    include_incomplete: bool = False,
) -> pd.DataFrame:
    """Raw latency samples of the stored runs, selected as in read()."""
    return _read("samples", SAMPLE_COLUMNS, roots, notebook, latest, include_incomplete)

"""Golden copies: a value in a canonical JSON form, compared with the reviewed copy under tests/fixtures/golden/.

Regenerate after an intended change with `EDGECLOUD_REGOLD=1 python -m pytest tests/...` and review the diff."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, is_dataclass
from pathlib import Path

import numpy as np
import pandas as pd

GOLDEN = Path(__file__).parent / "fixtures" / "golden"


def canonical(value: object) -> object:
    """A JSON-able form of a table, series, dict or value, floats to 6 significant digits (NaN as null)."""
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index()
        return {"columns": [str(c) for c in frame.columns], "rows": canonical(frame.to_numpy().tolist())}
    if isinstance(value, pd.Series):
        return canonical(value.to_dict())
    if is_dataclass(value):
        return canonical(asdict(value))
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(f"{float(value):.6g}")
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if value is None or value is pd.NA or isinstance(value, str | int | bool):
        return None if value is pd.NA else value
    return str(value)


def assert_golden(name: str, value: object) -> None:
    """value, made canonical, equals tests/fixtures/golden/<name>.json (rewritten first under EDGECLOUD_REGOLD)."""
    got = canonical(value)
    path = GOLDEN / f"{name}.json"
    if os.environ.get("EDGECLOUD_REGOLD"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    assert got == json.loads(path.read_text()), f"{name} changed; if intended, regenerate (see tests/golden.py)"

"""The results store: a run written and read back is the same table; other machines' folders merge, labelled."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd

from edgecloud.params import Timing
from edgecloud.results import COLUMNS, Run, machine_id, read_runs
from edgecloud.timing import from_samples


def test_write_then_read_gives_the_same_table(tmp_path) -> None:
    run = Run("02-cloud-edge-measurements")
    m = from_samples(np.linspace(0.001, 0.002, 100), "x", Timing(bootstrap_resamples=100))
    run.add_latency(m, target="edge-1t", model="digits_cnn", runtime="ort", precision="int8", threads=1, batch=1)
    run.add("e2e_latency_p50", 55.0, "ms", "modeled", network="4g", source="Opensignal 2019")
    path = run.write(tmp_path)
    assert path.parent == tmp_path / machine_id() / "runs"
    back = read_runs([tmp_path])
    expected = run.frame()
    pd.testing.assert_frame_equal(back.drop(columns="finished"), expected.drop(columns="finished"), check_dtype=False)
    assert list(back.columns) == list(COLUMNS)
    assert set(back.kind) == {"measured", "modeled"}


def test_other_machines_are_merged_and_labelled(tmp_path) -> None:
    mine = Run("01-inference-concepts")
    mine.add("latency_p50", 2.0, "ms", model="minilm")
    mine.write(tmp_path / "outputs")
    theirs = Run("01-inference-concepts")
    theirs.add("latency_p50", 9.0, "ms", model="minilm")
    written = theirs.write(tmp_path / "scratch")
    pi = tmp_path / "data" / "raspberry-pi-5-4c" / "runs"
    pi.mkdir(parents=True)
    shutil.copy(written, pi / written.name)
    df = read_runs([tmp_path / "outputs", tmp_path / "data"])
    assert set(df.machine) == {machine_id(), "raspberry-pi-5-4c"}
    assert df.set_index("machine").loc["raspberry-pi-5-4c", "value"] == 9.0


def test_latest_run_per_machine_and_notebook(tmp_path) -> None:
    for value in (1.0, 2.0):
        run = Run("00-system-under-test", run_id=f"2026010{int(value)}T000000-aaaaaa")
        run.add("gemm_rate", value, "GFLOP/s", threads=1)
        run.write(tmp_path)
    assert read_runs([tmp_path]).value.tolist() == [2.0]
    assert sorted(read_runs([tmp_path], latest=False).value) == [1.0, 2.0]


def test_unknown_dimension_is_rejected() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown result dimensions"):
        Run("x").add("m", 1.0, "ms", colour="red")

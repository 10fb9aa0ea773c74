"""The results store: rows and samples written and read back, complete runs only, other machines merged, and the
store readable without torch, onnxruntime, papermill or Jupyter."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from edgecloud.machine import machine_id
from edgecloud.params import Timing
from edgecloud.results import COLUMNS, Config, Recorder, query, read, read_samples, runs, tables
from edgecloud.sentences import concepts as concepts_says
from edgecloud.timing import from_samples

CFG = Config(target="edge-1t", model="digits_cnn", runtime="ort", precision="int8", threads=1, batch=1)


def _measurement(n: int = 100, scale: float = 1.0):
    return from_samples(np.linspace(0.001, 0.002, n) * scale, CFG, Timing(bootstrap_resamples=100))


def test_rows_carry_provenance_kind_unit_flags_and_configuration(tmp_path) -> None:
    rec = Recorder("02-cloud-edge-measurements", {"seed": 0}, root=tmp_path)
    rec.latency(_measurement())
    rec.add("latency_p50", 55.0, "ms", CFG.with_(network="4g"), "modeled", source="Opensignal 2019")
    rec.complete()
    back = read([tmp_path])
    assert list(back.columns) == list(COLUMNS)
    for column in ("run_id", "machine", "commit", "dirty", "params_hash", "notebook", "kind", "unit", "loadgen_valid"):
        assert column in back
    assert set(back.kind) == {"measured", "modeled"}
    assert back.machine.unique().tolist() == [machine_id()]
    pd.testing.assert_frame_equal(
        back.reset_index(drop=True), rec.frame().reset_index(drop=True), check_dtype=False, check_categorical=False
    )


def test_untrusted_tails_publish_no_interval_and_samples_round_trip(tmp_path) -> None:
    rec = Recorder("01-inference-concepts", root=tmp_path)
    m = _measurement(n=50)
    rec.latency(m)
    rows, samples = rec.stored()
    p99 = query.select(rows, "latency_p99").iloc[0]
    assert bool(p99.untrusted) and np.isnan(p99.ci_low)
    p50 = query.select(rows, "latency_p50").iloc[0]
    assert not bool(p50.untrusted) and p50.ci_low <= p50.value <= p50.ci_high
    assert np.allclose(query.samples_of(samples, CFG), m.samples * 1e3)


def test_incomplete_runs_are_ignored_unless_asked(tmp_path) -> None:
    rec = Recorder("00-system-under-test", root=tmp_path, run_id="20260101T000000-aaaaaa")
    rec.add("gemm_rate", 1.0, "GFLOP/s", Config(threads=1))
    rec.flush()  # a notebook that stopped half-way
    assert read([tmp_path]).empty and runs([tmp_path]).empty
    assert read([tmp_path], include_incomplete=True).value.tolist() == [1.0]
    rec.complete()
    assert read([tmp_path]).value.tolist() == [1.0]


def test_latest_complete_run_per_machine_and_notebook(tmp_path) -> None:
    for value in (1.0, 2.0, 3.0):
        rec = Recorder("00-system-under-test", root=tmp_path, run_id=f"2026010{int(value)}T000000-aaaaaa")
        rec.add("gemm_rate", value, "GFLOP/s", Config(threads=1))
        rec.flush(complete=value < 3)  # the newest run did not finish
    assert read([tmp_path]).value.tolist() == [2.0]
    assert sorted(read([tmp_path], latest=False).value) == [1.0, 2.0]


def test_runs_copied_from_another_machine_are_merged_and_labelled(tmp_path) -> None:
    mine = Recorder("02-cloud-edge-measurements", root=tmp_path / "outputs")
    mine.latency(_measurement())
    mine.complete()
    theirs = Recorder("02-cloud-edge-measurements", root=tmp_path / "scratch")
    theirs.latency(_measurement(scale=9.0))
    theirs.complete()
    pi = tmp_path / "data" / "raspberry-pi-5-4c" / "runs"
    shutil.copytree(theirs.folder, pi / theirs.run_id)
    rows = read([tmp_path / "outputs", tmp_path / "data"])
    assert set(rows.machine) == {machine_id(), "raspberry-pi-5-4c"}
    other = tables.other_machines(rows, machine_id())
    assert other.loc[("raspberry-pi-5-4c", "edge-1t"), 1] == pytest.approx(9 * 1.5, rel=0.01)
    assert set(read_samples([tmp_path / "outputs", tmp_path / "data"]).machine) == set(rows.machine)
    meta = json.loads((pi / theirs.run_id / "run.json").read_text())
    assert meta["complete"] and "cpu_model" in meta["system"]


def _heavy_imports(modules: str, heavy: tuple[str, ...]) -> list[str]:
    """The heavy packages a fresh interpreter has loaded after importing `modules`."""
    code = f"import sys, {modules}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {set(heavy)!r}))"
    return eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_reading_the_store_imports_no_torch_onnxruntime_papermill_or_jupyter() -> None:
    heavy = ("torch", "onnxruntime", "papermill", "nbformat", "nbclient", "jupyter_client", "IPython")
    store_and_sentences = "edgecloud.results, edgecloud.results.tables, edgecloud.sentences.cloud_edge"
    assert _heavy_imports(f"{store_and_sentences}, edgecloud.sentences.analysis", heavy) == []


def test_measuring_without_jupyter_imports_no_papermill_or_jupyter() -> None:
    heavy = ("papermill", "nbformat", "nbclient", "nbconvert", "jupyter_client", "IPython", "matplotlib")
    assert _heavy_imports("edgecloud.cli, edgecloud.experiments.cloud_edge, edgecloud.serving", heavy) == []


def test_the_report_leaves_out_host_and_home_unless_asked() -> None:
    import socket
    from pathlib import Path

    from edgecloud.report import redact

    page = f"<p>{Path.home()}/models/x.onnx on {socket.gethostname()}</p>"
    shown = redact(page, reveal=False)
    assert str(Path.home()) not in shown and "~/models/x.onnx" in shown
    if len(socket.gethostname()) >= 4:
        assert socket.gethostname() not in shown
    assert redact(page, reveal=True) == page


def test_tables_show_a_dash_for_missing_values_of_every_dtype() -> None:
    df = pd.DataFrame(
        {
            "float": [1.5, np.nan],
            "nullable float": pd.array([2.5, None], dtype="Float64"),
            "nullable int": pd.array([3, None], dtype="Int64"),
            "text": pd.array(["x", None], dtype="string"),
        }
    )
    cells = re.findall(r"<td>(.*?)</td>", tables.html(df))
    assert cells == ["1.5", "2.5", "3", "x", *[tables.MISSING] * 4]


def test_the_roofline_splits_models_at_the_ridge_and_flags_one_beating_the_ceiling(tmp_path) -> None:
    rec = Recorder("01-inference-concepts", root=tmp_path)
    # ceiling 100 GFLOP/s and 10 GB/s: the ridge is at 10 FLOP/byte
    for model, flops, params, p50_ms in (("small", 8e3, 4e3, 0.01), ("big", 4e9, 1e6, 50.0), ("fast", 4e9, 1e6, 20.0)):
        conf = Config(model=model)
        rec.add("flops", flops, "FLOP", conf)
        rec.add("parameters", params, "count", conf)
        rec.add(
            "latency_p50", p50_ms, "ms", conf.with_(runtime="ort", precision="fp32", threads=2, scenario="runtimes")
        )
    arch = tables.architecture(rec.frame(), {"gflops": 100.0, "gbs": 10.0}, 2)
    assert arch.bound.to_dict() == {"small": "memory", "big": "compute", "fast": "compute"}  # 0.5 and 1000 FLOP/B
    assert arch.roof_share["small"] == pytest.approx(8e3 / 1e-5 / 1e9 / (0.5 * 10.0))  # 0.8 GFLOP/s of a 5 GFLOP/s roof
    assert arch.roof_share["big"] == pytest.approx(0.8, rel=1e-3)  # 80 GFLOP/s of 100
    assert arch.beats_ceiling.to_dict() == {"small": False, "big": False, "fast": True}  # 40 ms floor
    assert "memory-bound, left of the ridge: small" in concepts_says.architecture(arch)
    assert "**Flag:** fast" in concepts_says.architecture(arch)

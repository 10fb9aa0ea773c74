"""End to end: `make report PARAMS=params/smoke.yaml` in a temporary copy; then a failing cell keeps the last report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import nbformat
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def copy(tmp_path_factory, root):
    dst = tmp_path_factory.mktemp("project") / "edgecloud"
    shutil.copytree(
        root,
        dst,
        symlinks=True,
        ignore=shutil.ignore_patterns(".venv", "outputs", "__pycache__", ".pytest_cache", ".ruff_cache"),
    )
    (dst / "outputs").mkdir()
    if (root / "outputs" / "cache").exists():  # reuse exported and quantized models; keys include code and versions
        (dst / "outputs" / "cache").symlink_to(root / "outputs" / "cache")
    (dst / ".venv").symlink_to(root / ".venv")
    return dst


def _make(copy, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "EDGECLOUD_ROOT"}
    return subprocess.run(
        ["make", *args, "PARAMS=params/smoke.yaml"], cwd=copy, env=env, capture_output=True, text=True, timeout=900
    )


def test_smoke_report_has_every_section_and_figure(copy) -> None:
    proc = _make(copy, "report")
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (copy / "outputs" / "report.html").read_text()
    for title in (
        "00 · The system under test",
        "01 · Inference concepts, measured",
        "02 · Cloud and edge, measured",
        "03 · Use cases: edge, cloud or hybrid, and why?",
        "Appendix: provenance",
        "Run summary",
        "Contents",
    ):
        assert title in html
    assert html.count("data:image/svg+xml") >= 12  # figures are embedded as SVG data URIs
    assert "Traceback" not in html and "output_error" not in html and "ename" not in html
    assert "PosixPath" not in html and str(copy) not in html
    assert not re.search(r"<script[^>]*src=|<link[^>]*href=\"http", html), "the report must open offline"
    again = _make(copy, "report")
    assert again.returncode == 0 and "edgecloud run" not in again.stdout  # nothing changed: no notebook re-runs


# One table of each notebook, rebuilt from the parquet store alone in a process without torch or Jupyter.
REBUILD = """
import sys
from edgecloud.results import read, tables, usecase_tables
tables.presentation()
rows = read(notebook=sys.argv[1])
table = {"00-system-under-test": tables.ceilings, "01-inference-concepts": tables.outputs,
         "02-cloud-edge-measurements": tables.edge, "03-use-cases": usecase_tables.options}[sys.argv[1]](rows)
assert not any(m.split(".")[0] in ("torch", "onnxruntime", "papermill", "IPython") for m in sys.modules)
print(table._repr_html_())
"""


@pytest.mark.parametrize(
    "notebook", ["00-system-under-test", "01-inference-concepts", "02-cloud-edge-measurements", "03-use-cases"]
)
def test_each_notebook_table_is_rebuilt_from_the_store_alone(copy, notebook) -> None:
    env = {**os.environ, "EDGECLOUD_ROOT": str(copy)}
    out = subprocess.run(
        [str(copy / ".venv" / "bin" / "python"), "-c", REBUILD, notebook], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    nb = nbformat.read(copy / "outputs" / "notebooks" / f"{notebook}.ipynb", as_version=4)
    shown = [o["data"]["text/html"] for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert out.stdout.strip() in [html.strip() for html in shown]


def test_results_copied_from_another_machine_reach_the_report(copy) -> None:
    from edgecloud.results import runs

    mine = runs([copy / "outputs" / "results"])
    assert mine.complete.all() and set(mine.notebook) == {
        "00-system-under-test",
        "01-inference-concepts",
        "02-cloud-edge-measurements",
        "03-use-cases",
    }
    source = mine[mine.notebook == "02-cloud-edge-measurements"].folder.iloc[0]
    shutil.copytree(source, copy / "data" / "results" / "raspberry-pi-5-4c-test" / "runs" / "20260101T000000-copied")
    proc = _make(copy, "report")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "edgecloud run 02-cloud-edge-measurements" in proc.stdout  # Make noticed the new results
    assert "raspberry-pi-5-4c-test" in (copy / "outputs" / "report.html").read_text()
    shutil.rmtree(copy / "data" / "results" / "raspberry-pi-5-4c-test")


def test_a_failing_cell_names_notebook_and_cell_and_keeps_the_last_report(copy) -> None:
    from edgecloud.results import read, runs

    report = copy / "outputs" / "report.html"
    before = report.read_bytes()
    path = copy / "notebooks" / "00-system-under-test.ipynb"
    original = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(len(nb.cells) - 1, nbformat.v4.new_code_cell('raise RuntimeError("boom")'))
    nbformat.write(nb, path)
    try:
        proc = _make(copy, "report")
    finally:
        path.write_bytes(original)
    assert proc.returncode != 0
    assert "notebooks/00-system-under-test.ipynb: cell" in proc.stderr and "boom" in proc.stderr
    assert report.read_bytes() == before
    assert (copy / "outputs" / "notebooks" / "00-system-under-test.failed.ipynb").exists()
    results = copy / "outputs" / "results"
    partial = runs([results], include_incomplete=True)
    assert (~partial.complete.astype(bool)).sum() == 1  # the failed run is stored, but not complete
    latest = read([results], notebook="00-system-under-test").run_id.unique()
    assert list(latest) == list(runs([results]).query("notebook == '00-system-under-test'").run_id)

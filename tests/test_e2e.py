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
        "Appendix: provenance",
        "Run summary",
        "Contents",
    ):
        assert title in html
    assert html.count("data:image/svg+xml") >= 12  # figures are embedded as SVG data URIs
    assert "Traceback" not in html and "output_error" not in html and "ename" not in html
    assert not re.search(r"<script[^>]*src=|<link[^>]*href=\"http", html), "the report must open offline"
    assert (copy / "outputs" / "results").exists()
    again = _make(copy, "report")
    assert again.returncode == 0 and "edgecloud run" not in again.stdout  # nothing changed: no notebook re-runs


def test_a_failing_cell_names_notebook_and_cell_and_keeps_the_last_report(copy) -> None:
    report = copy / "outputs" / "report.html"
    before = report.read_bytes()
    path = copy / "notebooks" / "00-system-under-test.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('raise RuntimeError("boom")'))
    nbformat.write(nb, path)
    proc = _make(copy, "report")
    assert proc.returncode != 0
    assert "notebooks/00-system-under-test.ipynb: cell" in proc.stderr and "boom" in proc.stderr
    assert report.read_bytes() == before
    assert (copy / "outputs" / "notebooks" / "00-system-under-test.failed.ipynb").exists()

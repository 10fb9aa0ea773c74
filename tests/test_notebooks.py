"""Notebooks: parameters cells match the schema both ways, and nothing is committed with outputs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from edgecloud.notebooks import BY_ID
from edgecloud.params import BORROWED, NOTEBOOK_SECTIONS, SECTIONS, Params, Shared

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def test_every_section_has_its_notebook() -> None:
    assert sorted(p.stem for p in NOTEBOOKS) == sorted(NOTEBOOK_SECTIONS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_registry_names_each_notebook_as_it_opens(path: Path) -> None:
    first = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
    assert first == f"# {BY_ID[path.stem].heading}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_matches_schema(path: Path) -> None:
    section = SECTIONS[NOTEBOOK_SECTIONS[path.stem]]
    expected = set(Shared.model_fields) | set(section.model_fields) | set(BORROWED.get(path.stem, {}))
    declared = set(pm.inspect_notebook(str(path)))
    assert declared - expected == set(), "parameters the schema does not know"
    assert expected - declared == set(), "schema fields missing from the parameters cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_defaults_are_valid_literals(path: Path) -> None:
    cell = next(c for c in nbformat.read(path, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
    values: dict = {}
    exec(compile(cell.source, str(path), "exec"), {}, values)  # literals only: nothing to import or call
    shared = {k: v for k, v in values.items() if k in Shared.model_fields}
    Shared.model_validate(shared)
    borrowed = BORROWED.get(path.stem, {})
    own = {k: v for k, v in values.items() if k not in shared and k not in borrowed}
    SECTIONS[NOTEBOOK_SECTIONS[path.stem]].model_validate(own)
    for key, section in borrowed.items():
        SECTIONS[section].model_validate({**Params().measurements.model_dump(), key: values[key]})


def test_committed_notebooks_have_no_outputs(root) -> None:
    tracked = subprocess.run(["git", "-C", str(root), "ls-files", "*.ipynb"], capture_output=True, text=True).stdout
    for name in tracked.split():
        nb = nbformat.read(root / name, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{name} has outputs: clear them"


# What a thin notebook never does with results: add rows, reshape or filter tables (the library does).
FORBIDDEN = re.compile(r"\.add\(|\.latency\(|pivot|groupby|\.query\(|\.loc\[|\.iloc\[|\[\w+\.\w+\s*[=!<>]=?")


def _code(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])]
    return [line for c in cells for line in c.source.splitlines() if line.strip()]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_stay_thin_and_never_reshape_results(path: Path) -> None:
    lines = _code(path)
    limit = BY_ID[path.stem].code_lines
    assert len(lines) <= limit, f"{path.stem}: {len(lines)} code lines; move logic to lib/edgecloud"
    offending = [line for line in lines if FORBIDDEN.search(line)]
    assert offending == [], f"{path.stem} reshapes results itself: {offending}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_starts_and_completes_its_run_the_same_way(path: Path) -> None:
    lines = _code(path)
    assert any("experiments.start(experiment.NOTEBOOK, globals())" in line for line in lines)
    assert lines[-1].strip() == "rec.complete()"


def test_make_orders_the_notebooks_as_the_registry_says(root) -> None:
    database = subprocess.run(["make", "-pn", "help"], cwd=root, capture_output=True, text=True).stdout
    rules = {
        line.split(":", 1)[0]: line.split(":", 1)[1].split()
        for line in database.splitlines()
        if line.startswith("outputs/notebooks/") and ":" in line
    }
    for n in BY_ID.values():
        prerequisites = rules[f"outputs/notebooks/{n.id}.ipynb"]
        assert [p for p in prerequisites if p.startswith("outputs/notebooks/")] == [
            f"outputs/notebooks/{u}.ipynb" for u in n.upstream
        ]


def test_every_report_figure_gets_alt_text_from_its_titles() -> None:
    """A figure drawn with plots.finish, exported as the report exports it: its img says what it shows."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat
    from nbconvert import HTMLExporter

    from edgecloud import plots, report

    plots.theme()
    fig, (a, b) = plt.subplots(1, 2)
    plots.finish(a, "GEMM ceiling", "threads", "GFLOP/s")
    plots.finish(b, "Cost & time", "months", "USD", kind="modeled")
    svg = io.StringIO()
    fig.savefig(svg, format="svg")
    plt.close(fig)
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                outputs=[nbformat.v4.new_output("display_data", {"image/svg+xml": svg.getvalue()})]
            )
        ]
    )
    body = report.describe_figures(HTMLExporter(template_name="basic").from_notebook_node(nb)[0])
    assert 'alt="Figure: GEMM ceiling [measured]; Cost &amp; time [modeled]"' in body
    assert "No description" not in body


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_holds_the_schema_defaults(path: Path) -> None:
    """Run by hand in JupyterLab, a notebook answers as `make report` does with default params."""
    from edgecloud.parameter_cells import TAG, declared

    cell = next(c for c in nbformat.read(path, as_version=4).cells if TAG in c.metadata.get("tags", []))
    assert declared(cell.source) == Params().for_notebook(path.stem), "run `python -m edgecloud parameter-cells`"

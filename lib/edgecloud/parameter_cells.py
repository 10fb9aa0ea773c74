"""Each notebook's parameters cell holds the schema's defaults as literals, so a notebook run by hand in JupyterLab
answers as `make report` does; `python -m edgecloud parameter-cells` rewrites them after a default changes."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from edgecloud import paths
from edgecloud.notebooks import NOTEBOOKS
from edgecloud.params import Params

TAG = "parameters"
WIDTH = 116  # characters of a one-line literal


def literal(value: object) -> str:
    """A value as a Python literal: one line, or a dict or list with one entry per line when it is long."""
    one = repr(value)
    if len(one) <= WIDTH or not isinstance(value, dict | list):
        return one
    entries = [f"{k!r}: {v!r}" for k, v in value.items()] if isinstance(value, dict) else [repr(v) for v in value]
    opening, closing = "{}" if isinstance(value, dict) else "[]"
    return opening + "\n" + "".join(f"    {e},\n" for e in entries) + closing


def cell_source(notebook: str) -> str:
    """The parameters cell of one notebook: one assignment per parameter, its default as a Python literal."""
    return "\n".join(f"{k} = {literal(v)}" for k, v in Params().for_notebook(notebook).items())


def declared(source: str) -> dict[str, object]:
    """The literal value of every assignment in a parameters cell."""
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
    }


def path_of(notebook: str) -> Path:
    return paths.project_root() / "notebooks" / f"{notebook}.ipynb"


def rewrite() -> list[str]:
    """Rewrite every notebook's parameters cell whose values differ from the defaults; the notebooks changed."""
    changed = []
    for n in NOTEBOOKS:
        nb = nbformat.read(path_of(n.id), as_version=4)
        cell = next(c for c in nb.cells if TAG in c.metadata.get("tags", []))
        if declared(cell.source) != Params().for_notebook(n.id):
            cell.source = cell_source(n.id)
            nbformat.write(nb, path_of(n.id))
            changed.append(n.id)
    return changed

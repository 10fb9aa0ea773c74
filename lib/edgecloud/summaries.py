"""What each notebook leaves for the report: its key findings and its part of the executive summary (Markdown,
rendered from data by the caller). Light to import: a notebook records here without loading the report's tools."""

from __future__ import annotations

from pathlib import Path

from edgecloud import paths

FOLDER = "summary"


def path(name: str) -> Path:
    """Where a summary piece lives: <notebook>.md, executive.md, executive.svg or executive-<notebook>.md."""
    return paths.artifact(f"{FOLDER}/{name}")


def add_summary(notebook: str, markdown: str) -> None:
    """Record a notebook's key findings for the report's run summary."""
    path(f"{notebook}.md").write_text(markdown)


def add_executive(markdown: str, figure: object | None = None) -> None:
    """Record the executive summary, which the report shows first, and the figure it opens with (SVG)."""
    path("executive.md").write_text(markdown)
    if figure is not None:
        figure.savefig(path("executive.svg"), format="svg")


def add_executive_part(notebook: str, markdown: str) -> None:
    """Record a notebook's part of the executive summary (its use cases), shown after notebook 04's summary."""
    path(f"executive-{notebook}.md").write_text(markdown)

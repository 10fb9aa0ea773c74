"""The measurements behind each notebook, one module per notebook: system (00), concepts (01), cloud_edge (02).

Each step measures, records typed numbers into the run's Recorder, and returns nothing a notebook must reshape:
tables and sentences come from the store (edgecloud.results.tables, edgecloud.sentences).
"""

from __future__ import annotations

from edgecloud.params import Section, Shared, from_namespace
from edgecloud.results import tables
from edgecloud.results.store import Recorder


def start(notebook: str, namespace: dict) -> tuple[Shared, Section, Recorder]:
    """How every notebook begins: validate its parameters cell, and open the run it records into."""
    shared, section = from_namespace(notebook, namespace)
    tables.presentation()
    return shared, section, Recorder(notebook, {**shared.model_dump(), **section.model_dump()})

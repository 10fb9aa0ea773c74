"""The notebooks, once: id, title, params section, experiment module, upstream notebooks and code-line limit.

The Makefile's dependencies (`python3 lib/edgecloud/notebooks.py` prints them), the params schema, the report and
the tests all read this; adding a notebook is one entry here plus the notebook and its experiment module."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Notebook:
    """One notebook of the workbook and what the pipeline needs to know about it."""

    id: str
    title: str
    section: str  # its section of the params file
    experiment: str  # the module under edgecloud.experiments that measures for it
    upstream: tuple[str, ...]  # notebooks whose results it reads
    code_lines: int  # thin: at most this many lines of code outside the parameters cell

    @property
    def heading(self) -> str:
        """The notebook's first heading, which the report uses as its section title."""
        return f"{self.id[:2]} · {self.title}"


NOTEBOOKS = (
    Notebook("00-system-under-test", "The system under test", "system", "system", (), 40),
    Notebook(
        "01-inference-concepts", "Inference concepts, measured", "concepts", "concepts", ("00-system-under-test",), 60
    ),
    Notebook(
        "02-cloud-edge-measurements",
        "Cloud and edge, measured",
        "measurements",
        "cloud_edge",
        ("01-inference-concepts",),
        75,
    ),
    Notebook(
        "03-use-cases",
        "Use cases: edge, cloud or hybrid, and why?",
        "usecases",
        "usecases",
        ("02-cloud-edge-measurements",),
        50,
    ),
    Notebook(
        "04-metrics-analysis",
        "Metrics analysis: tails, cost, energy, hybrids and the claims",
        "analysis",
        "analysis",
        ("03-use-cases",),
        50,
    ),
    Notebook(
        "05-generative-inference",
        "Generative inference: a language model, token by token",
        "generative",
        "generative",
        ("00-system-under-test",),
        50,
    ),
    Notebook(
        "06-speech-recognition",
        "Speech recognition: a speech model, utterance by utterance",
        "speech",
        "speech",
        ("00-system-under-test",),
        40,
    ),
)
BY_ID = {n.id: n for n in NOTEBOOKS}


def of_experiment(module: str) -> str:
    """The id of the notebook that the experiment module (its __name__) measures for."""
    return next(n.id for n in NOTEBOOKS if f"edgecloud.experiments.{n.experiment}" == module)


def make_edges() -> list[str]:
    """Make's dependencies between executed notebooks, one 'target:prerequisite' word per edge: a notebook re-runs
    when one it reads from has re-run."""
    return [f"outputs/notebooks/{n.id}.ipynb:outputs/notebooks/{u}.ipynb" for n in NOTEBOOKS for u in n.upstream]


if __name__ == "__main__":
    print(" ".join(make_edges()))

"""One plot theme for every notebook, and small helpers that label what a number is."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns


def theme() -> None:
    """Apply the workbook theme and render figures as inline SVG (crisp, self-contained, no scripts)."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update(
        {
            "figure.figsize": (8, 4.2),
            "figure.dpi": 100,
            "svg.fonttype": "none",
            "axes.titleweight": "bold",
            "axes.titlesize": 12,
        }
    )
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")
    except ImportError:  # outside IPython
        pass


def finish(ax: plt.Axes, title: str, xlabel: str, ylabel: str, kind: str = "measured") -> None:
    """Title, axis labels with units, and the kind of every number on the figure."""
    ax.set_title(f"{title}  [{kind}]")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.figure.tight_layout()

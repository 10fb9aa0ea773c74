"""The metric registry: the only metrics the store takes, in their units and kinds; the README lists them all."""

from __future__ import annotations

import pytest

from edgecloud.results import metrics
from edgecloud.results.store import Config, Recorder


def test_the_store_refuses_a_metric_unit_or_kind_the_registry_lacks(tmp_path) -> None:
    rec = Recorder("test", root=tmp_path)
    rec.add("latency_p50", 1.0, "ms", Config(), "modeled")
    with pytest.raises(metrics.UnknownMetric, match="unknown metric 'latency_p42'"):
        rec.add("latency_p42", 1.0, "ms", Config())
    with pytest.raises(metrics.UnknownMetric, match="not 's'"):
        rec.add("latency_p50", 1.0, "s", Config())
    with pytest.raises(metrics.UnknownMetric, match="not measured"):
        rec.add("rtt", 10.0, "ms", Config())  # a published RTT is sourced, never measured here
    assert list(rec.frame().metric) == ["latency_p50"]


def test_every_metric_is_described_once() -> None:
    names = [m.name for m in metrics.METRICS]
    assert len(names) == len(set(names))
    assert all(m.description and m.units and m.kinds for m in metrics.METRICS)


def test_readme_metric_table_is_current(root) -> None:
    readme = (root / "README.md").read_text()
    assert metrics.table() in readme, "README metric table is stale: run `python -m edgecloud metrics-table`"

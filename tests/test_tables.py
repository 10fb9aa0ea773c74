"""Every table, choice and claim figure built in-process from a committed smoke store, against golden copies.

The store under tests/fixtures/store is one `make report PARAMS=params/smoke.yaml` run; each case below is what a
notebook shows. A change to a table's content fails its case: if the change is intended, regenerate the golden copy
with `EDGECLOUD_REGOLD=1 python -m pytest tests/test_tables.py` and review the diff under tests/fixtures/golden/."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from golden import assert_golden

from edgecloud.decisions import choices, claims, evidence
from edgecloud.params import Params
from edgecloud.results import analysis_tables as at
from edgecloud.results import read, read_samples, tables
from edgecloud.results import usecase_tables as ut

FIXTURES = Path(__file__).parent / "fixtures"
STORE = FIXTURES / "store"
NB = {
    "00": "00-system-under-test",
    "01": "01-inference-concepts",
    "02": "02-cloud-edge-measurements",
    "03": "03-use-cases",
    "04": "04-metrics-analysis",
}


@cache
def rows(nb: str) -> pd.DataFrame:
    return read([STORE], notebook=NB[nb])


@cache
def samples(nb: str) -> pd.DataFrame:
    return read_samples([STORE], notebook=NB[nb])


def _case() -> str:
    """The first use case notebook 03 scored."""
    return str(ut.recommendations(rows("03")).index[0])


def _roofline() -> dict[str, float]:
    return tables.ceiling(rows("00"), 2)


CASES: dict[str, Callable[[], object]] = {
    "ceilings": lambda: tables.ceilings(rows("00")),
    "ceiling": _roofline,
    "anatomy": lambda: tables.anatomy(rows("01")),
    "mechanisms": lambda: tables.mechanisms(rows("01")),
    "mechanisms_wide": lambda: tables.mechanisms_wide(tables.mechanisms(rows("01"))),
    "int8_fidelity": lambda: tables.int8_fidelity(rows("01")),
    "architecture": lambda: tables.architecture(rows("01"), _roofline(), 2),
    "sweeps": lambda: tables.sweeps(rows("01")),
    "outputs": lambda: tables.outputs(rows("01")),
    "models": lambda: tables.models(rows("01")),
    "pareto_front": lambda: tables.pareto_front(tables.architecture(rows("01"), _roofline(), 2), "p50_ms", "GFLOP"),
    "edge": lambda: tables.edge(rows("02")),
    "cloud": lambda: tables.cloud(rows("02")),
    "extra_targets": lambda: tables.extra_targets(rows("02")),
    "breakdown": lambda: tables.breakdown(rows("02")),
    "throughput_batches": lambda: tables.throughput_batches(rows("02")),
    "concurrency": lambda: tables.concurrency(rows("02")),
    "network": lambda: tables.network(rows("02")),
    "emulation": lambda: tables.emulation(rows("02")),
    "emulation_view": lambda: tables.emulation_view(tables.emulation(rows("02"))),
    "loadgen": lambda: tables.loadgen(rows("02")),
    "server_rates": lambda: tables.server_rates(tables.loadgen(rows("02")), 15.0),
    "resources": lambda: tables.resources(rows("02")),
    "other_machines": lambda: tables.other_machines(rows("02"), "another-machine"),
    "ecdf_samples": lambda: tables.ecdf_samples(samples("02")).describe(),
    "choose_payload": lambda: choices.choose_payload(rows("02"), Params().measurements.network_profiles),
    "fastest_edge": lambda: choices.fastest_edge(rows("02")),
    "differences": lambda: at.differences(rows("02")),
    "capacity": lambda: at.capacity(rows("02"), rows("00"), rows("01"), 15.0),
    "options": lambda: ut.options(rows("03")),
    "margins": lambda: ut.margins(rows("03")),
    "scores": lambda: ut.scores(rows("03"), _case()),
    "recommendations": lambda: ut.recommendations(rows("03")),
    "failures": lambda: ut.failures(rows("03"), _case()),
    "usecase_sweeps": lambda: ut.sweeps(rows("03")),
    "flip_points": lambda: ut.flip_points(rows("03")),
    "what_ifs": lambda: ut.what_ifs(rows("03")),
    "outages": lambda: ut.outages(rows("03")),
    "decision_map": lambda: at.decision_map(rows("03")),
    "energy": lambda: at.energy(rows("03")),
    "fallback": lambda: at.fallback(rows("03")),
    "cost_models": lambda: evidence.cost_models(rows("03")),
    "cheapest": lambda: [evidence.cheapest(rows("03"))[(_case(), role)] for role in ("edge", "cloud")],
    "costs": lambda: at.costs(rows("04")),
    "tco": lambda: at.tco(rows("04")),
    "break_even_sensitivity": lambda: at.break_even_sensitivity(rows("04")),
    "cascade": lambda: at.cascade(rows("04")),
    "split_predictions": lambda: at.split_predictions(rows("04")),
    "split_check": lambda: at.split_check(rows("04")),
    "split_changes": lambda: at.split_changes(rows("04")),
    "published": lambda: at.published(rows("04")),
    "evidence": lambda: evidence.evidence(rows("04"), rows("01"), rows("02"), rows("03")),
    "ledger": lambda: claims.ledger(rows("04")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_table_matches_its_golden_copy(name: str) -> None:
    assert_golden(name, CASES[name]())


def test_the_fixture_store_is_one_complete_smoke_run() -> None:
    assert all(len(rows(nb)) for nb in NB) and set(pd.concat([rows(nb) for nb in NB]).notebook) == set(NB.values())


def test_the_executive_summary_agrees_with_the_store() -> None:
    """Each row of the summary's recommendation table is read back against notebook 03's store rows."""
    from edgecloud.sentences.analysis import executive

    text = executive(rows("04"), rows("02"), rows("03"))
    lines = [line for line in text.split("### Key findings")[0].splitlines() if line.startswith("| ")]
    header, lines = [h.strip() for h in lines[0].strip("|").split("|")], [lines[0], *lines[2:]]  # no --- row
    r03 = rows("03")
    cost = r03[r03.metric == "monthly_cost"].set_index(["scenario", "target"]).value
    chance = r03[r03.metric == "feasible_probability"].set_index(["scenario", "target"]).value
    chosen = r03[r03.metric == "recommendation"].set_index("scenario").target
    assert len(lines) - 1 == len(chosen)
    for line in lines[1:]:
        row = dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
        case = row["use case"]
        assert row["recommended"] == chosen[case]
        if chosen[case] != "none":
            assert row["USD/month"] == f"${cost[(case, chosen[case])]:,.0f}"
            assert row["P(feasible)"] == f"{chance[(case, chosen[case])]:.0%}"

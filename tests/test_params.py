"""Params: every shipped file validates; broken ones fail with one clear line per problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edgecloud.params import ParamsError, load_params, params_table

SHIPPED = sorted((Path(__file__).resolve().parents[1] / "params").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_params_validate(path: Path) -> None:
    params = load_params(path)
    assert params.measurements.network_profiles


def _broken(tmp_path: Path, root: Path, edit) -> Path:
    raw = yaml.safe_load((root / "params" / "default.yaml").read_text())
    edit(raw)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda r: r["concepts"].update(batch_sizes=[1, 4, -1]), "concepts.batch_sizes[2]: -1 is not allowed"),
        (lambda r: r["shared"].update(threds=[1]), "shared.threds: unknown key"),
        (lambda r: r["system"].update(gemm_size="big"), "system.gemm_size: 'big' is not allowed"),
        (lambda r: r["concepts"].update(models=["gpt5"]), "concepts.models[0]: 'gpt5' is not allowed"),
        (lambda r: r.pop("measurements"), "measurements: required key is missing"),
        (
            lambda r: r["measurements"]["network_profiles"]["4g"].update(rtt_ms=0.5),
            "measurements.network_profiles.4g: ",
        ),
    ],
)
def test_broken_params_name_file_key_and_value(tmp_path, root, edit, expected) -> None:
    path = _broken(tmp_path, root, edit)
    with pytest.raises(ParamsError) as err:
        load_params(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_every_problem_gets_its_own_line(tmp_path, root) -> None:
    def edit(r):
        r["shared"]["seed"] = -3
        r["system"]["triad_mib"] = 0

    with pytest.raises(ParamsError) as err:
        load_params(_broken(tmp_path, root, edit))
    lines = str(err.value).splitlines()
    assert len(lines) == 2
    assert any("shared.seed: -3" in line for line in lines) and any("system.triad_mib: 0" in line for line in lines)


def test_cli_exits_2_with_the_message(tmp_path, root) -> None:
    path = _broken(tmp_path, root, lambda r: r["shared"].update(threads=[]))
    proc = subprocess.run(
        [sys.executable, "-m", "edgecloud", "validate", "--params", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert f"{path}: shared.threads" in proc.stderr


def test_missing_and_unparsable_files(tmp_path) -> None:
    with pytest.raises(ParamsError, match="no such params file"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("shared: [unclosed")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)


def test_readme_parameter_table_is_current(root) -> None:
    readme = (root / "README.md").read_text()
    assert params_table() in readme, "README parameter table is stale: run `python -m edgecloud params-table`"

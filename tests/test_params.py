"""Params: every shipped file validates; broken ones fail with one clear line per problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edgecloud.params import Params, ParamsError, load_params, params_table

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
        (lambda r: r["measurements"]["network_profiles"]["4g"].pop("loss"), "4g.loss: required key is missing"),
        (
            lambda r: r["measurements"]["edge_targets"].append({"name": "edge-1t"}),
            "edge target names must be distinct",
        ),
        (lambda r: r["measurements"]["edge_targets"].append({"name": "cloud-cpu"}), "'cloud-cpu'"),
        (lambda r: r["measurements"].update(payloads=["jpeg", "jpeg"]), "payloads lists a value twice"),
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


def test_schema_defaults_equal_default_yaml(root) -> None:
    assert load_params(root / "params" / "default.yaml") == Params()


@pytest.mark.parametrize("name", ["smoke.yaml", "full.yaml"])
def test_smoke_and_full_are_overlays_naming_only_what_they_change(root, name) -> None:
    raw = yaml.safe_load((root / "params" / name).read_text())
    assert raw.pop("extends") == "default.yaml"
    default = yaml.safe_load((root / "params" / "default.yaml").read_text())

    def walk(overlay: dict, base: dict, where: str) -> None:
        for key, value in overlay.items():
            assert key in base, f"{name}: {where}{key} is not in default.yaml"
            if isinstance(value, dict) and isinstance(base[key], dict):
                walk(value, base[key], f"{where}{key}.")
            else:
                assert value != base[key], f"{name}: {where}{key} repeats the default"

    walk(raw, default, "")
    merged = load_params(root / "params" / name)
    assert merged.measurements.network_profiles == Params().measurements.network_profiles


def test_an_overlay_changes_only_what_it_names(tmp_path, root) -> None:
    (tmp_path / "base.yaml").write_text((root / "params" / "default.yaml").read_text())
    (tmp_path / "mine.yaml").write_text("extends: base.yaml\nshared: {timing: {warmup: 7}}\n")
    params = load_params(tmp_path / "mine.yaml")
    assert params.shared.timing.warmup == 7 and params.shared.timing.min_count == Params().shared.timing.min_count


def test_overlay_chains_fail_clearly(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ParamsError, match="makes a cycle"):
        load_params(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("extends: nowhere.yaml\n")
    with pytest.raises(ParamsError, match=r"no such params file.*extended by"):
        load_params(tmp_path / "c.yaml")


def test_every_profile_rtt_matches_its_sourced_figure(root) -> None:
    from edgecloud.sources import sourced

    for path in SHIPPED:
        for name, profile in load_params(path).measurements.network_profiles.items():
            if profile.rtt_figure:
                figure = sourced(profile.rtt_figure)
                assert profile.rtt_ms == pytest.approx(float(figure)), f"{path.name}: {name} copies {figure.key}"
                assert figure.source.split()[0] in profile.source, f"{path.name}: {name} must cite {figure.source}"
            else:
                assert "assumed" in profile.source, f"{path.name}: {name} has no figure and says no assumption"


def test_validating_params_loads_no_framework(root) -> None:
    """Every `edgecloud run` validates params before a kernel starts, and the schema checks runtime names against
    the registry, which imports each runtime module: none of them may import a framework to be listed."""
    code = (
        "import sys; from edgecloud.params import load_params; load_params('params/default.yaml');"
        "print(sorted(m for m in ('torch', 'onnx', 'onnxruntime', 'transformers') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

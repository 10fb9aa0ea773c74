"""Bad input gets one short message naming the file and the key, exit status 2, no traceback, and changes nothing:
for params, models and endpoints, through `python -m edgecloud validate` and `make report`."""

from __future__ import annotations

import http.server
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from edgecloud import cli, preflight

DEFAULT = yaml.safe_load((Path(__file__).resolve().parents[1] / "params" / "default.yaml").read_text())
FACTORIES = "tests.fixtures.factories"


def _overlay(tmp_path: Path, text: str, root: Path) -> Path:
    (tmp_path / "default.yaml").write_text((root / "params" / "default.yaml").read_text())
    path = tmp_path / "mine.yaml"
    path.write_text("extends: default.yaml\n" + text)
    return path


def _validate(path: Path, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["validate", "--params", str(path)])
    return exit_.value.code, capsys.readouterr().err


CASES = {
    "yaml syntax": ("shared: [unclosed\n", "not valid YAML", "line"),
    "unknown key": ("shared: {threds: [1]}\n", "shared.threds: unknown key", ""),
    "moved key": (
        "concepts: {calibration_samples: 64}\n",
        "concepts.calibration_samples: this key is now shared.calibration_samples",
        "",
    ),
    "wrong type": ("system: {gemm_size: big}\n", "system.gemm_size: 'big' is not allowed", ""),
    "zero count": ("system: {ceiling_repeats: 0}\n", "system.ceiling_repeats: 0 is not allowed", ""),
    "unknown zoo model": ("concepts: {models: [gpt5]}\n", "concepts.models[0]: 'gpt5'", ""),
    "unknown deployed model": ("measurements: {model: gpt5}\n", "measurements.model: 'gpt5'", ""),
    "unknown target": (
        "usecases: {devices: {x: {role: edge, measured_target: edge-9t, price: rpi5_price}}}\n",
        "usecases.devices.x.measured_target: 'edge-9t'",
        "",
    ),
    "unknown use-case field": (
        "usecases: {cases: {card-fraud: {colour: red}}}\n",
        "usecases.cases.card-fraud.colour: unknown key",
        "",
    ),
    "unknown network profile": (
        "usecases: {cases: {card-fraud: {network: moon}}}\n",
        "usecases.cases.card-fraud.network: 'moon' is not a network profile",
        "",
    ),
    "python tag": ("shared: !!python/object/apply:os.system ['echo pwned']\n", "not valid YAML", ""),
    "alias bomb": (
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
        "aliases (*name) are not allowed",
        "",
    ),
    "missing onnx": (
        "shared: {custom_models: [{name: m, onnx_path: /no/such.onnx}]}\n",
        "shared.custom_models[0].onnx_path: '/no/such.onnx' is not allowed",
        "no such file",
    ),
    "unimportable factory": (
        f"shared: {{custom_models: [{{name: m, torch_factory: '{FACTORIES}_nope:works'}}]}}\n",
        "shared.custom_models[0].torch_factory",
        "cannot be imported",
    ),
    "raising factory": (
        f"shared: {{custom_models: [{{name: m, torch_factory: '{FACTORIES}:raises'}}]}}\n",
        "shared.custom_models[0].torch_factory",
        "raised RuntimeError: weights not found",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_params_give_one_clear_message_and_exit_2(case, tmp_path, root, capsys) -> None:
    text, key, detail = CASES[case]
    path = _overlay(tmp_path, text, root)
    code, err = _validate(path, capsys)
    assert code == 2
    assert err.startswith(f"{path}: ") and key in err and detail in err
    assert "Traceback" not in err and max(len(line) for line in err.splitlines()) < 400


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "the file is empty"), (b"   \n", "the file is empty"), (b"\xff\xfe\x00\x01binary", "not a text file")],
)
def test_empty_and_binary_files(content, message, tmp_path, capsys) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(content)
    code, err = _validate(path, capsys)
    assert code == 2 and message in err and str(path) in err


def test_missing_file_message_comes_from_edgecloud(tmp_path, capsys) -> None:
    code, err = _validate(tmp_path / "nope.yaml", capsys)
    assert code == 2 and "no such params file" in err


def test_a_file_that_is_not_onnx_and_dynamic_dims_without_shape(tmp_path, root, capsys) -> None:
    fake = tmp_path / "fake.onnx"
    fake.write_text("this is not a model")
    code, err = _validate(
        _overlay(tmp_path, f"shared: {{custom_models: [{{name: m, onnx_path: '{fake}'}}]}}\n", root), capsys
    )
    assert code == 2 and "is not an ONNX model" in err
    import torch

    dynamic = tmp_path / "dyn.onnx"
    torch.onnx.export(
        torch.nn.Conv2d(3, 4, 3).eval(),
        (torch.zeros(1, 3, 32, 32),),
        str(dynamic),
        dynamo=False,
        input_names=["image"],
        dynamic_axes={"image": {0: "b", 2: "h", 3: "w"}},
    )
    code, err = _validate(
        _overlay(tmp_path, f"shared: {{custom_models: [{{name: m, onnx_path: '{dynamic}'}}]}}\n", root), capsys
    )
    assert code == 2 and "dynamic dimensions [2, 3] and no input_shape" in err


class _Answer(http.server.BaseHTTPRequestHandler):
    status, body = 500, b"oops"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(status: int, body: bytes):
    handler = type("H", (_Answer,), {"status": status, "body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_endpoints_that_refuse_time_out_fail_or_are_not_oip() -> None:
    assert preflight.endpoint_problem(f"http://127.0.0.1:{_free_port()}", "m", 1.0) == "refuses connections"
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts the connection, never answers
    try:
        assert preflight.endpoint_problem(f"http://127.0.0.1:{silent.getsockname()[1]}", "m", 0.5) == (
            "did not answer within 0.5 s"
        )
    finally:
        silent.close()
    for status, body, expected in (
        (500, b"oops", "answers HTTP 500"),
        (200, b"<html>hello</html>", "is not an Open Inference Protocol server"),
    ):
        server = _serve(status, body)
        try:
            assert expected in preflight.endpoint_problem(f"http://127.0.0.1:{server.server_port}", "m", 2.0)
        finally:
            server.shutdown()


def test_a_refusing_remote_url_stops_validation_with_the_key(tmp_path, root, capsys) -> None:
    path = _overlay(tmp_path, f"measurements: {{remote_url: 'http://127.0.0.1:{_free_port()}'}}\n", root)
    code, err = _validate(path, capsys)
    assert code == 2 and f"{path}: measurements.remote_url: " in err and "refuses connections" in err


def test_make_report_with_bad_params_stops_before_any_kernel_and_changes_nothing(tmp_path, root) -> None:
    outputs = root / "outputs"
    before = sorted((p.relative_to(outputs), p.stat().st_mtime_ns) for p in outputs.rglob("*") if p.is_file())
    for params, message in (
        (tmp_path / "nope.yaml", "no such params file"),
        (_overlay(tmp_path, "shared: [x\n", root), "not valid YAML"),
    ):
        proc = subprocess.run(
            ["make", "-s", "report", f"PARAMS={params}"], cwd=root, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode != 0 and message in proc.stderr and "Traceback" not in proc.stderr
        assert "No rule to make target" not in proc.stderr
    after = sorted((p.relative_to(outputs), p.stat().st_mtime_ns) for p in outputs.rglob("*") if p.is_file())
    assert after == before

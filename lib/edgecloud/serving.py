"""The cloud target on this machine: an MLServer process on 127.0.0.1, started, checked and always stopped."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from edgecloud import paths
from edgecloud.env import KERNEL_ENV
from edgecloud.processes import die_with_parent


@dataclass(frozen=True)
class ServedModel:
    """One model in the server: which session it wraps and how MLServer batches requests for it."""

    name: str
    model: str
    runtime: str = "ort"
    precision: str = "fp32"
    threads: int = 1
    max_batch_size: int = 1
    max_batch_time_ms: float = 0.0
    seed: int = 0
    calibration_samples: int = 128  # an int8 model's calibration inputs (shared.calibration_samples)
    custom: tuple[dict, ...] = ()  # the user's model specs (shared.custom_models), so the server can build them
    spin_wait: bool = True  # the session's threads spin between operators (ONNX Runtime's default)

    def settings(self) -> dict:
        return {
            "name": self.name,
            "implementation": "edgecloud.mlserver_runtime.EdgecloudRuntime",
            "max_batch_size": self.max_batch_size,
            "max_batch_time": self.max_batch_time_ms / 1e3,
            "parameters": {
                "extra": {
                    "model": self.model,
                    "runtime": self.runtime,
                    "precision": self.precision,
                    "threads": self.threads,
                    "seed": self.seed,
                    "calibration_samples": self.calibration_samples,
                    "custom": list(self.custom),
                    "spin_wait": self.spin_wait,
                }
            },
        }


class ServerFailed(RuntimeError):
    """The server did not become ready; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(path: Path, lines: int = 12) -> str:
    """A server log's error lines (the cause), then its last lines."""
    log = path.read_text(errors="replace").splitlines()
    errors = [x for x in log if re.search(r"\w+(Error|Exception)\b", x) and "CancelledError" not in x]
    return "\n".join(["errors in the server log:", *errors[:8], "last lines:", *log[-lines:]])


def launch(command: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start a server in a process group of its own that dies with this process, its output in log_path."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def wait_ready(
    process: subprocess.Popen, ready: Callable[[httpx.Client], bool], timeout_s: float, what: str, log_path: Path
) -> None:
    """Poll ready(client) until it holds; ServerFailed with the log's tail when the server exits or times out."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerFailed(f"{what} exited with {process.returncode}:\n{log_tail(log_path)}")
            try:
                if ready(client):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise ServerFailed(f"{what} not ready after {timeout_s:.0f} s:\n{log_tail(log_path)}")


def stop_group(process: subprocess.Popen | None) -> None:
    """Terminate a server's whole process group (SIGTERM, then SIGKILL after 10 s), and whatever it forked."""
    if process and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        except ProcessLookupError:
            pass
    if process:  # anything the server forked and left behind in its process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Server:
    """MLServer serving models on loopback; use as a context manager so it is stopped on any exit."""

    models: list[ServedModel]
    ready_timeout_s: float = 120.0
    http_port: int = field(default_factory=free_port)
    grpc_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def __enter__(self) -> Server:
        """Start the server; when a port turns out to be taken, start again on fresh ports (three tries)."""
        for attempt in range(3):
            try:
                return self._start()
            except ServerFailed as e:
                if "address already in use" not in str(e).lower() or attempt == 2:
                    raise
                self.http_port, self.grpc_port = free_port(), free_port()
        raise AssertionError("unreachable")

    def _start(self) -> Server:
        self._dir = tempfile.TemporaryDirectory(prefix="edgecloud-mlserver-")
        folder = Path(self._dir.name)
        settings = {
            "host": "127.0.0.1",
            "http_port": self.http_port,
            "grpc_port": self.grpc_port,
            "metrics_port": free_port(),
            "parallel_workers": 0,
            "debug": False,
            "load_models_at_startup": True,
        }
        (folder / "settings.json").write_text(json.dumps(settings))
        for m in self.models:
            (folder / m.name).mkdir()
            (folder / m.name / "model-settings.json").write_text(json.dumps(m.settings()))
        self.log_path = folder / "server.log"
        env = {**os.environ, **KERNEL_ENV, "EDGECLOUD_ROOT": str(paths.project_root())}
        self.process = launch([sys.executable, "-m", "edgecloud.serving_main", str(folder)], self.log_path, env)
        try:
            wait_ready(self.process, self._ready, self.ready_timeout_s, "MLServer", self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self, client: httpx.Client) -> bool:
        return all(client.get(f"{self.http_url}/v2/models/{m.name}/ready").status_code == 200 for m in self.models)

    def log_tail(self, lines: int = 12) -> str:
        return log_tail(self.log_path, lines)

    def stop(self) -> None:
        stop_group(self.process)
        self._dir.cleanup()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
    custom: tuple[dict, ...] = ()  # the user's model specs (shared.custom_models), so the server can build them

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
                    "custom": list(self.custom),
                }
            },
        }


class ServerFailed(RuntimeError):
    """The server did not become ready; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "edgecloud.serving_main", str(folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ServerFailed(f"MLServer exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    if all(
                        client.get(f"{self.http_url}/v2/models/{m.name}/ready").status_code == 200 for m in self.models
                    ):
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise ServerFailed(f"MLServer not ready after {self.ready_timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 12) -> str:
        """The server log's error lines (the cause), then its last lines."""
        log = self.log_path.read_text(errors="replace").splitlines()
        errors = [x for x in log if re.search(r"\w+(Error|Exception)\b", x) and "CancelledError" not in x]
        return "\n".join(["errors in the server log:", *errors[:8], "last lines:", *log[-lines:]])

    def stop(self) -> None:
        """Terminate the server's whole process group (SIGTERM, then SIGKILL after 10 s)."""
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            except ProcessLookupError:
                pass
        if self.process:  # anything MLServer forked and left behind in its process group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self._dir.cleanup()

    def __exit__(self, *exc: object) -> None:
        self.stop()

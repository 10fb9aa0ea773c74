"""The generative cloud target on this machine: llama-cpp-python's OpenAI-compatible server (the one its users run)
on 127.0.0.1, started, checked and always stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from edgecloud.env import KERNEL_ENV
from edgecloud.models.llm import LanguageModel
from edgecloud.runtimes.llama_cpp import settings
from edgecloud.serving import free_port, launch, log_tail, stop_group, wait_ready

# llama_cpp.server's completions apply a repeat penalty of 1.1 unless told otherwise, so its "greedy" answer is not
# the in-process decoder's: every request to it sends this, and both sides decode the same tokens.
GREEDY = {"repeat_penalty": 1.0}


@dataclass
class LlamaServer:
    """`python -m llama_cpp.server` on the model's GGUF file, served under the model's name; a context manager, so it
    stops on any exit."""

    model: LanguageModel
    threads: int
    context: int
    ready_timeout_s: float = 120.0
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        """The server's command line: the model loaded with in-process llama.cpp's `settings`, served under the
        model's name on this port."""
        loaded = settings(self.model, self.threads, self.context)
        options = [(f"--{'model' if key == 'model_path' else key}", str(value)) for key, value in loaded.items()]
        return [
            sys.executable, "-m", "llama_cpp.server", *(part for option in options for part in option),
            "--model_alias", self.model.name, "--host", "127.0.0.1", "--port", str(self.port), "--verbose", "False",
            "--interrupt_requests", "False",  # its default cuts a streaming answer off when another request arrives
        ]  # fmt: skip

    def __enter__(self) -> LlamaServer:
        self._dir = tempfile.TemporaryDirectory(prefix="edgecloud-llama-server-")
        self.log_path = Path(self._dir.name) / "server.log"
        self.process = launch(self.command(), self.log_path, {**os.environ, **KERNEL_ENV})
        try:
            wait_ready(self.process, self._ready, self.ready_timeout_s, "llama_cpp.server", self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self, client: httpx.Client) -> bool:
        return client.get(f"{self.url}/models").status_code == 200

    def log_tail(self, lines: int = 12) -> str:
        return log_tail(self.log_path, lines)

    def stop(self) -> None:
        stop_group(self.process)
        self._dir.cleanup()

    def __exit__(self, *exc: object) -> None:
        self.stop()

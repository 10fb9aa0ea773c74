"""`make lab`: JupyterLab on the project, on 127.0.0.1 with a token, for root users too; prints the URL to open."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

from edgecloud import paths
from edgecloud.env import KERNEL_ENV


def free_port(preferred: int = 8888) -> int:
    """The preferred port when it is free on 127.0.0.1, else any free one."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def command(port: int, token: str) -> list[str]:
    """The jupyter lab command line: loopback only, a token, no browser, and --allow-root where it is needed."""
    args = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--notebook-dir={paths.project_root()}",
        f"--IdentityProvider.token={token}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")  # containers often run as root; the server still listens on loopback only
    return args


def main(port: int | None = None) -> int:
    """Start JupyterLab, print where to open it, and stop it (and its kernels) on Ctrl-C."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a shell's background job starts with it ignored
    token = os.environ.get("EDGECLOUD_LAB_TOKEN") or secrets.token_hex(16)
    port = port or free_port()
    print(f"JupyterLab: open http://127.0.0.1:{port}/lab?token={token}  (Ctrl-C stops it)", flush=True)
    proc = subprocess.Popen(command(port, token), env={**os.environ, **KERNEL_ENV}, start_new_session=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        return 0

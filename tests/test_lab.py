"""`make lab` starts JupyterLab for root users too, on 127.0.0.1 with a token, and stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from edgecloud import lab


def test_lab_listens_on_loopback_with_a_token_and_stops(root) -> None:
    port, token = lab.free_port(0), "test-token-123"
    env = {**os.environ, "EDGECLOUD_LAB_TOKEN": token}
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgecloud", "lab", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert f"http://127.0.0.1:{port}/lab?token={token}" in proc.stdout.readline()
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/api/status", params={"token": token}).status_code
            except httpx.TransportError:
                time.sleep(0.5)
        assert status == 200
        assert httpx.get(f"http://127.0.0.1:{port}/api/status").status_code == 403  # no token, no access
        assert "--ip=127.0.0.1" in lab.command(port, token)
        assert ("--allow-root" in lab.command(port, token)) == (os.geteuid() == 0)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    with pytest.raises(httpx.TransportError):  # Ctrl-C stopped the server: nothing listens on its port
        httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=2)

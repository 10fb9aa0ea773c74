"""A real bottleneck link for emulation (root only): a network namespace joined by a veth pair, both ends
rate-limited with `tc tbf`. The client runs inside the namespace; the delaying proxy listens on the host end.

netem is not available in this kernel, so delay comes from network.DelayProxy and bandwidth from the kernel here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np

HOST_IP, NS_IP = "10.200.7.1", "10.200.7.2"  # a /30 that exists only on this veth pair
UNLIMITED_MBPS = 10_000.0


def available() -> bool:
    """True when running as root with iproute2's ip and tc (as in CI)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0 and bool(shutil.which("ip")) and bool(shutil.which("tc"))


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)


class ShapedLink:
    """Namespace + veth pair + tbf on both ends; use as a context manager, then set_rate() per profile."""

    def __init__(self) -> None:
        tag = os.getpid() % 100_000
        self.ns, self.host_dev, self.ns_dev = f"edgecloud{tag}", f"ech{tag}", f"ecn{tag}"

    def __enter__(self) -> ShapedLink:
        try:
            _run("ip", "netns", "add", self.ns)
            _run("ip", "link", "add", self.host_dev, "type", "veth", "peer", "name", self.ns_dev)
            _run("ip", "link", "set", self.ns_dev, "netns", self.ns)
            _run("ip", "addr", "add", f"{HOST_IP}/30", "dev", self.host_dev)
            _run("ip", "link", "set", self.host_dev, "up")
            for cmd in (
                ("ip", "addr", "add", f"{NS_IP}/30", "dev", self.ns_dev),
                ("ip", "link", "set", self.ns_dev, "up"),
                ("ip", "link", "set", "lo", "up"),
            ):
                _run("ip", "netns", "exec", self.ns, *cmd)
            self.set_rate(UNLIMITED_MBPS)
        except BaseException:
            self.__exit__()
            raise
        return self

    def set_rate(self, mbps: float) -> None:
        """Limit both directions to mbps with a token bucket no deeper than needed (one packet, or 1 ms of data)."""
        burst = max(1600, int(mbps * 1e6 / 8 / 1000))
        spec = ("root", "tbf", "rate", f"{mbps}mbit", "burst", str(burst), "latency", "2s")
        _run("tc", "qdisc", "replace", "dev", self.host_dev, *spec)
        _run("ip", "netns", "exec", self.ns, "tc", "qdisc", "replace", "dev", self.ns_dev, *spec)

    def client_latencies_ms(self, port: int, model: str, kind: str, n: int, seed: int) -> np.ndarray:
        """Run the measuring client inside the namespace against HOST_IP:port; returns n latencies (ms)."""
        spec = json.dumps({"url": f"{HOST_IP}:{port}", "model": model, "kind": kind, "n": n, "seed": seed})
        out = subprocess.run(
            ["ip", "netns", "exec", self.ns, sys.executable, "-m", "edgecloud.netclient", spec],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return np.asarray(json.loads(out.stdout.strip().splitlines()[-1]))

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.host_dev], capture_output=True)

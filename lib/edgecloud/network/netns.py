"""Real bottleneck links for emulation (root only): one network namespace joined to this host by one veth pair per
emulated path, each pair rate-limited at both ends with `tc tbf`. The client runs inside the namespace; each path's
delaying proxy listens on its pair's host end. netem is not available in this kernel, so delay comes from the proxy.
"""

from __future__ import annotations

import os
import shutil
import subprocess

SUBNET = "10.200.7"  # /30 per pair, existing only on these veth pairs: host .4k+1, namespace .4k+2


def available() -> bool:
    """True when running as root with iproute2's ip and tc (as in CI)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0 and bool(shutil.which("ip")) and bool(shutil.which("tc"))


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)


class ShapedLinks:
    """A namespace with one veth pair per rate, tbf-limited unless the rate is None; use as a context manager."""

    def __init__(self, rates_mbps: list[float | None]):
        tag = os.getpid() % 10_000
        self.ns, self.rates = f"edgecloud{tag}", list(rates_mbps)
        self.devices = [(f"ec{tag}h{i}", f"ec{tag}n{i}") for i in range(len(self.rates))]
        self.host_ips = [f"{SUBNET}.{4 * i + 1}" for i in range(len(self.rates))]
        if len(self.rates) > 60:
            raise ValueError("at most 60 shaped paths")

    def __enter__(self) -> ShapedLinks:
        try:
            _run("ip", "netns", "add", self.ns)
            _run("ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up")
            for i, ((host, inner), rate) in enumerate(zip(self.devices, self.rates, strict=True)):
                _run("ip", "link", "add", host, "type", "veth", "peer", "name", inner)
                _run("ip", "link", "set", inner, "netns", self.ns)
                _run("ip", "addr", "add", f"{self.host_ips[i]}/30", "dev", host)
                _run("ip", "link", "set", host, "up")
                _run("ip", "netns", "exec", self.ns, "ip", "addr", "add", f"{SUBNET}.{4 * i + 2}/30", "dev", inner)
                _run("ip", "netns", "exec", self.ns, "ip", "link", "set", inner, "up")
                if rate is not None:
                    self._limit(host, inner, rate)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _limit(self, host: str, inner: str, mbps: float) -> None:
        """A token bucket no deeper than needed (one packet, or 1 ms of data), on both ends."""
        burst = max(1600, int(mbps * 1e6 / 8 / 1000))
        spec = ("root", "tbf", "rate", f"{mbps}mbit", "burst", str(burst), "latency", "2s")
        _run("tc", "qdisc", "replace", "dev", host, *spec)
        _run("ip", "netns", "exec", self.ns, "tc", "qdisc", "replace", "dev", inner, *spec)

    def exec_prefix(self) -> list[str]:
        """Prefix a command with this to run it inside the namespace."""
        return ["ip", "netns", "exec", self.ns]

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)  # removes the namespace ends too
        for host, _ in self.devices:
            subprocess.run(["ip", "link", "del", host], capture_output=True)

"""Packet-level emulated paths (root only): one network namespace for the client, joined to this host by one pair
of TUN devices per path. The delay box (delaybox.py) moves every packet between the pair after its one-way delay,
or drops it; `tc tbf` on each device limits that direction's bandwidth. netem is not in this kernel, so delay and
loss come from the box, the way Mahimahi's shells do it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from edgecloud.processes import die_with_parent

# Linux's default congestion control, set on the sockets at both ends of every path by the relays (a machine's own
# default may differ: BBR paces its sends; a sandbox may forbid setting it per namespace).
CONGESTION = "cubic"
SUBNET = "10.200.7"  # a /30 per path, on these TUN devices only: host .4k+1, namespace .4k+2
BOX = Path(__file__).with_name("delaybox.py")


def available() -> bool:
    """True when running as root with iproute2's ip and tc and a TUN device node (as in CI)."""
    return (
        hasattr(os, "geteuid")
        and os.geteuid() == 0
        and bool(shutil.which("ip"))
        and bool(shutil.which("tc"))
        and os.path.exists("/dev/net/tun")
    )


@dataclass(frozen=True)
class OneWay:
    """One direction of a path: per-packet delay floor + gamma(shape, scale) in ms, loss per packet, rate."""

    floor_ms: float = 0.0
    shape: float = 0.0
    scale_ms: float = 0.0
    loss: float = 0.0
    mbps: float | None = None

    def box(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "mbps"}


@dataclass(frozen=True)
class PathSpec:
    up: OneWay
    down: OneWay


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)


class EmulatedPaths:
    """The namespace, the delay box and its TUN pairs, one per PathSpec; use as a context manager."""

    def __init__(self, paths: list[PathSpec], seed: int = 0):
        if len(paths) > 60:
            raise ValueError("at most 60 emulated paths")
        tag = os.getpid() % 10_000
        self.ns, self.paths, self.seed = f"edgecloud{tag}", list(paths), seed
        self.devices = [(f"ec{tag}h{i}", f"ec{tag}n{i}") for i in range(len(paths))]
        self.host_ips = [f"{SUBNET}.{4 * i + 1}" for i in range(len(paths))]
        self._box: subprocess.Popen | None = None

    def __enter__(self) -> EmulatedPaths:
        spec = {
            "seed": self.seed,
            "paths": [
                {"host": h, "inner": n, "up": p.up.box(), "down": p.down.box()}
                for (h, n), p in zip(self.devices, self.paths, strict=True)
            ],
        }
        try:
            _run("ip", "netns", "add", self.ns)
            self._in_ns("ip", "link", "set", "lo", "up")
            self._box = subprocess.Popen(
                [sys.executable, str(BOX), json.dumps(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                preexec_fn=die_with_parent,
            )
            if (line := self._box.stdout.readline().strip()) != "ready":
                raise RuntimeError(f"delay box did not start: {line!r}")
            for i, ((host, inner), path) in enumerate(zip(self.devices, self.paths, strict=True)):
                mine, theirs = self.host_ips[i], f"{SUBNET}.{4 * i + 2}"
                _run("ip", "link", "set", inner, "netns", self.ns)
                _run("ip", "addr", "add", mine, "peer", theirs, "dev", host)
                _run("ip", "link", "set", host, "up")
                self._in_ns("ip", "addr", "add", theirs, "peer", mine, "dev", inner)
                self._in_ns("ip", "link", "set", inner, "up")
                self._limit([], host, path.down.mbps)
                self._limit(self.exec_prefix(), inner, path.up.mbps)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _in_ns(self, *cmd: str) -> None:
        _run(*self.exec_prefix(), *cmd)

    @staticmethod
    def _limit(prefix: list[str], dev: str, mbps: float | None) -> None:
        """A token bucket no deeper than needed (one packet, or 1 ms of data) on the device's egress."""
        if mbps is None:
            return
        burst = max(1600, int(mbps * 1e6 / 8 / 1000))
        spec = ("root", "tbf", "rate", f"{mbps}mbit", "burst", str(burst), "latency", "2s")
        _run(*prefix, "tc", "qdisc", "replace", "dev", dev, *spec)

    def exec_prefix(self) -> list[str]:
        """Prefix a command with this to run it inside the namespace."""
        return ["ip", "netns", "exec", self.ns]

    def __exit__(self, *exc: object) -> None:
        if self._box is not None:
            self._box.stdin.close()  # the box exits and its TUN devices go with it
            try:
                self._box.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._box.kill()
                self._box.wait()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)

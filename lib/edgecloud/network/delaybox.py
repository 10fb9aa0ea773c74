"""A packet-delay box between pairs of TUN devices, as Mahimahi's delay and loss shells: `python delaybox.py SPEC`.

Each path is two TUN devices, one moved into the client's network namespace, one left on the host. Every IP packet
read from one is written to the other after a one-way delay drawn for that packet (fixed floor + gamma excess),
never before the packet ahead of it on the same direction (order is kept), or dropped with the path's loss. `tc tbf`
on the devices sets the bandwidth. Standard library only: it shares no code with the network model it checks.
It prints "ready" once its devices exist and exits when its stdin closes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import select
import struct
import sys
import time
from collections import deque

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def open_tun(name: str) -> int:
    """A new non-persistent TUN device (IP packets, no header); it disappears when the descriptor closes."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


class Direction:
    """One direction of a path: its delay distribution, its loss and its queue of packets awaiting release."""

    def __init__(self, out_fd: int, floor_ms: float, shape: float, scale_ms: float, loss: float, rng: random.Random):
        self.out_fd, self.floor, self.shape, self.scale, self.loss = out_fd, floor_ms / 1e3, shape, scale_ms / 1e3, loss
        self.rng, self.queue, self.last_release = rng, deque(), 0.0
        self.seen = self.dropped = 0

    def delay_s(self) -> float:
        excess = self.rng.gammavariate(self.shape, self.scale) if self.shape > 0 and self.scale > 0 else 0.0
        return self.floor + excess

    def push(self, packet: bytes, now: float) -> None:
        self.seen += 1
        if self.loss and self.rng.random() < self.loss:
            self.dropped += 1
            return
        self.last_release = max(self.last_release, now + self.delay_s())
        self.queue.append((self.last_release, packet))

    def flush(self, now: float) -> float | None:
        """Write every packet due by now; return the next release time, if any."""
        while self.queue and self.queue[0][0] <= now:
            with contextlib.suppress(OSError):  # a full or vanished device loses the packet, as a real link does
                os.write(self.out_fd, self.queue.popleft()[1])
        return self.queue[0][0] if self.queue else None


def run(spec: dict) -> None:
    rng = random.Random(spec.get("seed", 0))
    directions: dict[int, Direction] = {}
    for path in spec["paths"]:
        host, inner = open_tun(path["host"]), open_tun(path["inner"])
        directions[inner] = Direction(host, **path["up"], rng=rng)
        directions[host] = Direction(inner, **path["down"], rng=rng)
    print("ready", flush=True)
    stdin = sys.stdin.fileno()
    watched = [stdin, *directions]
    timeout = None
    while True:
        readable, _, _ = select.select(watched, [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            if fd == stdin:
                if not os.read(stdin, 4096):
                    return
                continue
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                directions[fd].push(packet, now)
        now = time.monotonic()
        due = [t for d in directions.values() if (t := d.flush(now)) is not None]
        timeout = max(0.0, min(due) - time.monotonic()) if due else None


if __name__ == "__main__":
    run(json.loads(sys.argv[1]))

"""Bytes on the wire: a loopback relay that counts what a protocol puts on a connection, each way.

A tensor's size is not what crosses the network: JSON spells numbers out and base64 adds a third to bytes, HTTP adds
headers, HTTP/2 adds frames and control messages. The network model and the transfer costs take these counts.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


class WireCounter:
    """A relay on 127.0.0.1 to a local port; `up` and `down` are the bytes that crossed it each way since `reset()`,
    and with record=True `captured` holds them ([up, down], from the first connection's start)."""

    def __init__(self, target_port: int, record: bool = False):
        self.target_port, self.up, self.down, self.record = target_port, 0, 0, record
        self.captured = (bytearray(), bytearray())
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []

    def __enter__(self) -> WireCounter:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for s in (self._listener, *self._sockets):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def reset(self) -> None:
        with self._lock:
            self.up = self.down = 0

    def per_request(self, send: Callable[[], object], n: int = 3) -> tuple[int, int]:
        """Bytes up and down per request, averaged over n requests after one that opens the connection."""
        send()
        self.reset()
        for _ in range(n):
            send()
        with self._lock:
            return round(self.up / n), round(self.down / n)

    def _accept(self) -> None:
        try:
            while True:
                client, _ = self._listener.accept()
                server = socket.create_connection(("127.0.0.1", self.target_port))
                for s in (client, server):
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self._sockets.append(s)
                threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
                threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()
        except OSError:  # the listener was closed
            return

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while chunk := src.recv(65536):
                with self._lock:  # counted before it is passed on, so a response is counted before it arrives
                    if upstream:
                        self.up += len(chunk)
                    else:
                        self.down += len(chunk)
                    if self.record:
                        self.captured[not upstream].extend(chunk)
                dst.sendall(chunk)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

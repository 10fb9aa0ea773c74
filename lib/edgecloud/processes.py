"""Child processes that never outlive the process that started them (the server, the proxy)."""

from __future__ import annotations

import signal
import sys


def die_with_parent() -> None:
    """In the child, before exec (Linux): the kernel sends SIGTERM when the starting thread's process dies, even by
    SIGKILL or Ctrl-C, so a failed notebook leaves no server or proxy behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1

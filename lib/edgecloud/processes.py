"""Child processes that never outlive the process that started them (the server, the proxy)."""

from __future__ import annotations

import signal
import sys


def die_with_parent() -> None:
    """In the child, before exec: ignore Ctrl-C (SIGINT), which the parent handles by stopping its children, so a
    child prints no traceback of its own; and (Linux) have the kernel send SIGTERM when the starting thread's process
    dies, even by SIGKILL or Ctrl-C, so a failed notebook leaves no server or proxy behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # kept across exec; Python leaves an ignored SIGINT ignored
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1

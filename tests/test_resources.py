"""Resource sampling: CPU and memory are attributed to the right process, even when one started the other."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from edgecloud.machine import rapl_path
from edgecloud.resources import ResourceMonitor


def test_a_busy_child_counts_under_its_own_name_not_its_parent() -> None:
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with ResourceMonitor({"client": os.getpid(), "server": child.pid}, interval_s=0.1) as mon:
            time.sleep(1.0)
    finally:
        child.kill()
        child.wait()
    rows = {r["process"]: r for r in mon.summary()}
    assert rows["server"]["cpu_mean_pct"] > 50  # a spinning process uses most of one core
    assert rows["client"]["cpu_mean_pct"] < 30  # this test process mostly sleeps
    assert rows["client"]["rss_peak_mib"] > rows["server"]["rss_peak_mib"] > 0
    if rapl_path() is None:
        assert mon.energy_j is None  # no counter: no energy, never a zero that reads as a measurement
    else:
        assert mon.energy_j > 0  # a second of a spinning core uses energy

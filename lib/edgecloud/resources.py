"""Resource use during a run: CPU% and peak RSS of the client and server processes (psutil), energy (RAPL)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil

from edgecloud.machine import rapl_path


@dataclass
class ResourceMonitor:
    """Samples named processes (and their children) every interval_s while the with-block runs."""

    pids: dict[str, int]
    interval_s: float = 0.1
    cpu: dict[str, list[float]] = field(default_factory=dict)
    peak_rss: dict[str, int] = field(default_factory=dict)

    def __enter__(self) -> ResourceMonitor:
        families = {name: self._family(pid) for name, pid in self.pids.items()}
        roots = set(self.pids.values())
        # A process started by another monitored one (the server, by the client) counts only under its own name.
        self._procs = {
            name: [p for p in procs if p.pid == self.pids[name] or not self._under(p, roots - {self.pids[name]})]
            for name, procs in families.items()
        }
        for procs in self._procs.values():
            for p in procs:
                p.cpu_percent(None)
        self._energy0, self._t0 = read_energy_j(), time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _family(pid: int) -> list[psutil.Process]:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]

    @staticmethod
    def _under(proc: psutil.Process, roots: set[int]) -> bool:
        try:
            return proc.pid in roots or any(parent.pid in roots for parent in proc.parents())
        except psutil.Error:
            return False

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        for name, procs in self._procs.items():
            cpu, rss = 0.0, 0
            for p in procs:
                try:
                    cpu += p.cpu_percent(None)
                    rss += p.memory_info().rss
                except psutil.Error:
                    continue
            self.cpu.setdefault(name, []).append(cpu)
            self.peak_rss[name] = max(self.peak_rss.get(name, 0), rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # a run shorter than one interval still gets one reading
        self.seconds = time.perf_counter() - self._t0
        end = read_energy_j()
        self.energy_j = None if end is None or self._energy0 is None else end - self._energy0

    def summary(self) -> list[dict]:
        """One row per process: mean and peak CPU% (100 = one core) and peak RSS in MiB."""
        return [
            {
                "process": name,
                "cpu_mean_pct": sum(v) / len(v) if v else 0.0,
                "cpu_peak_pct": max(v, default=0.0),
                "rss_peak_mib": self.peak_rss.get(name, 0) / 2**20,
            }
            for name, v in self.cpu.items()
        ]


def read_energy_j() -> float | None:
    """Package energy from RAPL in joules, or None where it cannot be read (then energy is modeled)."""
    path = rapl_path()
    return int(path.read_text()) / 1e6 if path else None

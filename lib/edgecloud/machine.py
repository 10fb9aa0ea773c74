"""This machine and this checkout: an MLPerf-style description, a stable machine id, RAPL and the git state.

A leaf module (platform, psutil, git): the results store and the server import it without torch.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

import psutil

ISA_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512_vnni",
    "avx_vnni",
    "amx_int8",
    "amx_bf16",
    "neon",
    "asimd",
    "asimddp",
    "sve",
)
PACKAGES = (
    "torch",
    "onnxruntime",
    "onnx",
    "numpy",
    "mlserver",
    "mlcommons-loadgen",
    "transformers",
    "scikit-learn",
    "pandas",
    "pyarrow",
    "papermill",
    "pydantic",
)


def usable_cores() -> int:
    """CPUs this process may run on (what a container or taskset really gives)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    path = Path("/proc/cpuinfo")
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    return info


def cpu_flags() -> set[str]:
    info = _cpuinfo()
    return set((info.get("flags") or info.get("Features") or "").split())


def describe() -> dict:
    """An MLPerf-style system description (no hostname)."""
    info = _cpuinfo()
    flags = cpu_flags()
    return {
        "cpu_model": info.get("model name") or platform.processor() or platform.machine(),
        "architecture": platform.machine(),
        "physical_cores": psutil.cpu_count(logical=False),
        "logical_cpus": psutil.cpu_count(logical=True),
        "usable_cpus": usable_cores(),
        "isa_flags": " ".join(f for f in ISA_FLAGS if f in flags),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "rapl_readable": rapl_path() is not None,
        **{f"version_{p}": _version(p) for p in PACKAGES},
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


@cache
def machine_id() -> str:
    """A readable, stable fingerprint of this machine: cpu, cores, memory and a short hash."""
    d = describe()
    key = f"{d['cpu_model']}|{d['usable_cpus']}|{d['memory_gib']}|{d['os']}"
    words = "".join(c if c.isalnum() else "-" for c in d["cpu_model"].lower()).split("-")
    name = "-".join(w for w in words if w)[:32]
    return f"{name}-{d['usable_cpus']}c-{hashlib.sha1(key.encode()).hexdigest()[:6]}"


def rapl_path() -> Path | None:
    """The package-energy counter of Intel/AMD RAPL, if this process may read it."""
    path = Path("/sys/class/powercap/intel-rapl:0/energy_uj")
    try:
        path.read_text()
        return path
    except OSError:
        return None


@cache
def git_state(root: Path) -> dict:
    """Commit and dirty flag of the project, or 'not a git checkout'."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout

    try:
        return {"commit": git("rev-parse", "HEAD").strip(), "dirty": bool(git("status", "--porcelain").strip())}
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {"commit": "not a git checkout", "dirty": None}

"""constraints.txt: the version of every package the pinned requirements pull in, written from an environment whose
report and bench were checked, so a fresh clone installs what was measured. Each version lives once: a package pinned
in requirements*.txt is not repeated here."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PIN_FILES = ("requirements.txt", "requirements-nodeps.txt", "requirements-dev.txt")
LOCK = "constraints.txt"
# installed by the venv itself or by `make venv` outside the requirements: never locked
UNLOCKED = {"pip", "setuptools", "wheel", "edgecloud"}
HEADER = """\
# Every package the pins in requirements*.txt pull in, at the version whose report and bench were checked
# (`make venv` and environment.yml install with -c constraints.txt). Without it, a fresh clone takes the newest
# release of each, untested here. To upgrade: change a pin or a line below, `make venv`, check `make report bench`,
# then `.venv/bin/python -m edgecloud lock` rewrites this file from .venv.
"""


def pinned_in(path: Path) -> dict[str, str]:
    """Canonical name → version of every `name==version` line of one requirements or constraints file."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            out[canonicalize_name(req.name)] = next(iter(req.specifier)).version
    return out


def pins(root: Path) -> dict[str, str]:
    """Canonical name → version of every pin in the requirements files."""
    return {name: version for file in PIN_FILES for name, version in pinned_in(root / file).items()}


def installed() -> dict[str, str]:
    """Canonical name → version of every distribution in this environment, less the ones never locked."""
    found = {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    return {name: version for name, version in found.items() if name not in UNLOCKED}


def constraints(root: Path) -> dict[str, str]:
    """Canonical name → version of every line of constraints.txt."""
    return pinned_in(root / LOCK)


def render(found: dict[str, str], pinned: dict[str, str]) -> str:
    """constraints.txt for the packages found that no requirements file pins."""
    return HEADER + "".join(f"{name}=={found[name]}\n" for name in sorted(found) if name not in pinned)


def write(root: Path) -> Path:
    """Rewrite constraints.txt from this environment."""
    path = root / LOCK
    path.write_text(render(installed(), pins(root)))
    return path

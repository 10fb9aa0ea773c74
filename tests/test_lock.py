"""constraints.txt locks what the pins pull in: every package of this environment is pinned exactly once, at the
version installed, so a fresh clone measures with the same code as the checked one."""

from __future__ import annotations

from packaging.specifiers import Specifier

from edgecloud import lock


def test_every_installed_package_is_pinned_once_at_its_installed_version(root) -> None:
    pinned, locked = lock.pins(root), lock.constraints(root)
    assert not pinned.keys() & locked.keys(), "a version lives twice: in requirements*.txt and in constraints.txt"
    wanted = {**pinned, **locked}
    off = {
        name: (version, wanted.get(name, "not locked"))
        for name, version in lock.installed().items()
        if name not in wanted or not Specifier(f"=={wanted[name]}").contains(version)  # 2.13.0 matches 2.13.0+cpu
    }
    assert not off, f"installed vs locked {off}: run `make venv`, or after a checked report and bench `edgecloud lock`"


def test_the_lock_holds_what_no_requirements_file_pins() -> None:
    text = lock.render({"uvloop": "0.22.1", "numpy": "2.4.6", "anyio": "4.1"}, {"numpy": "2.4.6"})
    assert text.startswith(lock.HEADER) and text.endswith("anyio==4.1\nuvloop==0.22.1\n") and "numpy" not in text

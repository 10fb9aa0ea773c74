"""A Hugging Face folder to GGUF with llama.cpp's own converter, `convert_hf_to_gguf.py`: it ships only in the
source distribution of the installed llama-cpp-python (which pip built from that very file), so pip fetches it once
from the package index and the converter is cached beside the models."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

from edgecloud import cache

PACKAGE = "llama-cpp-python"
SCRIPT = "convert_hf_to_gguf.py"
PARTS = (SCRIPT, "conversion/", "gguf-py/")  # the script, its per-architecture modules and its own gguf package
OUTTYPE = "f16"  # the converter's usual output; quantized types come from llama.cpp's quantizer


class ConversionFailed(RuntimeError):
    """The converter could not be fetched or could not convert the folder; the message says which and why."""


def converter() -> Path:
    """The folder holding convert_hf_to_gguf.py of the installed llama-cpp-python's llama.cpp, fetched once."""
    version = metadata.version(PACKAGE)
    key = {"model": "llama.cpp", "kind": "converter", "version": version}
    return cache.cached(key, "", lambda folder: _fetch(version, folder))


def _fetch(version: str, folder: Path) -> None:
    """Download llama-cpp-python's source distribution and keep its vendored llama.cpp converter in folder."""
    with tempfile.TemporaryDirectory(prefix="edgecloud-sdist-") as tmp:
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        done = subprocess.run([*pip, f"{PACKAGE}=={version}", "-d", tmp], capture_output=True, text=True)
        if done.returncode != 0:
            raise ConversionFailed(f"pip could not fetch {PACKAGE}=={version}'s source (for {SCRIPT}): {_last(done)}")
        with tarfile.open(next(Path(tmp).glob("*.tar.gz"))) as sdist:
            vendor = next(m.name for m in sdist.getmembers() if m.name.endswith(f"vendor/llama.cpp/{SCRIPT}"))
            root = vendor.removesuffix(SCRIPT)
            wanted = [m for m in sdist.getmembers() if m.name.removeprefix(root).startswith(PARTS)]
            sdist.extractall(tmp, members=wanted, filter="data")
        Path(tmp, root).rename(folder)


def convert(folder: Path, out: Path) -> None:
    """Write folder's model as a GGUF file at out (OUTTYPE weights); ConversionFailed with the converter's last line."""
    command = [sys.executable, str(converter() / SCRIPT), str(folder), "--outfile", str(out), "--outtype", OUTTYPE]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise ConversionFailed(f"llama.cpp's {SCRIPT} could not convert {folder}: {_last(done)}")


def _last(done: subprocess.CompletedProcess) -> str:
    """The last line a failed command wrote to stderr (its error, after any traceback)."""
    return (done.stderr.strip().splitlines() or ["no message"])[-1]

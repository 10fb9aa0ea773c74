"""Run notebooks with papermill: validated params in, executed notebook out, atomically."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import papermill as pm

from edgecloud import paths
from edgecloud.env import KERNEL, KERNEL_ARGUMENTS, KERNEL_ENV, RUN_ID_VAR
from edgecloud.params import NOTEBOOK_SECTIONS, Params


class NotebookFailed(RuntimeError):
    """A notebook cell raised; the message names the notebook, the cell and the error."""


def write_stamps(params: Params, params_file: Path) -> list[Path]:
    """One stamp per notebook holding its resolved parameters, and one listing the runs committed under
    data/results/; each is rewritten only when it changes (for make)."""
    folder = paths.outputs() / ".stamps"
    folder.mkdir(parents=True, exist_ok=True)
    changed = []
    for notebook in NOTEBOOK_SECTIONS:
        text = json.dumps(params.for_notebook(notebook), sort_keys=True, indent=1)
        stamp = folder / f"{notebook}.params"
        if not stamp.exists() or stamp.read_text() != text:
            stamp.write_text(text)
            changed.append(stamp)
    (folder / "params-file").write_text(str(params_file))
    results = folder / "data-results"
    listing = committed_results_digest()
    if not results.exists() or results.read_text() != listing:
        results.write_text(listing)
        changed.append(results)
    return changed


def committed_results_digest() -> str:
    """One line per file under data/results/ with its content hash: changes when runs are added, removed or edited,
    whatever their modification times (copies made with `cp -a` or rsync keep old ones)."""
    root = paths.project_root() / "data" / "results"
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".gitkeep") if root.exists() else []
    return "".join(f"{p.relative_to(root)} {hashlib.sha1(p.read_bytes()).hexdigest()}\n" for p in files)


def run_notebook(notebook: str, params: Params, params_file: Path) -> Path:
    """Execute notebooks/<notebook>.ipynb into outputs/notebooks/, keeping the last good copy on failure."""
    root = paths.project_root()
    src = root / "notebooks" / f"{notebook}.ipynb"
    out_dir = paths.outputs() / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    final, tmp = out_dir / f"{notebook}.ipynb", out_dir / f"{notebook}.running.ipynb"
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
    os.environ.update(KERNEL_ENV, EDGECLOUD_ROOT=str(root), **{RUN_ID_VAR: run_id})
    interactive = sys.stderr.isatty()
    started, t0 = datetime.now(UTC), time.perf_counter()
    try:
        pm.execute_notebook(
            str(src),
            str(tmp),
            parameters=params.for_notebook(notebook),
            kernel_name=KERNEL,
            cwd=str(src.parent),
            execution_timeout=params.shared.notebook_timeout_s,
            progress_bar=interactive,
            log_output=not interactive,
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except pm.PapermillExecutionError as e:
        failed = out_dir / f"{notebook}.failed.ipynb"
        os.replace(tmp, failed)
        raise NotebookFailed(
            f"{src.relative_to(root)}: cell {e.exec_count} failed with {e.ename}: {e.evalue}\n"
            f"  the executed copy is {failed}; the last good run was left in place"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)  # interrupted (Ctrl-C) or the kernel died: no half-written copy is left
        raise
    os.replace(tmp, final)
    record = {
        "notebook": notebook,
        "run_id": run_id,
        "params_file": str(params_file),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "runtime_s": round(time.perf_counter() - t0, 1),
        "parameters_sha1": hashlib.sha1(json.dumps(params.for_notebook(notebook), sort_keys=True).encode()).hexdigest(),
    }
    paths.artifact(f"provenance/{notebook}.json").write_text(json.dumps(record, indent=1))
    return final

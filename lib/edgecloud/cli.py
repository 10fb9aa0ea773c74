"""Command line: validate params, run notebooks, build the report, measure without Jupyter."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from edgecloud.notebooks import BY_ID
from edgecloud.params import ParamsError, load_params, params_table


def _load(path: str):
    """Validated params, or the problems on stderr and exit 2 (no traceback): the schema, then the endpoints."""
    try:
        params = load_params(path)
    except ParamsError as e:
        print(e, file=sys.stderr)
        raise SystemExit(2) from None
    from edgecloud.preflight import problems

    if found := problems(params, path):
        print("\n".join(found), file=sys.stderr)
        raise SystemExit(2)
    return params


def _quiet_after_ctrl_c() -> None:
    """Ctrl-C silences logging before it interrupts: what the unwinding logs (a kernel that died with the signal,
    asyncio tasks never awaited) would bury the one line that says what stopped and what was kept."""

    def interrupt(signum: int, frame: object) -> None:
        logging.disable(logging.CRITICAL)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edgecloud", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in [
        ("validate", "check a params file"),
        ("stamp", "validate and write per-notebook stamps"),
        ("measure", "run the cloud/edge, generative and speech measurements without Jupyter"),
    ]:
        p = sub.add_parser(name, help=help_)
        p.add_argument("--params", default="params/default.yaml")
    run = sub.add_parser("run", help="execute one notebook with papermill")
    run.add_argument("notebook", choices=list(BY_ID))
    run.add_argument("--params", default="params/default.yaml")
    sub.add_parser("report", help="assemble outputs/report.html from executed notebooks")
    lab = sub.add_parser("lab", help="JupyterLab on 127.0.0.1 with a token (root users too)")
    lab.add_argument("--port", type=int, default=None)
    sub.add_parser("params-table", help="print the Markdown parameter table of the README")
    sub.add_parser("metrics-table", help="print the Markdown metric table of the README")
    sub.add_parser("parameter-cells", help="rewrite the notebooks' parameters cells from the schema's defaults")
    sub.add_parser("lock", help="rewrite constraints.txt from this environment (after a checked report and bench)")
    args = parser.parse_args(argv)

    if args.command == "params-table":
        print(params_table())
        return 0
    if args.command == "metrics-table":
        from edgecloud.results import metrics

        print(metrics.table())
        return 0
    if args.command == "parameter-cells":
        from edgecloud import parameter_cells

        print("\n".join(f"rewrote notebooks/{n}.ipynb" for n in parameter_cells.rewrite()) or "all current")
        return 0
    if args.command == "lock":
        from edgecloud import lock, paths

        print(f"wrote {lock.write(paths.project_root())}")
        return 0
    if args.command == "lab":
        from edgecloud import lab

        return lab.main(args.port)
    if args.command == "report":
        from edgecloud import report

        print(f"wrote {report.build()}")
        return 0
    params = _load(args.params)
    if args.command == "validate":
        print(f"{args.params}: valid")
    elif args.command == "stamp":
        from edgecloud.pipeline import write_stamps

        for stamp in write_stamps(params, Path(args.params)):
            print(f"changed: {stamp.name}")
    elif args.command == "run":
        from edgecloud.pipeline import NotebookFailed, run_notebook

        _quiet_after_ctrl_c()
        try:
            print(f"wrote {run_notebook(args.notebook, params, Path(args.params))}")
        except NotebookFailed as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(
                f"interrupted: notebooks/{args.notebook}.ipynb stopped; its run is not marked complete and the "
                "last good output was left in place",
                file=sys.stderr,
            )
            return 130
    elif args.command == "measure":
        from edgecloud.experiments import generative, speech
        from edgecloud.experiments.cloud_edge import measure_all

        _quiet_after_ctrl_c()
        try:
            print(f"wrote {measure_all(params, args.params)} (a complete run in the results store)")
            print(f"wrote {generative.measure_everything(params)} (a complete run in the results store)")
            print(f"wrote {speech.measure_everything(params)} (a complete run in the results store)")
        except KeyboardInterrupt:
            print("interrupted: the server was stopped and the partial run is not marked complete", file=sys.stderr)
            return 130
    return 0

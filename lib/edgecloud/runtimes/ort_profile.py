"""What ONNX Runtime's own profiler says a model's time goes to (its clock, not ours)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from edgecloud import paths
from edgecloud.runtimes.ort import ort_session


def node_shares(path: Path, threads: int, inputs: dict[str, np.ndarray], runs: int = 20) -> np.ndarray:
    """Each node's share of the model's time (node order), from ONNX Runtime's profiler: the median over runs of
    every kernel event, mapped to the original node by name or output; layout reorders go to the node before."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    index = {n.name: i for i, n in enumerate(graph.node)}
    index |= {o: i for i, n in enumerate(graph.node) for o in n.output}
    session = ort_session(path, threads, profile_prefix=paths.artifact("profiles/split"))
    for _ in range(runs + 3):
        session.run(None, inputs)
    profile = Path(session.end_profiling())
    events = [
        e for e in json.loads(profile.read_text()) if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")
    ]
    profile.unlink()
    durations: dict[int, list[list[float]]] = defaultdict(list)
    previous, seen = 0, defaultdict(int)
    for e in events:
        name = e["name"].removesuffix("_kernel_time")
        node = index.get(name, index.get(name.removesuffix("_nchwc"), previous))
        previous = node
        run = seen[(name, node)]
        seen[(name, node)] += 1
        durations[node].append([run, e["dur"]])
    per_node = np.zeros(len(graph.node))
    for node, pairs in durations.items():
        by_run = defaultdict(float)
        for run, dur in pairs:
            by_run[run] += dur
        per_node[node] = np.median([v for r, v in by_run.items() if r >= 3])
    return per_node / per_node.sum()

"""Split computing, as in Neurosurgeon (Kang et al., ASPLOS 2017): where an ONNX graph can be cut into an edge head
and a cloud tail, and the two halves as ONNX files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, shape_inference
from onnx.utils import extract_model

from edgecloud import paths
from edgecloud.vocabulary import ALL_CLOUD, ALL_EDGE


@dataclass(frozen=True)
class Cut:
    """Nodes [0, index) run on the edge and the rest in the cloud; `tensor` is the one tensor that crosses."""

    index: int
    tensor: str
    nbytes: int  # at batch 1
    all_edge: bool = False  # only the output is left: nothing crosses, nothing is served

    @property
    def label(self) -> str:
        if self.all_edge:
            return ALL_EDGE
        return ALL_CLOUD if self.index == 0 else f"after node {self.index} ({self.tensor})"


def _nbytes(value: onnx.ValueInfoProto) -> int:
    t = value.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else 1 for d in t.shape.dim]
    return int(np.prod(dims)) * helper.tensor_dtype_to_np_dtype(t.elem_type).itemsize


def _constants(graph: onnx.GraphProto) -> set[str]:
    """Tensors computed from initializers alone (weights, Identity copies of them, Constant nodes)."""
    const = {i.name for i in graph.initializer}
    for node in graph.node:
        if all(i in const for i in node.input if i):
            const.update(o for o in node.output if o)
    return const


def cuts(path: Path, inputs: dict[str, np.ndarray]) -> list[Cut]:
    """Every place where exactly one non-constant tensor crosses from the nodes before to the nodes after, in node
    order, from all in the cloud (the input crosses) to all on the edge (only the output remains); sizes are for
    these inputs."""
    model = onnx.load(str(path), load_external_data=False)
    for value in model.graph.input:
        if value.name in inputs:
            dims = value.type.tensor_type.shape.dim
            for dim, size in zip(dims, inputs[value.name].shape, strict=True):
                dim.Clear()
                dim.dim_value = size
    model = shape_inference.infer_shapes(model, data_prop=True)
    graph = model.graph
    infos = {v.name: v for v in (*graph.input, *graph.value_info, *graph.output)}
    const = _constants(graph)
    last_use: dict[str, int] = {}
    for i, node in enumerate(graph.node):
        for name in node.input:
            last_use[name] = i
    for out in graph.output:
        last_use[out.name] = len(graph.node)
    live = {i.name for i in graph.input if i.name not in const}
    found = [Cut(0, next(iter(live)), _nbytes(infos[next(iter(live))]))] if len(live) == 1 else []
    for i, node in enumerate(graph.node):
        live |= {o for o in node.output if o and o not in const}
        live = {t for t in live if last_use.get(t, -1) > i}
        if len(live) == 1 and node.output and (t := next(iter(live))) in node.output and t in infos:
            found.append(Cut(i + 1, t, _nbytes(infos[t])))
    last = found[-1]
    found[-1] = Cut(last.index, last.tensor, last.nbytes, all_edge=True)
    return found


def halves(path: Path, cut: Cut) -> tuple[Path, Path]:
    """The head (input → cut tensor) and tail (cut tensor → output) as ONNX files beside the cached model."""
    graph = onnx.load(str(path), load_external_data=False).graph
    first, last = graph.input[0].name, graph.output[0].name
    folder = paths.cache_dir() / f"{path.stem}-split"
    folder.mkdir(parents=True, exist_ok=True)
    head, tail = folder / f"head-{cut.index}.onnx", folder / f"tail-{cut.index}.onnx"
    if not head.exists():
        extract_model(str(path), str(head), [first], [cut.tensor])
    if not tail.exists():
        extract_model(str(path), str(tail), [cut.tensor], [last])
    return head, tail


def sink_model(floats: int) -> Path:
    """An ONNX model that takes `floats` values and answers one (their maximum): it measures what serving costs per
    byte sent, with next to no compute and a constant reply."""
    path = paths.cache_dir() / f"sink-{floats}.onnx"
    if not path.exists():
        x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, floats])
        y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 1])
        node = helper.make_node("ReduceMax", ["x"], ["y"], axes=[1], keepdims=1)
        graph = helper.make_graph([node], "sink", [x], [y])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path

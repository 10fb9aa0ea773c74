"""A model file's declared inputs, read without loading weights or torch: names, dims (None where dynamic), dtypes,
and the shapes a run will use once `input_shape` fills the dynamic ones."""

from __future__ import annotations

from pathlib import Path

Dims = list[int | None]


def graph_inputs(path: Path | str) -> dict[str, tuple[Dims, str]]:
    """Input names → (dims, None where dynamic; numpy dtype); ValueError when the file is not an ONNX model."""
    import onnx

    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as e:  # protobuf raises several types for a file that is not a model
        raise ValueError(f"{path} is not an ONNX model ({type(e).__name__})") from None
    init = {i.name for i in graph.initializer}
    out = {}
    for inp in graph.input:
        if inp.name not in init:
            t = inp.type.tensor_type
            dims = [d.dim_value if d.dim_value > 0 else None for d in t.shape.dim]
            out[inp.name] = (dims, onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name)
    if not out:
        raise ValueError(f"{path} declares no inputs: is it an ONNX model?")
    return out


def resolved_shapes(
    path: Path | str, input_shape: list[int] | None, input_dtype: str | None
) -> dict[str, tuple[list[int], str]]:
    """Shapes to run with: `input_shape` fills the dynamic dimensions of every input of its rank; a dynamic
    dimension other than the batch that it does not fill is a ValueError saying what to add."""
    spec = {}
    for name, (dims, dtype) in graph_inputs(path).items():
        if input_shape and len(input_shape) == len(dims):
            dims = [d if d is not None else g for d, g in zip(dims, input_shape, strict=True)]
        missing = [i for i, d in enumerate(dims) if d is None and i > 0]
        if missing:
            example = [1, *[d or 224 for d in dims[1:]]]
            raise ValueError(
                f"input {name!r} has dynamic dimensions {missing} and no input_shape: add e.g. input_shape: {example}"
            )
        spec[name] = ([1 if d is None else d for d in dims], input_dtype or dtype)
    return spec

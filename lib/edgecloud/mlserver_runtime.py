"""An MLServer runtime that serves edgecloud sessions over the Open Inference Protocol (KServe v2)."""

from __future__ import annotations

import asyncio
import base64
import time

import numpy as np
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse, Parameters, RequestInput

from edgecloud.models.zoo import get_model
from edgecloud.params import CustomModel
from edgecloud.payloads import Payload, kind_of, to_model_inputs
from edgecloud.runtimes import load_session


def _array(inp: RequestInput) -> np.ndarray:
    """A request input as an array; JPEG bytes arrive raw over gRPC and base64-encoded in JSON."""
    if inp.datatype == "BYTES":
        raw = inp.data.root if hasattr(inp.data, "root") else inp.data
        return np.array([base64.b64decode(j) if isinstance(j, str) else bytes(j) for j in raw], dtype=object)
    return NumpyCodec.decode_input(inp)


def decode_request(model, inputs: list[RequestInput]) -> dict[str, np.ndarray]:
    """A request's inputs → the model's inputs (a payload kind is read from the datatypes)."""
    kind = kind_of(model, [i.datatype for i in inputs])
    return to_model_inputs(model, Payload(kind, {i.name: _array(i) for i in inputs}))


class EdgecloudRuntime(MLModel):
    """Loads one edgecloud model session; each response carries server timestamps (ns) and the batch size."""

    async def load(self) -> bool:
        extra = self.settings.parameters.extra
        custom = [CustomModel(**c) for c in extra.get("custom", [])]
        model = get_model(extra["model"], extra.get("seed", 0), custom)
        self.session = load_session(
            model,
            extra["runtime"],
            extra["precision"],
            extra["threads"],
            extra["calibration_samples"],
            spin_wait=extra.get("spin_wait", True),
        )
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        entered = time.time_ns()
        x = decode_request(self.session.model, payload.inputs)
        start = time.time_ns()
        out = await asyncio.get_running_loop().run_in_executor(None, self.session.run, x)
        end = time.time_ns()
        return InferenceResponse(
            model_name=self.name,
            outputs=[NumpyCodec.encode_output("output", out)],
            parameters=Parameters(entered_ns=entered, compute_start_ns=start, compute_end_ns=end, batch_size=len(out)),
        )

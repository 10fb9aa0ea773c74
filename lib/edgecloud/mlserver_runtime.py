"""An MLServer runtime that serves edgecloud sessions over the Open Inference Protocol (KServe v2)."""

from __future__ import annotations

import asyncio
import base64
import time

import numpy as np
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse, Parameters, RequestInput

from edgecloud.models import ImageClassifier, get_model
from edgecloud.runtimes import load_session

KINDS = {"FP32": "float32", "UINT8": "uint8", "BYTES": "jpeg"}


def decode_payload(model: ImageClassifier, inp: RequestInput) -> np.ndarray:
    """A request input → the model's float32 NCHW batch (JPEG bytes arrive raw over gRPC, base64 in JSON)."""
    if inp.datatype == "BYTES":
        raw = inp.data.root if hasattr(inp.data, "root") else inp.data
        return model.from_payload("jpeg", [base64.b64decode(j) if isinstance(j, str) else bytes(j) for j in raw])
    return model.from_payload(KINDS[inp.datatype], NumpyCodec.decode_input(inp))


class EdgecloudRuntime(MLModel):
    """Loads one edgecloud image model session; each response carries server timestamps (ns) and the batch size."""

    async def load(self) -> bool:
        extra = self.settings.parameters.extra
        model = get_model(extra["model"], extra.get("seed", 0))
        self.session = load_session(
            model, extra["runtime"], extra["precision"], extra["threads"], extra.get("calibration_samples", 32)
        )
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        entered = time.time_ns()
        x = decode_payload(self.session.model, payload.inputs[0])
        start = time.time_ns()
        out = await asyncio.get_running_loop().run_in_executor(None, self.session.run, {"input": x})
        end = time.time_ns()
        return InferenceResponse(
            model_name=self.name,
            outputs=[NumpyCodec.encode_output("output", out)],
            parameters=Parameters(entered_ns=entered, compute_start_ns=start, compute_end_ns=end, batch_size=len(x)),
        )

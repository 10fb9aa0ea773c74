"""Open Inference Protocol clients: JSON over HTTP (ours, so encoding is timed) and binary gRPC (tritonclient)."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Protocol

import httpx
import numpy as np

from edgecloud.payloads import Payload, datatype

SERVER_STAMPS = ("entered_ns", "compute_start_ns", "compute_end_ns", "batch_size")  # from mlserver_runtime


@dataclass(frozen=True)
class Timeline:
    """Wall-clock stamps (ns, one machine's clock) of one request, and the batch the server ran it in."""

    start: int
    encoded: int
    entered: int
    compute_start: int
    compute_end: int
    received: int
    decoded: int
    batch_size: int

    @classmethod
    def from_stamps(cls, start: int, encoded: int, server: dict[str, int], received: int, batch: int) -> Timeline:
        """A timeline from client stamps and the server's; a server that sends none (a remote Triton or KServe)
        leaves its whole time in transport_and_queue."""
        return cls(
            start,
            encoded,
            server.get("entered_ns", received),
            server.get("compute_start_ns", received),
            server.get("compute_end_ns", received),
            received,
            time.time_ns(),
            server.get("batch_size", batch),
        )

    def breakdown_ms(self) -> dict[str, float]:
        """Client encode, transport and queue, server-side decode, compute, transport back, client decode."""
        stamps = [
            self.start,
            self.encoded,
            self.entered,
            self.compute_start,
            self.compute_end,
            self.received,
            self.decoded,
        ]
        names = ["encode", "transport_and_queue", "server_preprocess", "compute", "from_server", "decode"]
        return {n: (b - a) / 1e6 for n, a, b in zip(names, stamps, stamps[1:], strict=False)} | {
            "total": (self.decoded - self.start) / 1e6
        }


class Client(Protocol):
    def infer(self, model: str, payload: Payload) -> tuple[np.ndarray, Timeline]: ...

    def close(self) -> None: ...


class HttpJsonClient:
    """KServe v2 REST with JSON bodies (JPEG bytes base64-encoded), over one keep-alive connection."""

    def __init__(self, base_url: str, timeout_s: float = 60.0):
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)

    def infer(self, model: str, payload: Payload) -> tuple[np.ndarray, Timeline]:
        start = time.time_ns()
        inputs = []
        for name, array in payload.arrays.items():
            jpeg = payload.kind == "jpeg"
            data = [base64.b64encode(b).decode() for b in array] if jpeg else array.ravel().tolist()
            inputs.append({"name": name, "shape": list(array.shape), "datatype": datatype(array), "data": data})
        body = json.dumps({"inputs": inputs})
        encoded = time.time_ns()
        response = self.http.post(
            f"/v2/models/{model}/infer", content=body, headers={"content-type": "application/json"}
        )
        received = time.time_ns()
        response.raise_for_status()
        doc = response.json()
        out = doc["outputs"][0]
        result = np.asarray(out["data"], dtype=np.float32).reshape(out["shape"])
        p = {k: int(v) for k, v in (doc.get("parameters") or {}).items() if k in SERVER_STAMPS}
        return result, Timeline.from_stamps(start, encoded, p, received, len(result))

    def close(self) -> None:
        self.http.close()


# HTTP/2 settings on both ends of gRPC: no BDP probing, whose PINGs otherwise take a slot of a request's initial TCP
# window at random (a capture showed 13 of 120 intercontinental requests 100-235 ms late), and a stream window large
# enough that HTTP/2 flow control never stalls a request, so TCP alone paces the transfer, as the network model says.
GRPC_HTTP2_OPTIONS = (("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 16 << 20))


class GrpcClient:
    """KServe v2 gRPC with binary tensors, through tritonclient (its default options plus GRPC_HTTP2_OPTIONS)."""

    def __init__(self, url: str, timeout_s: float = 60.0):
        import tritonclient.grpc as grpcclient

        self._mod, self.timeout_s = grpcclient, timeout_s
        keepalive = grpcclient.KeepAliveOptions()
        options = [
            ("grpc.max_send_message_length", grpcclient.MAX_GRPC_MESSAGE_SIZE),
            ("grpc.max_receive_message_length", grpcclient.MAX_GRPC_MESSAGE_SIZE),
            ("grpc.keepalive_time_ms", keepalive.keepalive_time_ms),
            ("grpc.keepalive_timeout_ms", keepalive.keepalive_timeout_ms),
            ("grpc.keepalive_permit_without_calls", keepalive.keepalive_permit_without_calls),
            ("grpc.http2.max_pings_without_data", keepalive.http2_max_pings_without_data),
            *GRPC_HTTP2_OPTIONS,
        ]
        self.grpc = grpcclient.InferenceServerClient(url, channel_args=options)

    def infer(self, model: str, payload: Payload) -> tuple[np.ndarray, Timeline]:
        start = time.time_ns()
        inputs = []
        for name, array in payload.arrays.items():
            inp = self._mod.InferInput(name, list(array.shape), datatype(array))
            inp.set_data_from_numpy(array)
            inputs.append(inp)
        encoded = time.time_ns()
        result = self.grpc.infer(model, inputs, client_timeout=self.timeout_s)
        received = time.time_ns()
        out = result.as_numpy(result.get_response().outputs[0].name)
        params = result.get_response().parameters
        p = {k: params[k].int64_param for k in SERVER_STAMPS if k in params}
        return out, Timeline.from_stamps(start, encoded, p, received, len(out))

    def close(self) -> None:
        self.grpc.close()


def connect(protocol: str, http_url: str, grpc_url: str, timeout_s: float = 60.0) -> Client:
    """A client for one protocol; a request that takes longer than timeout_s fails as a timeout."""
    return HttpJsonClient(http_url, timeout_s) if protocol == "http" else GrpcClient(grpc_url, timeout_s)


def error_kind(e: BaseException) -> str:
    """What went wrong with a request, in one word or two: timeout, refused, HTTP status, or the error's type."""
    text = str(e).lower()
    if isinstance(e, httpx.TimeoutException) or "deadline" in text or "timed out" in text:
        return "timeout"
    if isinstance(e, httpx.HTTPStatusError):
        return f"HTTP {e.response.status_code}"
    if isinstance(e, httpx.TransportError) or "unavailable" in text or "connect" in text:
        return "connection"
    return type(e).__name__

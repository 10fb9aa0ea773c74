"""Checks that need the outside world, run with validation before any kernel starts: is `remote_url` an Open
Inference Protocol server that serves `remote_model`?"""

from __future__ import annotations

from pathlib import Path

import httpx

from edgecloud.params import Params


def endpoint_problem(url: str, model: str, timeout_s: float = 5.0) -> str | None:
    """None when url answers the Open Inference Protocol for model; otherwise what is wrong, in a few words."""
    base = url.rstrip("/")
    try:
        with httpx.Client(timeout=timeout_s) as client:
            ready = client.get(f"{base}/v2/health/ready")
            if ready.status_code >= 500:
                return f"answers HTTP {ready.status_code}"
            meta = client.get(f"{base}/v2/models/{model}")
    except httpx.ConnectError:
        return "refuses connections"
    except httpx.TimeoutException:
        return f"did not answer within {timeout_s:g} s"
    except httpx.HTTPError as e:
        return f"cannot be reached ({type(e).__name__})"
    if meta.status_code >= 500:
        return f"answers HTTP {meta.status_code}"
    try:
        doc = meta.json()
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return "is not an Open Inference Protocol server (no JSON model metadata at /v2/models/<name>)"
    if meta.status_code == 404 or "inputs" not in doc:
        return (
            f"does not serve a model named {model!r}"
            if "error" in doc
            else ("is not an Open Inference Protocol server (no model metadata at /v2/models/<name>)")
        )
    return None


def problems(params: Params, path: Path | str, timeout_s: float = 5.0) -> list[str]:
    """One line per problem, naming the file and the key, like a validation error."""
    m = params.measurements
    if not m.remote_url:
        return []
    problem = endpoint_problem(m.remote_url, m.remote_model, timeout_s)
    return [f"{path}: measurements.remote_url: {m.remote_url!r} {problem}"] if problem else []

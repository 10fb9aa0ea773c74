"""Checks that need the outside world or run a user's code, after the schema and before any kernel starts: is each
custom model's ONNX file usable, does each torch factory import and build, is `remote_url` an Open Inference Protocol
server that serves `remote_model`, is `llm_url` an OpenAI-compatible endpoint that streams? Each problem is one line
naming the file and the key, like a schema error."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import httpx

from edgecloud.params import CustomModel, Params


def _unreachable(e: httpx.HTTPError, timeout_s: float) -> str:
    """Why a request failed, in a few words."""
    if isinstance(e, httpx.ConnectError):
        return "refuses connections"
    if isinstance(e, httpx.TimeoutException):
        return f"did not answer within {timeout_s:g} s"
    return f"cannot be reached ({type(e).__name__})"


def endpoint_problem(url: str, model: str, timeout_s: float = 5.0) -> str | None:
    """None when url answers the Open Inference Protocol for model; otherwise what is wrong, in a few words."""
    base = url.rstrip("/")
    try:
        with httpx.Client(timeout=timeout_s) as client:
            ready = client.get(f"{base}/v2/health/ready")
            if ready.status_code >= 500:
                return f"answers HTTP {ready.status_code}"
            meta = client.get(f"{base}/v2/models/{model}")
    except httpx.HTTPError as e:
        return _unreachable(e, timeout_s)
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


def llm_endpoint_problem(url: str, model: str, key_env: str | None, timeout_s: float = 5.0) -> str | None:
    """None when url is an OpenAI-compatible endpoint that lists model and streams a short greedy answer; otherwise
    what is wrong, in a few words."""
    from edgecloud.network import token_stream

    headers = {"Authorization": f"Bearer {os.environ.get(key_env, '')}"} if key_env else {}
    try:
        with httpx.Client(timeout=timeout_s, headers=headers) as client:
            listed = client.get(f"{url.rstrip('/')}/models")
    except httpx.HTTPError as e:
        return _unreachable(e, timeout_s)
    if listed.status_code in (401, 403):
        return f"refuses the key (HTTP {listed.status_code}; set {key_env or 'llm_key_env'})"
    try:
        ids = [m.get("id") for m in listed.json().get("data", [])]
    except (ValueError, AttributeError):
        return "is not an OpenAI-compatible endpoint (no JSON model list at /models)"
    if model not in ids:
        return f"does not serve a model named {model!r} (it lists {', '.join(map(str, ids[:5])) or 'none'})"
    try:
        token_stream.completion(token_stream.client(url, key_env, timeout_s), model, "One, two, three,", 8, None)
    except token_stream.StreamError as e:
        return str(e).replace(url, "").strip() or "does not stream"
    return None


def onnx_problem(spec: CustomModel) -> str | None:
    """None when the ONNX file loads and every dynamic dimension but the batch has a size; otherwise why not."""
    from edgecloud.models.onnx_inputs import resolved_shapes

    try:
        resolved_shapes(spec.onnx_path, spec.input_shape, spec.input_dtype)
    except ValueError as e:
        return str(e)
    return None


def factory_problem(factory: str) -> str | None:
    """None when the factory imports and returns (module, example tensor) without raising; otherwise why not."""
    module_name, _, func = factory.partition(":")
    try:
        built = getattr(importlib.import_module(module_name), func)()
    except (ImportError, AttributeError) as e:
        return f"cannot be imported: {e}"
    except Exception as e:  # the user's code: any failure is reported, never a traceback
        return f"raised {type(e).__name__}: {e}"
    if not (isinstance(built, tuple) and len(built) == 2):
        return "must return (torch module, example input tensor)"
    return None


def gguf_problem(gguf_path: str) -> str | None:
    """None when transformers reads the GGUF file's config (what its tokenizer, the fp32 baseline and ONNX Runtime
    GenAI's builder need; llama.cpp reads more formats); otherwise why not."""
    from transformers import AutoConfig

    file = Path(gguf_path)
    try:
        AutoConfig.from_pretrained(file.parent, gguf_file=file.name)
    except Exception as e:  # a user's file: any failure is reported, never a traceback
        return f"cannot be read as a language model: {str(e).splitlines()[0].replace(str(file), 'it')}"
    return None


def hf_problem(hf_path: str) -> str | None:
    """None when transformers reads the folder's config and tokenizer (what every runtime and the prompts need; its
    conversion to GGUF for llama.cpp runs when notebook 05 first needs it); otherwise why not."""
    from transformers import AutoConfig, AutoTokenizer

    for part, load in (("config", AutoConfig), ("tokenizer", AutoTokenizer)):
        try:
            load.from_pretrained(hf_path)
        except Exception as e:  # a user's folder: any failure is reported, never a traceback
            said = " ".join(str(e).replace(hf_path, "it").split())
            return f"cannot be read as a language model: its {part}: {said[:200]}"
    return None


def custom_model_problems(params: Params, path: Path | str) -> list[str]:
    """One line per custom model whose file or factory cannot be used."""
    out = []
    for i, spec in enumerate(params.shared.custom_models):
        if spec.gguf_path:
            key, value, problem = "gguf_path", spec.gguf_path, gguf_problem(spec.gguf_path)
        elif spec.hf_path:
            key, value, problem = "hf_path", spec.hf_path, hf_problem(spec.hf_path)
        elif spec.onnx_path:
            key, value, problem = "onnx_path", spec.onnx_path, onnx_problem(spec)
        else:
            key, value, problem = "torch_factory", spec.torch_factory, factory_problem(spec.torch_factory)
        if problem:
            out.append(f"{path}: shared.custom_models[{i}].{key}: {value!r} is not allowed: {problem}")
    return out


def problems(params: Params, path: Path | str, timeout_s: float = 5.0) -> list[str]:
    """One line per problem, naming the file and the key, like a validation error."""
    found = custom_model_problems(params, path)
    m, g = params.measurements, params.generative
    if m.remote_url:
        problem = endpoint_problem(m.remote_url, m.remote_model, timeout_s)
        found += [f"{path}: measurements.remote_url: {m.remote_url!r} {problem}"] if problem else []
    if g.llm_url:
        problem = llm_endpoint_problem(g.llm_url, g.llm_model, g.llm_key_env, timeout_s)
        found += [f"{path}: generative.llm_url: {g.llm_url!r} {problem}"] if problem else []
    return found

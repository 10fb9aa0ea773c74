"""ONNX Runtime GenAI, int4: the model builder's int4 model of the same weights (built once and cached), decoded by
its Generator."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecloud import cache
from edgecloud.models.llm import LanguageModel


def _build(model: LanguageModel, tmp: Path) -> None:
    """Run ONNX Runtime GenAI's model builder (int4, CPU) on the fp32 folder; its log goes beside the model."""
    log = tmp.with_suffix(".log")
    tmp.mkdir(parents=True)
    command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(model.hf_folder())]
    command += ["-o", str(tmp), "-p", "int4", "-e", "cpu", "-c", str(tmp / "builder-cache")]
    with log.open("w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        raise RuntimeError(f"the ONNX Runtime GenAI model builder failed (exit {done.returncode}); see {log}")
    for leftover in (tmp / "builder-cache").glob("*"):
        leftover.unlink()


def int4_folder(model: LanguageModel) -> Path:
    """The model's int4 ONNX folder (genai_config.json, model.onnx and its weights), cached."""
    from importlib.metadata import version

    parts = {**model.key("ort-genai-int4"), "builder": version("onnxruntime-genai")}
    return cache.cached(parts, "", lambda tmp: _build(model, tmp))


@dataclass
class OrtGenaiDecoder:
    """An onnxruntime_genai Model; every request gets a new Generator, so a new KV cache."""

    model: object
    folder: Path

    def _generator(self, length: int):
        import onnxruntime_genai as og

        params = og.GeneratorParams(self.model)
        # min_length = max_length: the end-of-sequence token cannot stop a run of fixed length
        params.set_search_options(max_length=length, min_length=length, do_sample=False, top_k=1)
        return og.Generator(self.model, params)

    def stream(self, prompt: list[int], n_out: int) -> Iterator[int]:
        generator = self._generator(len(prompt) + n_out)
        generator.append_tokens(prompt)
        for _ in range(n_out):
            generator.generate_next_token()
            yield int(generator.get_next_tokens()[0])

    def log_likelihoods(self, ids: list[int]) -> list[float]:
        generator = self._generator(len(ids) + 1)
        generator.append_tokens(ids[:1])
        out = []
        for token in ids[1:]:
            logits = np.asarray(generator.get_logits(), dtype=np.float64).reshape(-1)
            out.append(float(logits[token] - logits.max() - np.log(np.exp(logits - logits.max()).sum())))
            generator.append_tokens([token])
        return out

    def weight_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.folder.glob("model.onnx*"))


class OrtGenai:
    """ONNX Runtime GenAI on the CPU execution provider, int4 weights (MatMulNBits, block 32)."""

    name = "ort-genai"
    requires = ("onnxruntime_genai", "transformers", "torch")

    def precision(self, model: LanguageModel) -> str:
        return "int4"

    def load(self, model: LanguageModel, threads: int, context: int) -> OrtGenaiDecoder:
        import onnxruntime_genai as og

        folder = int4_folder(model)
        config = og.Config(str(folder))
        config.clear_providers()
        options = {"intra_op_num_threads": threads, "inter_op_num_threads": 1}
        config.overlay(json.dumps({"model": {"decoder": {"session_options": options}}}))
        return OrtGenaiDecoder(og.Model(config), folder)


GENERATOR = OrtGenai()

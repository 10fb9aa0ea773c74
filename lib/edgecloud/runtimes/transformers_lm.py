"""A language model in transformers, eager fp32: the baseline, decoded step by step with its own KV cache."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from edgecloud.models.llm import LanguageModel


@dataclass
class TransformersDecoder:
    """The fp32 model and its thread count (PyTorch's is process-wide: set once on load)."""

    model: object

    def stream(self, prompt: list[int], n_out: int) -> Iterator[int]:
        import torch

        with torch.inference_mode():
            # a new cache for every request; logits of the last position only, as a serving engine computes them
            out = self.model(input_ids=torch.tensor([prompt]), use_cache=True, logits_to_keep=1)
            for i in range(n_out):
                token = int(out.logits[0, -1].argmax())
                yield token
                if i + 1 < n_out:
                    out = self.model(input_ids=torch.tensor([[token]]), cache=out.cache, use_cache=True)

    def log_likelihoods(self, ids: list[int]) -> list[float]:
        import torch

        with torch.inference_mode():
            logits = self.model(input_ids=torch.tensor([ids])).logits[0, :-1]
            logp = torch.log_softmax(logits.float(), dim=-1)
            return logp.gather(1, torch.tensor(ids[1:])[:, None])[:, 0].tolist()

    def weight_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.model.parameters())


class Transformers:
    """transformers eager mode, fp32 weights dequantized from the model's GGUF file."""

    name = "transformers"
    requires = ("transformers", "torch", "gguf")

    def precision(self, model: LanguageModel) -> str:
        return "fp32"

    def load(self, model: LanguageModel, threads: int, context: int) -> TransformersDecoder:
        import torch
        from transformers import AutoModelForCausalLM
        from transformers.utils import logging

        logging.disable_progress_bar()
        torch.set_num_threads(threads)
        loaded = AutoModelForCausalLM.from_pretrained(model.hf_folder(), dtype=torch.float32).eval()
        return TransformersDecoder(loaded)


GENERATOR = Transformers()

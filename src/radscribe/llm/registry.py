"""Backend name -> factory. A backend is chosen by configuration (``LLMConfig.backend``), never by code.

Factories import their heavy modules (torch, transformers) only when called, so resolving a config or
talking to a remote server stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from radscribe.llm.base import ChatModel
from radscribe.llm.config import LLMConfig, check_config
from radscribe.llm.errors import LLMError

EMBEDDED_MODEL_NAME = "smollm2-135m-instruct"


def _embedded(config: LLMConfig) -> ChatModel:
    from radscribe.llm.torch_backend import TorchChatModel, load_hf_folder
    from radscribe.llm.weights import converted_dir, embedded_gguf

    model, tokenizer = load_hf_folder(converted_dir(embedded_gguf()), config.threads, own_cache=True)
    name = _with_adapter(model, config, EMBEDDED_MODEL_NAME)
    return TorchChatModel(_quantized(model, config), tokenizer, name=name, backend="embedded")


def _with_adapter(model, config: LLMConfig, name: str) -> str:
    """Merge ``config.adapter`` (a LoRA folder) into the model; the served name then says so."""
    if not config.adapter:
        return name
    from radscribe.llm.lora import load_adapter

    path = Path(config.adapter).expanduser()
    shipped = Path(__file__).resolve().parents[1] / "checkpoints" / config.adapter
    if not path.exists() and shipped.is_dir():  # a shipped adapter by name, e.g. adapter = "llm-lora"
        path = shipped
    load_adapter(model, path)
    return f"{name}+{path.name}"


def native_bf16_cpu() -> bool:
    """Does this CPU multiply bfloat16 in hardware (AVX512-BF16 or AMX)? Elsewhere bf16 is emulated and slow."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: stay with float32
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def _quantized(model, config: LLMConfig):
    """Apply ``config.quantize`` to a float32 model: "auto", "none", "bf16" or "int8" (CPU only).

    Decoding reads every weight once per token, so fewer bytes per weight decode faster
    (benchmarks/llm_speed.py, docs/llm.md section 6):

    * ``bf16`` halves the bytes; on a CPU with native bf16 it scored captions as well as float32
      (docs/llm.md section 5). ``auto`` chooses it on such CPUs and float32 elsewhere.
    * ``int8``: int8 weights, one scale per output channel, activations quantized on the fly. SmolLM2 has
      a few "massive activations" (inputs of ~3000 against a median of 0.5 in some MLP projections), and
      one int8 scale per token cannot hold both: its zero-shot scoring collapses (docs/llm.md section 5).
    """
    choice = config.quantize
    if choice == "auto":
        choice = "bf16" if native_bf16_cpu() else "none"
    if choice == "none":
        return model
    import torch

    if choice == "bf16":
        return model.to(torch.bfloat16)
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch.ao says "migrate to torchao"; the API still works in torch 2.x
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=True)


def _local(config: LLMConfig) -> ChatModel:
    from radscribe.llm.torch_backend import TorchChatModel, load_hf_folder
    from radscribe.llm.weights import converted_dir, gguf_from_path

    path = Path(config.model).expanduser()
    if path.suffix.lower() == ".gguf":
        model, tokenizer = load_hf_folder(converted_dir(gguf_from_path(path)), config.threads, own_cache=True)
    elif path.is_dir():
        model, tokenizer = load_hf_folder(path, config.threads)
    else:
        raise LLMError(f"{path}: not found; the local backend needs a Hugging Face folder or a .gguf file")
    name = _with_adapter(model, config, path.stem if path.is_file() else path.name)
    return TorchChatModel(_quantized(model, config), tokenizer, name=name, backend="local")


def _openai(config: LLMConfig) -> ChatModel:
    from radscribe.llm.openai_backend import OpenAIChatModel

    return OpenAIChatModel(config.base_url, config.model or None, api_key_env=config.api_key_env, timeout_s=config.timeout_s)


BACKENDS: dict[str, Callable[[LLMConfig], ChatModel]] = {
    "embedded": _embedded,
    "openai": _openai,
    "local": _local,
}


def load_chat_model(config: LLMConfig | None = None) -> ChatModel:
    """The ChatModel that ``config`` describes (default: the embedded SmolLM2 on 2 threads)."""
    config = config or LLMConfig()
    check_config(config)
    return BACKENDS[config.backend](config)

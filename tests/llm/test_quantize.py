"""`quantize = "int8"`: the embedded model with int8 Linear weights still answers, and bad values are refused."""

from __future__ import annotations

import pytest
import torch

from radscribe.errors import ConfigError
from radscribe.llm import LLMConfig, load_chat_model, resolve_llm_config


def test_int8_model_answers_like_float32(embedded_model):
    quantized = load_chat_model(LLMConfig(backend="embedded", threads=1, quantize="int8"))
    assert not any(isinstance(m, torch.nn.Linear) for m in quantized.model.model.layers.modules())
    question = [{"role": "user", "content": "What is the capital of France?"}]
    assert quantized.generate(question, max_new_tokens=12).text == embedded_model.generate(question, max_new_tokens=12).text


def test_quantize_value_is_checked():
    assert resolve_llm_config(env={"RADSCRIBE_LLM_QUANTIZE": "int8"}).config.quantize == "int8"
    with pytest.raises(ConfigError, match="quantize must be one of none, int8"):
        resolve_llm_config({"quantize": "int4"}, env={})

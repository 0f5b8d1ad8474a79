"""`quantize`: bf16 and int8 embedded models still answer like float32; "auto" follows the CPU; bad values refused."""

from __future__ import annotations

import pytest
import torch

from radscribe.errors import ConfigError
from radscribe.llm import LLMConfig, load_chat_model, resolve_llm_config
from radscribe.llm.registry import native_bf16_cpu

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def float32_model():
    return load_chat_model(LLMConfig(backend="embedded", threads=1, quantize="none"))


def test_float32_is_float32(float32_model):
    assert {p.dtype for p in float32_model.model.parameters()} == {torch.float32}


def test_int8_model_answers_like_float32(float32_model):
    quantized = load_chat_model(LLMConfig(backend="embedded", threads=1, quantize="int8"))
    assert quantized.decoder is not None  # prompt in float, new tokens in int8 (radscribe.llm.int8_decode)
    assert not any(isinstance(m, torch.nn.Module) for m in quantized.decoder.projections.values())  # packed int8
    assert "Paris" in quantized.generate(QUESTION, max_new_tokens=12).text
    assert "Paris" in float32_model.generate(QUESTION, max_new_tokens=12).text


def test_bf16_model_answers_like_float32(float32_model):
    half = load_chat_model(LLMConfig(backend="embedded", threads=1, quantize="bf16"))
    assert {p.dtype for p in half.model.parameters()} == {torch.bfloat16}
    assert "Paris" in half.generate(QUESTION, max_new_tokens=12).text
    assert "Paris" in float32_model.generate(QUESTION, max_new_tokens=12).text


def test_auto_follows_the_cpu(embedded_model):
    from radscribe.llm.cpu import int8_dot_products

    expected = torch.bfloat16 if native_bf16_cpu() else torch.float32
    assert next(embedded_model.model.parameters()).dtype == expected  # the default config is "auto"
    assert (embedded_model.decoder is not None) == int8_dot_products()  # int8 steps where VNNI is measured


def test_quantize_value_is_checked():
    assert LLMConfig().quantize == "auto"
    assert resolve_llm_config(env={"RADSCRIBE_LLM_QUANTIZE": "int8"}).config.quantize == "int8"
    with pytest.raises(ConfigError, match="quantize must be one of auto, none, bf16, int8"):
        resolve_llm_config({"quantize": "int4"}, env={})

"""The int8 decode engine: its arithmetic equals transformers' Llama (float, with and without smoothing),
its int8 steps stay close, it reads scores with the shipped LoRA, and non-Llama models fall back to float."""

from __future__ import annotations

import pytest
import torch

from radscribe.llm import LLMConfig, load_chat_model
from radscribe.llm.int8_decode import Int8Decoder, calibration_prompts, channel_ranges, supports
from radscribe.llm.prompts import parse_score, render

CAPTION = ("Mild noise in the liver; no streaks, metal artefact, motion, rings or blurring. "
           "Overall quality: good (score 2.9 of 4).")


@pytest.fixture(scope="module")
def float32_model():
    return load_chat_model(LLMConfig(backend="embedded", threads=1, quantize="none"))


def _steps(chat, decoder, n: int = 6):
    """(transformers' logits, decoder's logits) for n greedy steps after a float prefill of one prompt."""
    ids = chat.encode_chat(render("caption_to_score", caption=CAPTION))
    pairs = []
    with torch.inference_mode():
        out = chat.model(input_ids=torch.tensor([ids]), use_cache=True, logits_to_keep=1)
        state = decoder.start(out.cache, len(ids), n + 1)
        cache, token = out.cache, int(out.logits[0, -1].argmax())
        for _ in range(n):
            ref = chat.model(input_ids=torch.tensor([[token]]), cache=cache, use_cache=True, logits_to_keep=1)
            cache = ref.cache
            pairs.append((ref.logits[0, -1], decoder.step(token, state)))
            token = int(ref.logits[0, -1].argmax())
    return pairs


@pytest.fixture(scope="module")
def ranges(float32_model):
    return channel_ranges(float32_model.model, [float32_model.encode_chat(p) for p in calibration_prompts()])


def test_float_arithmetic_matches_transformers(float32_model):
    for ref, mine in _steps(float32_model, Int8Decoder(float32_model.model, int8=False)):
        assert torch.allclose(ref, mine, atol=2e-3), float((ref - mine).abs().max())


def test_smoothing_folds_exactly(float32_model, ranges):
    assert set(ranges) == {"head"} | {f"{k}{i}" for k in ("qkv", "gate_up", "down") for i in range(30)}
    assert float(ranges["down11"].max()) < 1000  # the first token's massive activation is left out
    for ref, mine in _steps(float32_model, Int8Decoder(float32_model.model, int8=False, ranges=ranges)):
        assert torch.allclose(ref, mine, atol=2e-3), float((ref - mine).abs().max())


def test_int8_steps_stay_close(float32_model, ranges):
    pairs = _steps(float32_model, Int8Decoder(float32_model.model, ranges=ranges))
    agree = sum(int(ref.argmax()) == int(mine.argmax()) for ref, mine in pairs)
    kl = [torch.nn.functional.kl_div(m.log_softmax(-1), r.log_softmax(-1), log_target=True, reduction="sum") for r, m in pairs]
    assert agree >= len(pairs) - 1 and max(kl) < 0.1, (agree, kl)


def test_int8_with_lora_reads_the_score():
    chat = load_chat_model(LLMConfig(backend="embedded", threads=1, quantize="int8", adapter="llm-lora"))
    answer = chat.generate(render("caption_to_score", caption=CAPTION), max_new_tokens=16).text
    assert parse_score(answer) == pytest.approx(2.9), answer


def test_sampling_and_single_token(float32_model):
    chat = load_chat_model(LLMConfig(backend="embedded", threads=1, quantize="int8"))
    question = [{"role": "user", "content": "Name a colour."}]
    first = chat.generate(question, max_new_tokens=8, temperature=0.8, seed=3).text
    assert first == chat.generate(question, max_new_tokens=8, temperature=0.8, seed=3).text
    assert chat.generate(question, max_new_tokens=1).completion_tokens <= 1


def test_other_architectures_fall_back_to_float(float32_model):
    from transformers import LlamaConfig, LlamaForCausalLM

    tiny = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                       num_attention_heads=2, num_key_value_heads=1)
    assert supports(LlamaForCausalLM(tiny))
    assert not supports(LlamaForCausalLM(LlamaConfig(**(tiny.to_dict() | {"mlp_bias": True}))))
    with pytest.raises(ValueError, match="plain Llama"):
        Int8Decoder(LlamaForCausalLM(LlamaConfig(**(tiny.to_dict() | {"attention_bias": True}))))


def test_cache_round_trip_is_exact(float32_model, tmp_path, caplog):
    from radscribe.llm.int8_decode import cached_decoder

    ids = [float32_model.encode_chat(p) for p in calibration_prompts()]
    built = cached_decoder(float32_model.model, ids, tmp_path)
    (saved,) = tmp_path.glob("*.safetensors")
    loaded = cached_decoder(float32_model.model, ids, tmp_path)
    for (_, a), (_, b) in zip(_steps(float32_model, built, 3), _steps(float32_model, loaded, 3)):
        assert torch.equal(a, b)
    saved.write_bytes(b"not a safetensors file")
    assert cached_decoder(float32_model.model, ids, tmp_path) is not None
    assert "building it again" in caplog.text
    assert saved.stat().st_size > 1000  # rebuilt and saved again


def test_unwritable_cache_still_decodes(float32_model, tmp_path, caplog):
    from radscribe.llm.int8_decode import cached_decoder

    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    ids = [float32_model.encode_chat(p) for p in calibration_prompts()]
    decoder = cached_decoder(float32_model.model, ids, blocked / "int8")
    assert "cannot save the int8 engine" in caplog.text
    assert decoder.step(1, decoder.start(float32_model.model(input_ids=torch.tensor([ids[0]]), use_cache=True).cache,
                                         len(ids[0]), 2)).shape == (float32_model.model.config.vocab_size,)

"""The embedded SmolLM2 backend: cached load, deterministic greedy text, streaming, sampling, limits."""

from __future__ import annotations

import pytest

from radscribe.llm import BACKENDS, LLMConfig, LLMRequestError, load_chat_model
from radscribe.llm.weights import cache_root, embedded_gguf, read_manifest

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
GOLDEN_ANSWER = "The capital of France is Paris."  # greedy SmolLM2-135M-Instruct (Q4_1 dequantised), exact
COLOURS = [{"role": "user", "content": "Name three colours and say one thing about each."}]


def test_cache_holds_a_self_describing_copy(embedded_model):
    source = embedded_gguf()
    folder = cache_root() / source.sha256[:16]
    manifest = read_manifest(folder)
    assert manifest["source_sha256"] == source.sha256 and manifest["dequantized_dtype"] == "float32"
    assert 134_000_000 < manifest["parameters"] < 136_000_000
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()


def test_second_load_comes_from_the_cache_not_a_new_conversion(embedded_model):
    # Load speed is shown by benchmarks/llm_speed.py; here: the cached copy is reused, not rewritten.
    folder = cache_root() / embedded_gguf().sha256[:16]
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = load_chat_model(LLMConfig(threads=1))
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert again.generate(QUESTION, max_new_tokens=16).text == GOLDEN_ANSWER


def test_greedy_is_deterministic_and_matches_golden(embedded_model):
    first = embedded_model.generate(QUESTION, max_new_tokens=16)
    second = embedded_model.generate(QUESTION, max_new_tokens=16)
    assert first.text == second.text == GOLDEN_ANSWER
    assert first.finish_reason == "stop" and first.completion_tokens == 7 and first.prompt_tokens == 37


def test_stream_yields_the_same_text_as_generate(embedded_model):
    whole = embedded_model.generate(COLOURS, max_new_tokens=16)
    stream = embedded_model.stream(COLOURS, max_new_tokens=16)
    pieces = list(stream)
    assert len(pieces) > 5 and "".join(pieces) == whole.text
    assert stream.completion.finish_reason == whole.finish_reason == "length"
    assert stream.completion.completion_tokens == 16 and stream.completion.ttft_s > 0


def test_sampling_is_reproducible_for_a_seed(embedded_model):
    sample = lambda seed: embedded_model.generate(COLOURS, max_new_tokens=8, temperature=1.0, top_p=0.95, seed=seed).text
    assert sample(7) == sample(7)
    assert len({sample(7), sample(8)}) == 2


def test_stop_string_cuts_the_answer(embedded_model):
    completion = embedded_model.generate(QUESTION, max_new_tokens=16, stop=["Paris"])
    assert completion.text == "The capital of France is " and completion.finish_reason == "stop"


def test_limits_and_images_are_refused_before_generating(embedded_model):
    with pytest.raises(LLMRequestError, match="context"):
        embedded_model.generate(QUESTION, max_new_tokens=9000)
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    with pytest.raises(LLMRequestError, match="vision model"):
        embedded_model.stream([{"role": "user", "content": [image]}])


def test_local_backend_loads_a_hugging_face_folder(embedded_model):
    folder = cache_root() / embedded_gguf().sha256[:16]
    local = load_chat_model(LLMConfig(backend="local", model=str(folder), threads=1))
    assert local.backend == "local" and "local" in BACKENDS
    assert local.generate(QUESTION, max_new_tokens=16).text == GOLDEN_ANSWER

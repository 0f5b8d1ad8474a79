"""Message validation, image parts, token choice and incremental text: the parts that need no model."""

from __future__ import annotations

import base64

import pytest
import torch

from radscribe.llm import GenerationParams, LLMRequestError
from radscribe.llm.messages import collect_images, decode_data_url, text_only, validate_messages
from radscribe.llm.sampling import IncrementalText, pick_next_token

PNG_HEADER = b"\x89PNG\r\n\x1a\n"
IMAGE_PART = {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG_HEADER).decode()}}


def test_parts_are_flattened_and_images_collected():
    messages = validate_messages([{"role": "user", "content": [{"type": "text", "text": "a"}, IMAGE_PART,
                                                               {"type": "text", "text": "b"}]}])
    images = collect_images(messages)
    assert len(images) == 1 and images[0].data == PNG_HEADER and images[0].mime == "image/png"
    with pytest.raises(LLMRequestError, match="images need a vision model"):
        text_only(messages, "tiny")
    assert text_only([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}], "m") == [
        {"role": "user", "content": "a\nb"}]


@pytest.mark.parametrize("messages, message", [
    ([], "non-empty list"),
    ([{"role": "robot", "content": "hi"}], "role must be one of"),
    ([{"role": "user", "content": 3}], "content must be a string"),
    ([{"role": "user", "content": [{"type": "audio"}]}], "content part"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}], "downloads nothing"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}]}], "not valid base64"),
])
def test_bad_messages_are_refused(messages, message):
    with pytest.raises(LLMRequestError, match=message):
        validate_messages(messages)


def test_data_url_without_base64_is_refused():
    with pytest.raises(LLMRequestError):
        decode_data_url("data:image/png,rawbytes")


@pytest.mark.parametrize("kwargs", [dict(max_new_tokens=0), dict(temperature=3.0), dict(top_p=0.0), dict(stop=[""])])
def test_generation_params_are_checked(kwargs):
    with pytest.raises(LLMRequestError):
        GenerationParams.build(**kwargs)


def test_greedy_and_seeded_sampling():
    logits = torch.tensor([0.1, 2.0, 1.9, -1.0])
    assert pick_next_token(logits, 0.0, 1.0, None) == 1
    draws = lambda seed: [pick_next_token(logits, 1.0, 1.0, g) for g in [torch.Generator().manual_seed(seed)] for _ in range(20)]
    assert draws(3) == draws(3)
    assert set(draws(3)) > {1}  # sampling really samples
    # top_p small enough keeps only the most likely token
    assert {pick_next_token(logits, 1.0, 0.3, torch.Generator().manual_seed(s)) for s in range(10)} == {1}


def _chars(ids):
    """A real (tiny) decoder: token id = Unicode code point; 0xFFFD stands for a partial character."""
    return "".join(chr(i) for i in ids)


def test_incremental_text_holds_back_stop_prefixes_and_cuts_at_stop():
    text = IncrementalText(_chars, stop=["END"])
    pieces = [text.push(ord(c)) for c in "abcEN"]
    assert "".join(pieces) == "abc"  # "EN" could be the start of "END": held back
    assert text.push(ord("X")) == "ENX" and not text.stopped
    assert text.push(ord("E")) + text.push(ord("N")) + text.push(ord("D")) == "" and text.stopped
    assert text.text == "abcENX" and text.flush() == ""


def test_incremental_text_waits_for_whole_characters():
    text = IncrementalText(_chars)
    assert text.push(ord("a")) == "a"
    assert text.push(0xFFFD) == ""
    assert text.flush() == "\ufffd"

"""`radscribe serve` in a real subprocess, and the openai backend talking to it over loopback HTTP.

The served checks share one test on purpose: pytest-xdist would otherwise start a server (and load a
model) in each worker.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from radscribe.llm import LLMConfig, LLMError, LLMRequestError, load_chat_model

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
LIST = [{"role": "user", "content": "List four fruits."}]
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _check_openai_backend_matches_embedded(remote, embedded_model) -> None:
    local = embedded_model.generate(LIST, max_new_tokens=20)
    answer = remote.generate(LIST, max_new_tokens=20, temperature=0.0)
    assert answer.text == local.text and answer.backend == "openai"
    assert (answer.finish_reason, answer.completion_tokens, answer.prompt_tokens) == (
        local.finish_reason, local.completion_tokens, local.prompt_tokens)
    stream = remote.stream(LIST, max_new_tokens=20, temperature=0.0)
    pieces = list(stream)
    assert len(pieces) > 3 and "".join(pieces) == local.text
    assert stream.completion.finish_reason == local.finish_reason and stream.completion.ttft_s is not None


def _check_errors(url: str, remote) -> None:
    with pytest.raises(LLMRequestError, match="HTTP 400: .*images need a vision model"):
        remote.generate([{"role": "user", "content": [{"type": "text", "text": "What is this?"}, IMAGE]}])
    for body, message in [
        ({"messages": QUESTION, "n": 2}, "only n=1"),
        ({"messages": "hi"}, "messages must be a non-empty list"),
        ({"messages": QUESTION, "max_tokens": 9000}, "context"),
    ]:
        status, answer = _post(url, body)
        assert status == 400 and message in answer["error"]["message"], answer
        assert answer["error"]["type"] == "invalid_request_error"


def test_openai_backend_through_radscribe_serve(llm_server, embedded_model):
    remote = load_chat_model(LLMConfig(backend="openai", base_url=llm_server, timeout_s=120))
    assert remote.list_models() == ["smollm2-135m-instruct"]
    assert remote.name == "smollm2-135m-instruct"  # discovered from /v1/models, since none was configured
    _check_openai_backend_matches_embedded(remote, embedded_model)
    _check_errors(llm_server, remote)
    # A raw client with OpenAI defaults (temperature 1 unless given) and any model name.
    status, answer = _post(llm_server, {"model": "anything", "messages": QUESTION, "temperature": 0, "max_tokens": 16})
    assert status == 200 and answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "The capital of France is Paris."}
    assert answer["usage"]["total_tokens"] == answer["usage"]["prompt_tokens"] + answer["usage"]["completion_tokens"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_is_one_clear_line():
    dead = load_chat_model(LLMConfig(backend="openai", base_url=f"http://127.0.0.1:{_free_port()}/v1", model="m", timeout_s=5))
    for call in (lambda: dead.generate(QUESTION), lambda: dead.stream(QUESTION)):
        with pytest.raises(LLMError) as caught:
            call()
        message = str(caught.value)
        assert "cannot reach LLM server" in message and "\n" not in message

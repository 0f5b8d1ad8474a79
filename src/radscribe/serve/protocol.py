"""The OpenAI chat-completions wire format: parse a request, build answers, chunks and errors.

Kept free of HTTP so the mapping is easy to read and test. Reference: the OpenAI chat completions API
(``/v1/chat/completions``) as served by vLLM and llama.cpp.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

from radscribe.llm.base import Completion, GenerationParams
from radscribe.llm.errors import LLMRequestError
from radscribe.llm.messages import validate_messages

# OpenAI's defaults, so clients that send nothing get what they expect from any compatible server.
DEFAULT_TEMPERATURE = 1.0
DEFAULT_MAX_TOKENS = 512


@dataclass(frozen=True)
class ChatRequest:
    messages: list[dict]
    params: GenerationParams
    stream: bool
    model: str | None


def _number(body: Mapping, key: str, default: Any, kind: type) -> Any:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not float(value).is_integer()):
        raise LLMRequestError(f"{key} must be a {'whole ' if kind is int else ''}number, got {value!r}")
    return kind(value)


def parse_chat_request(body: Any) -> ChatRequest:
    """Validate a decoded JSON body; raises LLMRequestError (HTTP 400) with the offending field."""
    if not isinstance(body, Mapping):
        raise LLMRequestError("the request body must be a JSON object")
    if _number(body, "n", 1, int) != 1:
        raise LLMRequestError("only n=1 is supported")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, (str, list)):
        raise LLMRequestError("stop must be a string or a list of strings")
    params = GenerationParams.build(
        max_new_tokens=_number({"max_tokens": max_tokens}, "max_tokens", DEFAULT_MAX_TOKENS, int),
        temperature=_number(body, "temperature", DEFAULT_TEMPERATURE, float),
        top_p=_number(body, "top_p", 1.0, float),
        seed=_number(body, "seed", None, int),
        stop=stop,
    )
    return ChatRequest(validate_messages(body.get("messages")), params, bool(body.get("stream", False)), body.get("model"))


def new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def completion_body(completion: Completion, request_id: str, model: str) -> dict[str, Any]:
    usage = None
    if completion.prompt_tokens is not None and completion.completion_tokens is not None:
        usage = {"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens,
                 "total_tokens": completion.prompt_tokens + completion.completion_tokens}
    return {
        "id": request_id, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": completion.text},
                     "finish_reason": completion.finish_reason}],
        "usage": usage,
    }


def chunk_body(request_id: str, model: str, delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
    """One ``chat.completion.chunk``: the first carries the role, the last the finish reason and an empty delta."""
    return {
        "id": request_id, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def error_body(message: str, status: int) -> dict[str, Any]:
    kind = "invalid_request_error" if 400 <= status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def models_body(model: str) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": model, "object": "model", "created": 0, "owned_by": "radscribe"}]}

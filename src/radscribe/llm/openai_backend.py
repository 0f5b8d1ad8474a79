"""The ``openai`` backend: any OpenAI-compatible ``/v1/chat/completions`` endpoint.

vLLM, llama.cpp's server, Ollama (``/v1``), hosted APIs and ``radscribe serve`` all speak it. Standard
library HTTP only (urllib), so this backend adds no dependency. Streaming reads server-sent events.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request
from typing import Any, Generator, Iterator, Mapping, Sequence

from radscribe.llm.base import ChatModel, Completion, GenerationParams, TextStream
from radscribe.llm.errors import LLMError, LLMRequestError
from radscribe.llm.messages import validate_messages


class OpenAIChatModel(ChatModel):
    """Chat with a remote model. The API key is read from the environment variable named ``api_key_env``."""

    backend = "openai"
    supports_images = True  # passed through; whether the remote model understands them is its business

    def __init__(self, base_url: str, model: str | None = None, *, api_key_env: str = "OPENAI_API_KEY",
                 timeout_s: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self._model = model
        self.api_key_env = api_key_env
        self.timeout_s = timeout_s

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    @property
    def name(self) -> str:
        """The configured model, else the first one the server lists at ``/models`` (asked once)."""
        if not self._model:
            models = self.list_models()
            self._model = models[0] if models else "default"
        return self._model

    def list_models(self) -> list[str]:
        """Model ids from ``GET {base_url}/models``."""
        url = f"{self.base_url}/models"
        with self._open(url) as response:
            answer = _read_json(response, url, self.timeout_s)
        return [entry["id"] for entry in answer.get("data", []) if isinstance(entry, dict) and "id" in entry]

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _body(self, messages: Sequence[Mapping], params: GenerationParams, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.name, "messages": validate_messages(messages), "stream": stream,
            "max_tokens": params.max_new_tokens, "temperature": params.temperature, "top_p": params.top_p,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = list(params.stop)
        return body

    def _open(self, url: str, body: dict[str, Any] | None = None):
        """GET (no body) or POST JSON; HTTP and connection failures become one-line LLMErrors."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, headers=self._headers(), method="POST" if data else "GET")
        try:
            return urllib.request.urlopen(request, timeout=self.timeout_s)
        except urllib.error.HTTPError as error:
            raise _http_error(url, error) from None
        except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError) as error:
            raise LLMError(_unreachable(url, error, self.timeout_s)) from None

    def generate(self, messages: Sequence[Mapping], *, max_new_tokens: int = 256, temperature: float = 0.0,
                 top_p: float = 1.0, seed: int | None = None, stop: str | Sequence[str] | None = None) -> Completion:
        params = GenerationParams.build(max_new_tokens=max_new_tokens, temperature=temperature,
                                        top_p=top_p, seed=seed, stop=stop)
        started = time.perf_counter()
        with self._open(self.url, self._body(messages, params, stream=False)) as response:
            answer = _read_json(response, self.url, self.timeout_s)
        try:
            choice = answer["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise LLMError(f"{self.url} answered without choices[0].message.content; is it an OpenAI-compatible endpoint?") from None
        usage = answer.get("usage") or {}
        elapsed = time.perf_counter() - started
        return Completion(text=text, finish_reason=choice.get("finish_reason") or "stop", model=answer.get("model", self.name),
                          backend=self.backend, prompt_tokens=usage.get("prompt_tokens"),
                          completion_tokens=usage.get("completion_tokens"), ttft_s=None, total_s=elapsed)

    def stream(self, messages: Sequence[Mapping], *, max_new_tokens: int = 256, temperature: float = 0.0,
               top_p: float = 1.0, seed: int | None = None, stop: str | Sequence[str] | None = None) -> TextStream:
        params = GenerationParams.build(max_new_tokens=max_new_tokens, temperature=temperature,
                                        top_p=top_p, seed=seed, stop=stop)
        started = time.perf_counter()
        response = self._open(self.url, self._body(messages, params, stream=True))  # connection errors raise here
        return TextStream(self._pieces(response, started))

    def _pieces(self, response, started: float) -> Generator[str, None, Completion]:
        texts, finish, model, ttft = [], "stop", self.name, None
        with response:
            for event in _sse_events(response, self.url, self.timeout_s):
                model = event.get("model", model)
                for choice in event.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content") or ""
                    finish = choice.get("finish_reason") or finish
                    if piece:
                        ttft = ttft if ttft is not None else time.perf_counter() - started
                        texts.append(piece)
                        yield piece
        return Completion(text="".join(texts), finish_reason=finish, model=model, backend=self.backend,
                          ttft_s=ttft, total_s=time.perf_counter() - started)


def _unreachable(url: str, error: Exception, timeout_s: float) -> str:
    reason = getattr(error, "reason", error)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return f"LLM server {url} did not answer within {timeout_s:g} s (raise timeout_s, or check the server)"
    return f"cannot reach LLM server {url}: {reason}; is it running? (set RADSCRIBE_LLM_BASE_URL or base_url)"


def _http_error(url: str, error: urllib.error.HTTPError) -> LLMError:
    """One line: status and the server's own message (OpenAI puts it in error.message)."""
    try:
        detail = json.loads(error.read().decode("utf-8", "replace"))
        message = detail.get("error", {}).get("message") if isinstance(detail.get("error"), dict) else detail.get("error")
        message = message or detail.get("detail") or json.dumps(detail)[:200]
    except (ValueError, AttributeError, OSError):
        message = error.reason
    hint = " (check the API key variable)" if error.code in (401, 403) else ""
    kind = LLMRequestError if error.code in (400, 404, 422) else LLMError
    return kind(f"LLM server {url} answered HTTP {error.code}: {' '.join(str(message).split())}{hint}")


def _read_json(response, url: str, timeout_s: float) -> dict:
    try:
        return json.loads(response.read())
    except (socket.timeout, TimeoutError) as error:
        raise LLMError(_unreachable(url, error, timeout_s)) from None
    except ValueError:
        raise LLMError(f"{url} answered with something that is not JSON; is it an OpenAI-compatible endpoint?") from None


def _sse_events(response, url: str, timeout_s: float) -> Iterator[dict]:
    """JSON objects from ``data:`` lines until ``data: [DONE]`` (or the end of the body)."""
    try:
        for raw in response:
            line = raw.decode("utf-8").strip()
            if not line.startswith("data:"):
                continue  # blank separators, comments (":"), "event:" lines
            data = line[5:].strip()
            if data == "[DONE]":
                return
            event = json.loads(data)
            if "error" in event:
                error = event["error"]
                raise LLMError(f"LLM server {url} reported: {error.get('message', error) if isinstance(error, dict) else error}")
            yield event
    except (socket.timeout, TimeoutError) as error:
        raise LLMError(_unreachable(url, error, timeout_s)) from None
    except ValueError:
        raise LLMError(f"{url} sent a stream event that is not JSON; is it an OpenAI-compatible endpoint?") from None

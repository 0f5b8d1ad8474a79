"""An OpenAI-compatible HTTP server over any ChatModel, on the standard library's http.server.

``GET /v1/models`` and ``POST /v1/chat/completions`` (whole answers, or ``"stream": true`` server-sent
events in the OpenAI chunk format). One generation runs at a time: a CPU model gains nothing from
running two at once, and torch's thread pool is process-wide.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from radscribe.llm.base import ChatModel
from radscribe.llm.errors import LLMError, LLMRequestError
from radscribe.serve.protocol import chunk_body, completion_body, error_body, models_body, new_id, parse_chat_request

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 32 * 1024 * 1024  # room for a few base64 PNG slices


class ChatHandler(BaseHTTPRequestHandler):
    """Routes requests to ``server.model``; every failure is answered as an OpenAI error object."""

    server: "ChatServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        log.info("%s %s", self.address_string(), format % args)

    def _send_json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, message: str) -> None:
        self._send_json(status, error_body(message, status))

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send_json(HTTPStatus.OK, models_body(self.server.model_name))
        elif self.path.rstrip("/") in ("", "/health"):
            self._send_json(HTTPStatus.OK, {"status": "ok", "model": self.server.model_name})
        else:
            self._send_error(HTTPStatus.NOT_FOUND, f"no route {self.path}; try /v1/models or /v1/chat/completions")

    def do_POST(self) -> None:  # noqa: N802
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send_error(HTTPStatus.NOT_FOUND, f"no route {self.path}; POST /v1/chat/completions")
            return
        try:
            request = parse_chat_request(self._read_json())
            with self.server.generation_lock:
                if request.stream:
                    self._stream(request)
                else:
                    self._complete(request)
        except LLMRequestError as error:
            self._send_error(HTTPStatus.BAD_REQUEST, str(error))
        except LLMError as error:
            log.error("generation failed: %s", error)
            self._send_error(HTTPStatus.INTERNAL_SERVER_ERROR, str(error))

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY_BYTES:
            raise LLMRequestError(f"send a JSON body of 1 byte to {MAX_BODY_BYTES // 2**20} MiB with Content-Length")
        try:
            return json.loads(self.rfile.read(length))
        except ValueError as error:
            raise LLMRequestError(f"the body is not valid JSON: {error}") from None

    def _complete(self, request) -> None:
        p = request.params
        completion = self.server.model.generate(request.messages, max_new_tokens=p.max_new_tokens, temperature=p.temperature,
                                                top_p=p.top_p, seed=p.seed, stop=p.stop)
        self._send_json(HTTPStatus.OK, completion_body(completion, new_id(), self.server.model_name))

    def _stream(self, request) -> None:
        p = request.params
        # Ask for the stream first: a bad request still gets a plain 400 before any event is sent.
        pieces = self.server.model.stream(request.messages, max_new_tokens=p.max_new_tokens, temperature=p.temperature,
                                          top_p=p.top_p, seed=p.seed, stop=p.stop)
        request_id, model = new_id(), self.server.model_name
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # the end of the body marks the end of the stream
        self.end_headers()
        self.close_connection = True
        try:
            self._event(chunk_body(request_id, model, {"role": "assistant", "content": ""}))
            for piece in pieces:
                self._event(chunk_body(request_id, model, {"content": piece}))
            finish = pieces.completion.finish_reason if pieces.completion else "stop"
            self._event(chunk_body(request_id, model, {}, finish))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            log.info("client went away; generation stopped")
            pieces.close()
        except LLMError as error:  # headers are sent: report inside the stream, as OpenAI does
            self._event(error_body(str(error), 500))

    def _event(self, body: dict) -> None:
        self.wfile.write(b"data: " + json.dumps(body).encode() + b"\n\n")
        self.wfile.flush()


class ChatServer(ThreadingHTTPServer):
    """``ChatServer((host, port), model)``; ``server_address`` tells the port when 0 was asked for."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], model: ChatModel, model_name: str | None = None):
        super().__init__(address, ChatHandler)
        self.model = model
        self.model_name = model_name or model.name
        self.generation_lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

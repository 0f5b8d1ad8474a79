"""Errors of the LLM layer. Each message names the backend or server and what to do next."""

from __future__ import annotations

from radscribe.errors import RadscribeError


class LLMError(RadscribeError):
    """An LLM backend failed: server unreachable or answering an error, model files missing, bad output."""


class LLMRequestError(LLMError):
    """The request itself is invalid (bad messages or parameters, images for a text-only model).

    The server answers these with HTTP 400; other LLMErrors are the server's fault (500).
    """

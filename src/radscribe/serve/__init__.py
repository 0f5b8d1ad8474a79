"""Serving: an OpenAI-compatible ``/v1/chat/completions`` endpoint over any radscribe ChatModel (`radscribe serve`)."""

from radscribe.serve.server import ChatServer

__all__ = ["ChatServer"]

"""OpenAI-style chat messages: validation, text/image parts, data URLs.

A message is ``{"role": "system"|"user"|"assistant", "content": str | list[part]}`` where a part is
``{"type": "text", "text": ...}`` or ``{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}``.
Text-only backends flatten parts to a string; vision backends (later) read the image parts.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from radscribe.llm.errors import LLMRequestError

ROLES = ("system", "user", "assistant")
_DATA_URL = re.compile(r"^data:(?P<mime>image/[\w.+-]+)?(?P<b64>;base64)?,(?P<data>.*)$", re.DOTALL)


@dataclass(frozen=True)
class ImagePart:
    """One decoded image from a message part."""

    data: bytes
    mime: str


def decode_data_url(url: str) -> ImagePart:
    """Decode ``data:image/...;base64,...``; other URLs are refused because nothing is downloaded."""
    match = _DATA_URL.match(url or "")
    if not match or not match["b64"]:
        raise LLMRequestError(
            f"image_url must be a base64 data URL (data:image/png;base64,...), got {url[:40]!r}; radscribe downloads nothing"
        )
    try:
        data = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError) as error:
        raise LLMRequestError(f"image_url data is not valid base64: {error}") from None
    return ImagePart(data=data, mime=match["mime"] or "image/png")


def _check_part(part: Any, where: str) -> None:
    if not isinstance(part, Mapping) or part.get("type") not in ("text", "image_url"):
        raise LLMRequestError(f"{where}: each content part must be {{'type': 'text'|'image_url', ...}}")
    if part["type"] == "text" and not isinstance(part.get("text"), str):
        raise LLMRequestError(f"{where}: a text part needs a string 'text'")
    if part["type"] == "image_url":
        image_url = part.get("image_url")
        url = image_url.get("url") if isinstance(image_url, Mapping) else image_url
        if not isinstance(url, str):
            raise LLMRequestError(f"{where}: an image_url part needs {{'image_url': {{'url': 'data:...'}}}}")
        decode_data_url(url)


def validate_messages(messages: Any) -> list[dict]:
    """Check the shape of a message list and return plain-dict copies; raises LLMRequestError."""
    if not isinstance(messages, (list, tuple)) or not messages:
        raise LLMRequestError("messages must be a non-empty list of {'role': ..., 'content': ...}")
    checked = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping) or message.get("role") not in ROLES:
            raise LLMRequestError(f"{where}: role must be one of {', '.join(ROLES)}")
        content = message.get("content")
        if isinstance(content, (list, tuple)):
            for part in content:
                _check_part(part, where)
            content = [dict(part) for part in content]
        elif not isinstance(content, str):
            raise LLMRequestError(f"{where}: content must be a string or a list of parts")
        checked.append({"role": message["role"], "content": content})
    return checked


def _image_url(part: Mapping) -> str:
    image_url = part["image_url"]
    return image_url["url"] if isinstance(image_url, Mapping) else image_url


def split_content(content: str | Iterable[Mapping]) -> tuple[str, list[ImagePart]]:
    """Text of a message (text parts joined by newlines) and its decoded images."""
    if isinstance(content, str):
        return content, []
    texts, images = [], []
    for part in content:
        if part["type"] == "text":
            texts.append(part["text"])
        else:
            images.append(decode_data_url(_image_url(part)))
    return "\n".join(texts), images


def collect_images(messages: Iterable[Mapping]) -> list[ImagePart]:
    """All images in a conversation, in order: what a vision model's hook receives."""
    return [image for message in messages for image in split_content(message["content"])[1]]


def text_only(messages: Iterable[Mapping], model_name: str) -> list[dict[str, str]]:
    """Flatten parts to plain strings for a text-only model; refuse images with a clear message."""
    flat = []
    for message in messages:
        text, images = split_content(message["content"])
        if images:
            raise LLMRequestError(
                f"{model_name} is a text-only model: images need a vision model "
                "(send text only, or point the openai backend at a vision-capable server)"
            )
        flat.append({"role": message["role"], "content": text})
    return flat

"""The one interface every LLM backend implements, and what it returns.

``ChatModel.stream`` yields text pieces; ``generate`` returns a :class:`Completion`. By default
``generate`` is the concatenation of ``stream``, so the two can never disagree.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Generator, Iterator, Mapping, Sequence

from radscribe.llm.errors import LLMRequestError

FINISH_REASONS = ("stop", "length")


@dataclass
class Completion:
    """A finished answer with what produced it and how long it took."""

    text: str
    finish_reason: str  # "stop" (end token or stop string) or "length" (max_new_tokens reached)
    model: str
    backend: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_s: float | None = None  # time to first token, from the call
    total_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings shared by all backends. temperature 0 means greedy (deterministic)."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise LLMRequestError(f"max_new_tokens must be a positive integer, got {self.max_new_tokens!r}")
        if not 0.0 <= float(self.temperature) <= 2.0:
            raise LLMRequestError(f"temperature must be between 0 and 2, got {self.temperature!r}")
        if not 0.0 < float(self.top_p) <= 1.0:
            raise LLMRequestError(f"top_p must be in (0, 1], got {self.top_p!r}")
        if any(not isinstance(s, str) or not s for s in self.stop) or len(self.stop) > 4:
            raise LLMRequestError("stop must be at most 4 non-empty strings")

    @classmethod
    def build(cls, *, max_new_tokens: int = 256, temperature: float = 0.0, top_p: float = 1.0,
              seed: int | None = None, stop: str | Sequence[str] | None = None) -> "GenerationParams":
        stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
        return cls(max_new_tokens, temperature, top_p, seed, stops)


class TextStream(Iterator[str]):
    """Text pieces as they are generated; once exhausted, ``.completion`` holds the summary.

    Wraps a generator that *returns* its Completion. ``close()`` stops generation early
    (for example when an HTTP client disconnects).
    """

    def __init__(self, pieces: Generator[str, None, Completion]):
        self._pieces = pieces
        self.completion: Completion | None = None

    def __iter__(self) -> "TextStream":
        return self

    def __next__(self) -> str:
        try:
            return next(self._pieces)
        except StopIteration as done:
            self.completion = done.value
            raise

    def close(self) -> None:
        self._pieces.close()


class ChatModel(ABC):
    """A chat model: OpenAI-style messages in, text out.

    Attributes: ``name`` (model id shown to users and served by ``radscribe serve``),
    ``backend`` (registry name), ``supports_images`` (whether image parts are understood).
    """

    name: str = "unnamed"
    backend: str = "unknown"
    supports_images: bool = False

    @abstractmethod
    def stream(self, messages: Sequence[Mapping], *, max_new_tokens: int = 256, temperature: float = 0.0,
               top_p: float = 1.0, seed: int | None = None, stop: str | Sequence[str] | None = None) -> TextStream:
        """Yield the answer piece by piece; see :class:`GenerationParams` for the settings."""

    def generate(self, messages: Sequence[Mapping], *, max_new_tokens: int = 256, temperature: float = 0.0,
                 top_p: float = 1.0, seed: int | None = None, stop: str | Sequence[str] | None = None) -> Completion:
        """The whole answer at once."""
        pieces = self.stream(messages, max_new_tokens=max_new_tokens, temperature=temperature,
                             top_p=top_p, seed=seed, stop=stop)
        text = "".join(pieces)
        completion = pieces.completion
        assert completion is not None and completion.text == text
        return completion

    def close(self) -> None:
        """Release resources (connections, memory). Optional."""

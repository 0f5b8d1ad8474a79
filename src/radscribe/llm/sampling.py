"""Choosing the next token and turning token ids into text pieces safely.

Kept apart from the model loop so both are testable without a model.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch


def pick_next_token(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator | None) -> int:
    """Greedy when ``temperature`` is 0, else nucleus sampling from ``softmax(logits / temperature)``.

    ``logits`` is one row (vocab,). The generator makes sampling reproducible for a given seed.
    """
    if temperature <= 0.0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        # Drop tokens once the mass *before* them already reaches top_p; the first token always stays.
        outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs >= top_p
        sorted_probs[outside] = 0.0
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=generator))


class IncrementalText:
    """Accumulates token ids and releases text that is final.

    Two things are held back: a trailing partial UTF-8 character (decoded as U+FFFD), and any
    tail that could still become a stop string. Text is cut before the first stop string.
    Joining every piece gives exactly the decoded text, so streamed == non-streamed.
    """

    def __init__(self, decode: Callable[[Sequence[int]], str], stop: Sequence[str] = ()):
        self._decode = decode
        self._stop = tuple(stop)
        self._ids: list[int] = []
        self._emitted = 0
        self.text = ""
        self.stopped = False

    def push(self, token_id: int) -> str:
        """Add one token; return the newly final text (maybe empty). Sets ``stopped`` on a stop string."""
        self._ids.append(token_id)
        self.text = self._decode(self._ids)
        for stop in self._stop:
            cut = self.text.find(stop, max(0, self._emitted - len(stop)))
            if cut != -1:
                self.text = self.text[:cut]
                self.stopped = True
                return self._release(len(self.text))
        if self.text.endswith("\ufffd"):
            return ""
        return self._release(len(self.text) - self._held_tail())

    def flush(self) -> str:
        """At the end: everything not yet released."""
        return self._release(len(self.text))

    def _held_tail(self) -> int:
        """Length of the longest text suffix that is a proper prefix of a stop string."""
        longest = 0
        for stop in self._stop:
            for n in range(min(len(stop) - 1, len(self.text)), longest, -1):
                if self.text.endswith(stop[:n]):
                    longest = n
                    break
        return longest

    def _release(self, upto: int) -> str:
        upto = max(upto, self._emitted)
        piece = self.text[self._emitted:upto]
        self._emitted = upto
        return piece

"""Word-level tokenizer built from the caption vocabulary; saved inside every checkpoint.

Captions come from a few hundred template words, so whole words (plus punctuation and
numbers such as ``2.2``) are the natural unit: every score value is one token, which is what
lets the decoder's probabilities be read as a score distribution.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:[-'][a-z]+)*|[^\sa-z\d]")
_NO_SPACE_BEFORE = {".", ",", ":", ";", ")", "%", "!", "?"}
_NO_SPACE_AFTER = {"(", "/"}


def split_words(text: str) -> list[str]:
    """Lower-case words, numbers and single punctuation marks."""
    return _TOKEN.findall(text.lower())


def join_words(words: Iterable[str]) -> str:
    """Inverse of :func:`split_words` up to case: no space before ``.,:)``; sentences capitalised."""
    out = ""
    previous = ""
    for word in words:
        if out and word not in _NO_SPACE_BEFORE and previous not in _NO_SPACE_AFTER and not (word == "/" or previous == "-"):
            out += " "
        out += word
        previous = word
    sentences = re.split(r"(?<=[.!?])\s+", out)
    return " ".join(s[:1].upper() + s[1:] for s in sentences if s)


@dataclass
class WordTokenizer:
    """Maps words to ids; ids 0-3 are ``<pad> <bos> <eos> <unk>``."""

    words: list[str] = field(default_factory=lambda: list(SPECIALS))

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int = 1) -> "WordTokenizer":
        counts = Counter(w for c in captions for w in split_words(c))
        vocab = sorted(w for w, n in counts.items() if n >= min_count)
        return cls(list(SPECIALS) + vocab)

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def bos_id(self) -> int:
        return 1

    @property
    def eos_id(self) -> int:
        return 2

    @property
    def unk_id(self) -> int:
        return 3

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, text: str, max_len: int | None = None) -> list[int]:
        """``<bos> words... <eos>``, cut to ``max_len`` (the cut keeps ``<eos>``)."""
        ids = [self.bos_id] + [self.index.get(w, self.unk_id) for w in split_words(text)] + [self.eos_id]
        if max_len is not None and len(ids) > max_len:
            ids = ids[: max_len - 1] + [self.eos_id]
        return ids

    def decode_words(self, ids: Iterable[int]) -> list[str]:
        """Words up to the first ``<eos>``, specials dropped."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos_id:
                break
            if i >= len(SPECIALS):
                out.append(self.words[i])
        return out

    def decode(self, ids: Iterable[int]) -> str:
        return join_words(self.decode_words(ids))

    def to_dict(self) -> dict:
        return {"kind": "word", "words": self.words}

    @classmethod
    def from_dict(cls, d: dict) -> "WordTokenizer":
        return cls(list(d["words"]))

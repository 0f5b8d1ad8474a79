"""parse_caption(): read aspects, score and category back out of a caption (ours or a model's).

Tolerant by design: a model's output may drop sentences, repeat them, lose
punctuation or change case. Whatever cannot be read is None; it never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from radscribe.ctiqa.annotation.protocol import ASPECTS, SEVERITIES
from radscribe.ctiqa.text.templates import ASPECT_PRIORITY, ASPECT_WORDS, CATEGORY_WORDS, SEVERITY_WORDS, SITE_PHRASES


@dataclass
class ParsedCaption:
    """What a caption says. Aspects it does not mention are None; so are a missing score/category."""

    aspects: dict[str, str | None] = field(default_factory=lambda: {a: None for a in ASPECTS})
    score: float | None = None
    category: str | None = None
    metal_sites: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every aspect, the score and the category were found."""
        return self.score is not None and self.category is not None and None not in self.aspects.values()


_SENTENCE_SPLIT = re.compile(r"(?<!\d)\.|\.(?!\d)|[;\n!?]")
_ASPECT_RE = {a: re.compile(r"\b(?:" + "|".join(ASPECT_WORDS[a]) + r")", re.I) for a in ASPECTS}
_SEVERITY_RE = {s: re.compile(r"\b(?:" + "|".join(SEVERITY_WORDS[s]) + r")\b", re.I) for s in SEVERITIES}
_SCORE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:/|of|out of)\s*4(?![\d.]*\d)", re.I)
_SCORE_WORD_RE = re.compile(r"score\D{0,12}?(\d+(?:\.\d+)?)", re.I)
_CATEGORY_RE = re.compile(r"\b(" + "|".join(CATEGORY_WORDS) + r")\b", re.I)
_OVERALL_RE = re.compile(r"\b(?:quality|score|rated|overall)\b", re.I)


def _severities_in(text: str) -> list[str]:
    return [s for s in SEVERITIES if _SEVERITY_RE[s].search(text)]


def _aspects_in(text: str) -> list[str]:
    return [a for a in ASPECT_PRIORITY if _ASPECT_RE[a].search(text)]


def _read_clause(clause: str, found: dict[str, str | None]) -> None:
    """One clause: a list of absent aspects, or one aspect (by priority) with its severity."""
    aspects = _aspects_in(clause)
    if not aspects:
        return
    severities = _severities_in(clause)
    graded = [s for s in severities if s != "none"]
    if not graded and "none" in severities:
        for a in aspects:
            found[a] = found[a] or "none"
        return
    if not graded:
        return
    subject, severity = aspects[0], max(graded, key=SEVERITIES.index)
    old = found[subject]
    if old is None or SEVERITIES.index(severity) > SEVERITIES.index(old):
        found[subject] = severity  # a repeated aspect keeps its worst reading


_ANY_SEVERITY_RE = re.compile(r"\b(?:" + "|".join(w for ws in SEVERITY_WORDS.values() for w in ws) + r")\b", re.I)


def _clauses(sentence: str) -> list[str]:
    """Cut a (possibly run-on) sentence before every severity word; a piece that names no aspect
    ("... noise is" + "moderate") joins the piece before it."""
    starts = sorted({0, *(m.start() for m in _ANY_SEVERITY_RE.finditer(sentence))})
    pieces = [sentence[a:b] for a, b in zip(starts, starts[1:] + [len(sentence)])]
    clauses: list[str] = []
    for piece in pieces:
        if clauses and not _aspects_in(piece):
            clauses[-1] += piece
        else:
            clauses.append(piece)
    return clauses


def _read_score(text: str) -> float | None:
    for pattern in (_SCORE_RE, _SCORE_WORD_RE):
        for match in pattern.finditer(text):
            try:
                value = float(match.group(1))
            except ValueError:
                continue
            if 0.0 <= value <= 4.0:
                return value
    return None


def parse_caption(text: str) -> ParsedCaption:
    """Aspects, score and category of a caption; any part it cannot find is None."""
    out = ParsedCaption()
    if not isinstance(text, str) or not text.strip():
        return out
    category = None
    for sentence in _SENTENCE_SPLIT.split(text):
        if _OVERALL_RE.search(sentence):
            match = _CATEGORY_RE.search(sentence)
            if match and category is None:
                category = match.group(1).lower()
            if not _aspects_in(sentence):
                continue
        for clause in _clauses(sentence):
            _read_clause(clause, out.aspects)
    out.score = _read_score(text)
    if category is None:
        match = _CATEGORY_RE.search(text)
        category = match.group(1).lower() if match else None
    out.category = category
    lowered = text.lower()
    out.metal_sites = [site for site, phrase in SITE_PHRASES.items() if phrase.lower() in lowered]
    return out

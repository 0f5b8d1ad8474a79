"""Hallucination guard: the caption is the truth, the LLM only phrases it.

Two checks on every answer the LLM gives about a quality caption:

* **score**: a numeric score in the answer is compared with the score parsed from the caption; when they
  differ by more than :data:`SCORE_TOLERANCE` the caption's score wins, the answer says so, and the flag
  ``llm_score_disagrees`` is raised.
* **findings**: an aspect the answer names (metal, streaks, rings, ...) that the caption does not name, or
  names as absent, raises ``llm_unsupported_finding`` and is listed in the note.

Captions are parsed by :func:`radscribe.ctiqa.text.parse_caption` when that module is installed; until then
(and as a safety net when it returns nothing) a small reader of the "Overall quality: fair (score 2.2 of 4)"
sentence and of aspect words is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from radscribe.llm.prompts import SCORE_SCALE, category_of, parse_score

SCORE_TOLERANCE = 0.5
FLAG_SCORE = "llm_score_disagrees"
FLAG_NO_SCORE = "llm_gave_no_score"
FLAG_FINDING = "llm_unsupported_finding"
FLAG_CAPTION_UNPARSED = "caption_without_score"

ASPECTS = ("noise", "streaks", "metal", "motion", "ring", "blur")
SEVERITIES = ("none", "mild", "moderate", "severe")

# Words that name an aspect in free text (caption or answer). Kept small: the guard flags only findings
# whose words are unambiguous.
ASPECT_WORDS: dict[str, tuple[str, ...]] = {
    "noise": ("noise", "noisy", "grainy", "graininess", "mottle", "mottled"),
    "streaks": ("streak", "streaks", "streaking", "sparse-view", "undersampling"),
    "metal": ("metal", "metallic", "implant", "prosthesis", "prosthetic", "hardware", "clip", "clips"),
    "motion": ("motion", "movement", "breathing", "respiratory"),
    "ring": ("ring", "rings", "ring-shaped", "circular artifact", "circular artefact"),
    "blur": ("blur", "blurred", "blurry", "blurring", "unsharp", "smooth", "smoothed"),
}
_NEGATION = re.compile(r"\b(no|without|free of|absent|not|none)\b", re.IGNORECASE)
_OVERALL = re.compile(r"overall quality\s*:\s*([a-z]+)\s*\(\s*score\s*(\d+(?:\.\d+)?)\s*(?:of|/)\s*4", re.IGNORECASE)


@dataclass
class CaptionFacts:
    """What a caption states: aspect severities (None = not stated), overall score and category."""

    aspects: dict[str, Optional[str]]
    score: Optional[float]
    category: Optional[str]
    parser: str  # "ctiqa.text" or "fallback"

    def present(self) -> set[str]:
        """Aspects the caption states as present (any severity but none)."""
        return {name for name, severity in self.aspects.items() if severity not in (None, "none")}


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;!?])\s+|\n+", text or "") if s.strip()]


def _mentions(sentence: str, aspect: str) -> bool:
    return any(re.search(rf"\b{re.escape(word)}\b", sentence, re.IGNORECASE) for word in ASPECT_WORDS[aspect])


def _fallback_parse(caption: str) -> CaptionFacts:
    """A tolerant reader for captions in the template style: 'Overall quality: fair (score 2.2 of 4)'."""
    aspects: dict[str, Optional[str]] = {name: None for name in ASPECTS}
    for sentence in _sentences(caption):
        if _OVERALL.search(sentence):
            continue
        for aspect in ASPECTS:
            if not _mentions(sentence, aspect):
                continue
            severity = next((s for s in SEVERITIES[1:] if re.search(rf"\b{s}(ly)?\b", sentence, re.IGNORECASE)), None)
            if severity is None and _NEGATION.search(sentence):
                severity = "none"
            aspects[aspect] = severity or aspects[aspect] or "mild"
    match = _OVERALL.search(caption or "")
    score = float(match.group(2)) if match else parse_score(caption or "")
    category = match.group(1).lower() if match and match.group(1).lower() in dict(SCORE_SCALE) else None
    if category is None and score is not None:
        category = category_of(score)
    return CaptionFacts(aspects, score, category, "fallback")


def parse_caption_facts(caption: str) -> CaptionFacts:
    """Aspects, score and category of a quality caption, by the CT-IQA parser when installed."""
    try:
        from radscribe.ctiqa.text import parse_caption  # helper A's parser: the one owner of the format
    except ImportError:
        return _fallback_parse(caption)
    try:
        parsed = parse_caption(caption)
    except Exception:  # a parser bug must not take the CLI down; the fallback still reads the score
        return _fallback_parse(caption)
    fallback = _fallback_parse(caption)
    aspects = {name: (parsed.aspects or {}).get(name) for name in ASPECTS} if parsed.aspects else fallback.aspects
    score = parsed.score if parsed.score is not None else fallback.score
    category = parsed.category or (category_of(score) if score is not None else None)
    return CaptionFacts(aspects, score, category, "ctiqa.text")


@dataclass
class GuardResult:
    """The checked answer: text (with notes appended), the score that holds, and what was flagged."""

    answer: str
    score: Optional[float]
    category: Optional[str]
    llm_score: Optional[float]
    flags: list[str] = field(default_factory=list)
    unsupported_findings: list[str] = field(default_factory=list)


def unsupported_findings(answer: str, facts: CaptionFacts) -> list[str]:
    """Aspects the answer states as present that the caption does not (negated mentions are fine)."""
    found = []
    for aspect in ASPECTS:
        if aspect in facts.present():
            continue
        for sentence in _sentences(answer):
            if _mentions(sentence, aspect) and not _NEGATION.search(sentence):
                found.append(aspect)
                break
    return found


def check_answer(answer: str, caption: str, *, facts: CaptionFacts | None = None, wants_score: bool = False) -> GuardResult:
    """Compare ``answer`` with ``caption``; the caption's score and findings win over the LLM's."""
    facts = facts or parse_caption_facts(caption)
    llm_score = parse_score(answer)
    flags: list[str] = []
    notes: list[str] = []
    if facts.score is None:
        flags.append(FLAG_CAPTION_UNPARSED)
    if llm_score is not None and facts.score is not None and abs(llm_score - facts.score) > SCORE_TOLERANCE:
        flags.append(FLAG_SCORE)
        notes.append(f"Note: the model's score {llm_score:.1f} disagrees with the quality description; "
                     f"the description's score {facts.score:.1f} of 4 ({facts.category}) holds.")
    elif llm_score is None and wants_score and facts.score is not None:
        flags.append(FLAG_NO_SCORE)
        notes.append(f"Score: {facts.score:.1f} of 4 ({facts.category}), from the quality description.")
    extra = unsupported_findings(answer, facts)
    if extra:
        flags.append(FLAG_FINDING)
        notes.append(f"Note: the description does not report {', '.join(extra)}; disregard that part of the answer.")
    text = answer.strip() + ("\n\n" + "\n".join(notes) if notes else "")
    return GuardResult(text, facts.score, facts.category, llm_score, flags, extra)


def tidy_answer(text: str, *, truncated: bool = False) -> str:
    """Drop sentences the model repeats (small models loop) and, if cut at the token limit, the unfinished tail."""
    sentences = re.split(r"(?<=[.!?])\s+", (text or "").strip())
    if truncated and len(sentences) > 1 and not sentences[-1].rstrip().endswith((".", "!", "?")):
        sentences = sentences[:-1]
    kept, seen = [], set()
    for sentence in sentences:
        key = re.sub(r"\W+", " ", sentence.lower()).strip()
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(sentence)
    return " ".join(kept)


_SCORE_QUESTION = re.compile(r"\b(score|rate|rating|grade|how good|how bad|quality)\b", re.IGNORECASE)


def asks_for_score(question: str) -> bool:
    """Whether a question wants a score back (then a missing score is added from the caption)."""
    return bool(_SCORE_QUESTION.search(question or ""))

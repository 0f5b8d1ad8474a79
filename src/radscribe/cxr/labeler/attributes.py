"""Side, size and location of each finding a report names (for drawing it in the right place).

Each labeler mention is read together with the words around it: first the
mention itself ("heart is mildly enlarged"), then the words between it and the
previous mention ("small left pleural effusion"), then the words up to the next
mention ("effusion on the right"), and finally the end of its clause, which
coordinated findings share ("consolidation and atelectasis in the right base").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from radscribe.cxr.labeler.rules import Mention, find_mentions
from radscribe.cxr.labeler.text import normalize, split_clauses, split_sentences

Laterality = Literal["left", "right", "bilateral"]
Size = Literal["small", "moderate", "large"]

_BILATERAL = re.compile(r"\b(?:bilateral(?:ly)?|both|bibasilar|bibasal|biapical|bilaterally|left greater than right|right greater than left)\b")
_LEFT = re.compile(r"\bleft\b|\blingula(?:r)?\b")
_RIGHT = re.compile(r"\bright\b")
_SIZES: tuple[tuple[Size, re.Pattern[str]], ...] = (
    ("large", re.compile(r"\b(?:large|massive|extensive|marked(?:ly)?|severe(?:ly)?|huge|significant(?:ly)?|moderate to large|moderate-to-large)\b")),
    ("moderate", re.compile(r"\b(?:moderate(?:ly)?|moderate-sized|moderate sized|mild to moderate|mild-to-moderate|small to moderate)\b")),
    ("small", re.compile(r"\b(?:small|tiny|trace|minimal|minimally|mild|mildly|slight(?:ly)?|subtle|little|minor|subsegmental|punctate)\b")),
)
_LOCATIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("base", re.compile(r"\b(?:bases?|basilar|basal|bibasilar|bibasal|lung base|costophrenic)\b")),
    ("apex", re.compile(r"\b(?:apex|apices|apical|biapical)\b")),
    ("upper lobe", re.compile(r"\bupper lobes?\b")),
    ("middle lobe", re.compile(r"\bmiddle lobe\b")),
    ("lower lobe", re.compile(r"\blower lobes?\b")),
    ("lingula", re.compile(r"\blingula(?:r)?\b")),
    ("upper zone", re.compile(r"\bupper (?:zones?|lungs?|lung zones?)\b")),
    ("mid lung", re.compile(r"\bmid[- ]?(?:lungs?|zones?|lung zones?)\b")),
    ("lower zone", re.compile(r"\blower (?:zones?|lungs?|lung zones?)\b")),
    ("perihilar", re.compile(r"\b(?:perihilar|parahilar)\b")),
    ("hilar", re.compile(r"\b(?:hilar|hilum|hila|infrahilar|suprahilar)\b")),
    ("retrocardiac", re.compile(r"\bretrocardiac\b")),
    ("costophrenic angle", re.compile(r"\bcostophrenic (?:angles?|sulcus|sulci|recess)\b")),
    ("lateral", re.compile(r"\blateral(?:ly)?\b(?! (?:views?|radiographs?|projections?|films?))")),
    ("fissure", re.compile(r"\bfissures?\b")),
    ("rib", re.compile(r"\bribs?\b")),
    ("clavicle", re.compile(r"\bclavicles?\b")),
    ("spine", re.compile(r"\b(?:spine|vertebral|vertebra|vertebrae|thoracic spine)\b")),
)


@dataclass(frozen=True)
class FindingMention:
    """One finding named in a report, with what the text says about where and how big.

    ``locations`` are normalised words such as "base", "apex", "upper lobe",
    "perihilar", "costophrenic angle"; ``text`` is the normalised sentence span.
    """

    observation: str
    laterality: Laterality | None
    size: Size | None
    locations: tuple[str, ...]
    negated: bool
    uncertain: bool
    label: int
    text: str
    sentence: str


def _laterality(text: str) -> Laterality | None:
    if _BILATERAL.search(text):
        return "bilateral"
    left, right = bool(_LEFT.search(text)), bool(_RIGHT.search(text))
    if left and right:
        return "bilateral"
    return "left" if left else "right" if right else None


def _size(text: str) -> Size | None:
    for size, pattern in _SIZES:
        if pattern.search(text):
            return size
    return None


def _locations(text: str) -> tuple[str, ...]:
    return tuple(name for name, pattern in _LOCATIONS if pattern.search(text))


# Words after a finding describe it only until a connector hands over to the next finding.
_HANDOVER = re.compile(r",|\b(?:with|and|or|versus|vs|plus)\b")
# Findings joined like this share what follows them ("consolidation and atelectasis in the right base").
_COORDINATED = re.compile(r"^\s*(?:,|and|or|and/or|/|,\s*and|,\s*or)\s*$")


def _contexts(mention: Mention, previous_end: int, next_start: int, clause: tuple[int, int]) -> list[str]:
    s = mention.sentence
    after = s[mention.end:min(next_start, clause[1])]
    handover = _HANDOVER.search(after)
    before = s[max(previous_end, clause[0]):mention.start]
    last_handover = list(_HANDOVER.finditer(before)) if previous_end > clause[0] else []
    before = before[last_handover[-1].end():] if last_handover else before
    return [mention.text, before, after[:handover.start()] if handover else after]


def _first(contexts: list[str], reader):
    for context in contexts:
        value = reader(context)
        if value:
            return value
    return None


def _own_attributes(mentions: list[Mention], sentence: str) -> list[dict]:
    clauses = split_clauses(sentence)
    out = []
    for i, mention in enumerate(mentions):
        clause = next(((c.start, c.end) for c in clauses if c.start <= mention.start < c.end), (0, len(sentence)))
        previous_end = max((m.end for m in mentions[:i] if m.end <= mention.start), default=0)
        next_start = min((m.start for m in mentions[i + 1:] if m.start >= mention.end), default=len(sentence))
        contexts = _contexts(mention, previous_end, next_start, clause)
        out.append({"laterality": _first(contexts, _laterality), "size": _first(contexts, _size),
                    "locations": _first(contexts, _locations) or ()})
    return out


def _sentence_attributes(sentence: str) -> list[FindingMention]:
    mentions = find_mentions(sentence)
    attrs = _own_attributes(mentions, sentence)
    # Walk backwards so a chain "A, B and C in the left base" passes C's attributes to B, then to A.
    for i in range(len(mentions) - 2, -1, -1):
        gap = sentence[mentions[i].end:mentions[i + 1].start]
        if mentions[i].end <= mentions[i + 1].start and _COORDINATED.match(gap):
            for key in ("laterality", "locations"):
                attrs[i][key] = attrs[i][key] or attrs[i + 1][key]
    return [
        FindingMention(m.observation, a["laterality"], a["size"], a["locations"], m.label == 0, m.label == -1,
                       m.label, m.text, sentence)
        for m, a in zip(mentions, attrs)
    ]


def extract_finding_attributes(text: str) -> list[FindingMention]:
    """Every observation mention in report text, with laterality, size, location, negation and uncertainty.

    >>> [(f.observation, f.laterality, f.size) for f in extract_finding_attributes("Small left pleural effusion.")]
    [('Pleural Effusion', 'left', 'small')]
    """
    return [f for sentence in split_sentences(normalize(text)) for f in _sentence_attributes(sentence)]

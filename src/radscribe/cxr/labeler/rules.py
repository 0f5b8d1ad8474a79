"""Mention extraction, classification and CheXpert aggregation.

Per sentence: find every mention of an observation, classify it as positive (1),
negative (0) or uncertain (-1) from the cues in its clause, then aggregate.
Within a report, positive beats uncertain beats negative; "No Finding" is 1
when no observation other than Support Devices is positive or uncertain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from radscribe.cxr.labeler.negation import Cues, find_cues, term_status
from radscribe.cxr.labeler.observations import (
    NO_FINDING,
    OBSERVATIONS,
    RULES,
    RULES_BY_NAME,
    SUPPORT_DEVICES,
    ObservationRules,
)
from radscribe.cxr.labeler.text import Clause, normalize, split_clauses, split_sentences

POSITIVE, NEGATIVE, UNCERTAIN = 1, 0, -1
_PRECEDENCE = {POSITIVE: 3, UNCERTAIN: 2, NEGATIVE: 1}
_DESCRIPTOR_WORDS_AFTER = 8
# "atelectasis or pneumonia", "infiltrate versus atelectasis", "scarring/atelectasis": a choice, so both uncertain.
_ALTERNATIVE = re.compile(r"^\s*(?:or|versus|vs\.?|and/or|/)\s*(?:[a-z-]+\s+){0,2}$")


@dataclass(frozen=True)
class Mention:
    """One mention of an observation in a normalised sentence, with its label."""

    observation: str
    sentence: str
    start: int
    end: int
    label: int
    kind: str  # "term" (finding named outright) or "anatomy" (structure + descriptor)
    negated: bool
    uncertain: bool

    @property
    def text(self) -> str:
        return self.sentence[self.start:self.end]


def _compiled(rule: ObservationRules) -> dict[str, re.Pattern[str] | None]:
    return _compiled_by_name(rule.name)


@lru_cache(maxsize=None)
def _compiled_by_name(name: str) -> dict[str, re.Pattern[str] | None]:
    rule = RULES_BY_NAME[name]

    def alt(parts: Iterable[str]) -> re.Pattern[str] | None:
        parts = tuple(parts)
        return re.compile(r"\b(?:" + "|".join(parts) + r")\b") if parts else None

    return {
        "terms": alt(rule.terms),
        "hedged": alt(rule.hedged),
        "exclude": alt(rule.exclude),
        "anatomy": alt([rule.anatomy]) if rule.anatomy else None,
        "descriptor": re.compile(
            "|".join(
                rf"\b(?P<{group}>{pattern})\b"
                for group, pattern in (("normal", rule.normal), ("uncertain", rule.uncertain), ("abnormal", rule.abnormal))
                if pattern
            )
        )
        if rule.anatomy
        else None,
    }


def _clause_of(clauses: list[Clause], position: int) -> Clause:
    for clause in clauses:
        if clause.start <= position < clause.end:
            return clause
    return clauses[-1]


def _label(negated: bool, uncertain: bool, base: int = POSITIVE) -> int:
    if negated:
        return NEGATIVE
    if base == NEGATIVE:
        return NEGATIVE
    return UNCERTAIN if uncertain else base


def _term_mentions(sentence: str, clauses: list[Clause], cues: dict[int, Cues], rule: ObservationRules) -> list[Mention]:
    pats = _compiled(rule)
    excluded = [m.span() for m in pats["exclude"].finditer(sentence)] if pats["exclude"] else []
    matches = [(m, False) for m in pats["terms"].finditer(sentence)]
    if pats["hedged"]:
        matches += [(m, True) for m in pats["hedged"].finditer(sentence)]
    out = []
    for match, hedged in matches:
        if any(s <= match.start() and match.end() <= e for s, e in excluded):
            continue
        clause = _clause_of(clauses, match.start())
        negated, uncertain = term_status(cues[clause.start], match.start() - clause.start, match.end() - clause.start)
        uncertain = uncertain or hedged
        out.append(Mention(rule.name, sentence, match.start(), match.end(), _label(negated, uncertain), "term", negated, uncertain))
    return out


def _find_descriptor(sentence: str, start: int, end: int, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """The descriptor right before the structure ("normal heart size") or the first within a few words after it."""
    before = sentence[max(0, start - 40):start]
    for match in pattern.finditer(before):
        gap = before[match.end():]
        if re.fullmatch(r"(?:[\s-]+[a-z]+)?[\s-]+", gap) or re.fullmatch(r"\s+", gap):
            return pattern.match(sentence, max(0, start - 40) + match.start())
    after = re.split(r"[;:.]", sentence[end:], maxsplit=1)[0]
    window_end = end + sum(len(w) + 1 for w in after.split(" ")[: _DESCRIPTOR_WORDS_AFTER + 1])
    found = pattern.search(sentence, end, min(end + len(after), window_end))
    if found is None:
        # "normal heart size and mediastinal contours": the descriptor also governs the second structure.
        shared = re.search(r"\b(?:[a-z-]+ ){1,3}(?:and|,) (?:the )?$", before)
        found = pattern.match(before, shared.start()) if shared else None
        if found:
            found = pattern.match(sentence, max(0, start - 40) + shared.start())
    return found


def _anatomy_mentions(sentence: str, rule: ObservationRules, taken: list[Mention]) -> list[Mention]:
    pats = _compiled(rule)
    out = []
    for match in pats["anatomy"].finditer(sentence):
        if any(m.start <= match.start() < m.end for m in taken):
            continue
        desc = _find_descriptor(sentence, match.start(), match.end(), pats["descriptor"])
        if desc is None:
            continue
        base = {"normal": NEGATIVE, "uncertain": UNCERTAIN, "abnormal": POSITIVE}[desc.lastgroup]
        start, end = min(match.start(), desc.start()), max(match.end(), desc.end())
        # Only cues inside the phrase ("heart is not enlarged", "heart may be enlarged") or just before it.
        local = find_cues(sentence[max(0, start - 12):end])
        offset = end - max(0, start - 12)
        negated = local.negated_before(offset) and base != NEGATIVE
        uncertain = local.uncertain_before(offset)
        label = _label(negated, uncertain, base)
        out.append(Mention(rule.name, sentence, start, end, label, "anatomy", negated or base == NEGATIVE, label == UNCERTAIN))
    return out


def _mark_alternatives(mentions: list[Mention]) -> list[Mention]:
    """Findings offered as alternatives ("atelectasis or pneumonia") are each uncertain."""
    terms = sorted((m for m in mentions if m.kind == "term"), key=lambda m: m.start)
    hedged: set[int] = set()
    for left, right in zip(terms, terms[1:]):
        gap = left.sentence[left.end:right.start]
        if left.observation != right.observation and _ALTERNATIVE.match(gap) and not (left.negated or right.negated):
            hedged.update((id(left), id(right)))
    return [
        Mention(m.observation, m.sentence, m.start, m.end, UNCERTAIN, m.kind, False, True) if id(m) in hedged else m
        for m in mentions
    ]


def find_mentions(sentence: str) -> list[Mention]:
    """Every observation mention in one *normalised* sentence, classified, in text order."""
    clauses = split_clauses(sentence) or [Clause(sentence, 0, len(sentence))]
    cues = {clause.start: find_cues(clause.text) for clause in clauses}
    mentions: list[Mention] = []
    for rule in RULES:
        terms = _term_mentions(sentence, clauses, cues, rule)
        mentions += terms
        if rule.anatomy:
            mentions += _anatomy_mentions(sentence, rule, terms)
    return sorted(_mark_alternatives(mentions), key=lambda m: (m.start, m.observation))


def report_mentions(text: str) -> list[Mention]:
    """Mentions in every sentence of raw report text."""
    return [m for sentence in split_sentences(normalize(text)) for m in find_mentions(sentence)]


def aggregate(labels: Iterable[tuple[str, int]]) -> dict[str, int]:
    """CheXpert's rule: per observation, positive beats uncertain beats negative."""
    out: dict[str, int] = {}
    for observation, label in labels:
        if observation not in out or _PRECEDENCE[label] > _PRECEDENCE[out[observation]]:
            out[observation] = label
    return {name: out[name] for name in OBSERVATIONS if name in out}


def label_sentence(text: str) -> dict[str, int]:
    """Labels of the observations one sentence mentions (no "No Finding"; unmentioned left out)."""
    return aggregate((m.observation, m.label) for m in report_mentions(text))


def label_report(text: str) -> dict[str, int]:
    """CheXpert labels of a whole report: mentioned observations plus the "No Finding" rule."""
    labels = aggregate((m.observation, m.label) for m in report_mentions(text))
    if not any(v in (POSITIVE, UNCERTAIN) for k, v in labels.items() if k != SUPPORT_DEVICES):
        labels = {NO_FINDING: POSITIVE, **labels}  # NO_FINDING is first in OBSERVATIONS
    return labels

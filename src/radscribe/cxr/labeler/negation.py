"""Negation and uncertainty cues, scoped to a clause.

A pre-cue ("no", "without", "possible") reaches forward to the end of its
clause; a post-cue ("... is not seen", "... cannot be excluded") reaches back a
few words to the finding just named. Phrases such as "no change in" look like
negation but are not, and "cannot be excluded" is uncertainty, not negation:
both are masked before negation cues are searched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Hedges built from a negation word: uncertainty, and never negation.
_UNCERTAIN_NEGATION = re.compile(
    r"\b(?:cannot|can't|could not|may not|might not) (?:be )?(?:entirely |completely |totally |definitely )?"
    r"(?:excluded|exclude|ruled out|rule out|be excluded)\b"
    r"|\b(?:is |are |was |were )?not (?:be )?(?:entirely |completely |totally |definitely )?(?:excluded|ruled out)\b"
    r"|\bnot (?:definitely|clearly) (?:excluded|ruled out)\b|\bdifficult to (?:exclude|rule out)\b"
)

# Negation words that do not negate the finding after them ("no change in the effusion").
_PSEUDO_NEGATION = re.compile(
    r"\bno (?:significant |appreciable |substantial |definite |interval |further )*"
    r"(?:change|increase|decrease|difference|worsening|improvement|progression)\b"
    r"|\bnot (?:significantly |substantially )?(?:changed|increased|decreased|improved|worsened)\b"
    r"|\bwithout (?:significant |interval )*(?:change|increase|decrease|worsening|improvement)\b"
    r"|\bnot only\b|\bno other\b(?= (?:\w+ ){0,3}(?:except|than))"
)

_NEGATION_PRE = re.compile(
    r"\b(?:no|not|without|nor|free of|negative for|clear of|absence of|absent|resolution of|resolved|"
    r"removal of|removed|ruled out|rather than|no longer|neither|none)\b"
)

_UNCERTAINTY_PRE = re.compile(
    r"\b(?:may|might|could|possible|possibly|probable|probably|likely|presumed|presumably|suspect|suspected|"
    r"suspicious|concern for|concerning for|concerning|suggest|suggests|suggested|suggesting|suggestive|"
    r"question of|questionable|questioned|equivocal|indeterminate|borderline|versus|vs|differential|"
    r"rule out|favor|favored|favour|favoured|uncertain|either|can be seen with|raises the possibility|"
    r"evaluat(?:e|ion) for|assess(?:ment)? for|to exclude|exclude)\b"
)

_NEGATION_POST = re.compile(
    r"^[\s,]*(?:[a-z-]+\s+){0,4}?(?:(?:is|are|was|were|has been|have been)\s+)?"
    r"(?:(?:not|no longer)\s+(?:\w+\s+)?(?:seen|identified|present|visualized|appreciated|demonstrated|evident|"
    r"noted|detected|visible|apparent|demonstrable|identifiable)"
    r"|(?:has|have|had)\s+(?:\w+\s+)?resolved|(?:absent|resolved|gone|removed|negative)\b|not present)"
)

_UNCERTAINTY_POST = re.compile(
    r"^[\s,]*(?:[a-z-]+\s+){0,4}?(?:(?:is|are|was|were)\s+)?(?:also\s+)?"
    r"(?:possible|possibly|likely|probable|suspected|questioned|a consideration|considered|in question|"
    r"not excluded|not ruled out|cannot be excluded|cannot be ruled out|difficult to exclude|"
    r"could be (?:present|considered))\b|^[^.?]{0,40}\?|^\s*(?:versus|vs)\b"
)

_POST_WINDOW = 60  # characters after a finding that a post-cue may sit in


# Uncertainty words about something other than presence ("age-indeterminate fracture").
_PSEUDO_UNCERTAINTY = re.compile(
    r"\bage[- ]indeterminate\b|\bindeterminate age\b|\b(?:uncertain|indeterminate|unknown) (?:age|acuity|chronicity)\b"
    r"|\bof uncertain significance\b|\blikely (?:stable|unchanged|chronic|old)\b"
)


def _mask(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


@dataclass(frozen=True)
class Cues:
    """Where negation and uncertainty cues start and end in one clause."""

    text: str
    negations: tuple[tuple[int, int], ...]
    uncertainties: tuple[tuple[int, int], ...]

    def negated_before(self, position: int, not_before: int = 0) -> bool:
        return any(not_before <= end <= position for _, end in self.negations)

    def uncertain_before(self, position: int, not_before: int = 0) -> bool:
        return any(not_before <= end <= position for _, end in self.uncertainties)

    def negated_after(self, position: int) -> bool:
        return bool(_NEGATION_POST.match(self._after(position)))

    def uncertain_after(self, position: int) -> bool:
        return bool(_UNCERTAINTY_POST.match(_mask(self._after(position), _PSEUDO_UNCERTAINTY)))

    def _after(self, position: int) -> str:
        return self.text[position:position + _POST_WINDOW]


def find_cues(clause: str) -> Cues:
    """Negation and uncertainty cue spans in a normalised clause."""
    hedges = tuple(m.span() for m in _UNCERTAIN_NEGATION.finditer(clause))
    masked = _mask(_mask(clause, _UNCERTAIN_NEGATION), _PSEUDO_NEGATION)
    negations = tuple(m.span() for m in _NEGATION_PRE.finditer(masked))
    uncertain = tuple(m.span() for m in _UNCERTAINTY_PRE.finditer(_mask(clause, _PSEUDO_UNCERTAINTY))) + hedges
    return Cues(clause, negations, tuple(sorted(uncertain)))


def term_status(cues: Cues, start: int, end: int) -> tuple[bool, bool]:
    """(negated, uncertain) of a finding named at [start, end) of the clause the cues were found in."""
    negated = cues.negated_before(start) or cues.negated_after(end)
    uncertain = cues.uncertain_before(start) or cues.uncertain_after(end)
    return negated, uncertain

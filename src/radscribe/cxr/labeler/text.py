"""Text preparation for the labeler: normalisation, sentences and clauses.

Positions matter (mentions are spans, and negation scope is "later in the same
clause"), so normalisation keeps the text lower-case and readable, and
clauses are returned with their offsets into the normalised sentence.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

# Abbreviations radiologists write; expanded so one mention list covers both forms.
_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"\bw/o\b", "without"),
    (r"\bw/", "with "),
    (r"\bs/p\b", "status post"),
    (r"\br/o\b", "rule out"),
    (r"\bb/l\b", "bilateral"),
    (r"\bptx\b", "pneumothorax"),
    (r"\bfxs?\b", "fracture"),
    (r"\bchf\b", "congestive heart failure"),
    (r"\bett?\s+tube\b", "endotracheal tube"),
    (r"\bett\b", "endotracheal tube"),
    (r"\bngt?\b(\s+tube)?", "nasogastric tube"),
    (r"\bogt?\b(\s+tube)?", "orogastric tube"),
    (r"\bcvc\b", "central venous catheter"),
    (r"\bcp angles?\b", "costophrenic angle"),
    (r"\bwnl\b", "within normal limits"),
    (r"\bnml\b", "normal"),
    (r"\blll\b", "left lower lobe"),
    (r"\blul\b", "left upper lobe"),
    (r"\brll\b", "right lower lobe"),
    (r"\brml\b", "right middle lobe"),
    (r"\brul\b", "right upper lobe"),
    (r"\bcxr\b", "chest x-ray"),
    (r"\bcan't\b", "cannot"),
    (r"\bcan not\b", "cannot"),
    (r"\bx-xxxx\b", "x-ray"),
    # IU-Xray blanked the hedge before a verb ("xxxx represent" was "may represent", "xxxx represents" "likely").
    (r"\bxxxx(?: xxxx)? (?=(?:represent|reflect|indicate|be)\b)", "may "),
    (r"\bxxxx(?: xxxx)? (?=(?:represents|reflects|indicates)\b)", "likely "),
)
_ABBREVIATIONS_RE = tuple((re.compile(p), r) for p, r in _ABBREVIATIONS)

# Key terms a typo most often hits; a long unknown word close to one of these is read as it.
_KEY_TERMS: tuple[str, ...] = (
    "pneumothorax", "cardiomegaly", "atelectasis", "consolidation", "effusion", "effusions",
    "opacity", "opacities", "pneumonia", "edema", "fracture", "pacemaker", "cardiomediastinal",
    "infiltrate", "granuloma", "nodule", "silhouette", "mediastinum", "hemidiaphragm",
)
_KNOWN_WORDS = frozenset(
    _KEY_TERMS
    + (
        "pneumothoraces", "consolidative", "atelectatic", "opacification", "opacified", "fractures",
        "fractured", "infiltrates", "infiltration", "granulomas", "granulomata", "nodules", "nodular",
        "mediastinal", "edematous", "pneumonic", "pneumonitis", "effusive", "silhouettes",
        "hemidiaphragms", "pacemakers", "consolidations", "infiltrative", "cardiomediastinum",
        "pneumomediastinum", "hydropneumothorax", "pneumoperitoneum",
    )
)


@lru_cache(maxsize=65536)
def _corrected(word: str) -> str:
    if word in _KNOWN_WORDS:
        return word
    close = difflib.get_close_matches(word, _KEY_TERMS, n=1, cutoff=0.86)
    return close[0] if close and close[0][:2] == word[:2] else word


def _fix_typo(match: re.Match[str]) -> str:
    return _corrected(match.group(0))


def normalize(text: str) -> str:
    """Lower-case, expand abbreviations, fix common misspellings of key terms, squeeze spaces."""
    out = text.lower().replace("\u2019", "'")
    for pattern, replacement in _ABBREVIATIONS_RE:
        out = pattern.sub(replacement, out)
    out = re.sub(r"[a-z]{8,}", _fix_typo, out)
    return re.sub(r"\s+", " ", out).strip()


def split_sentences(text: str) -> list[str]:
    """Split normalised report text into sentences (numbered list markers start a new one)."""
    # Also split "effusion.heart size" (a missing space), but not decimals such as "2.5 cm".
    parts = re.split(r"(?<=[.?!])\s+|(?<=[a-z]\.)(?=[a-z]{2})|\n+|(?:^|\s)\d{1,2}[.)]\s+", text)
    return [p.strip(" .") for p in parts if p and p.strip(" .") and not p.strip(" .").isdigit()]


# A clause ends where negation or uncertainty stops reaching: contrast words, relative
# clauses, semicolons, and a comma that opens a new statement rather than continuing a list.
_CLAUSE_BREAK = re.compile(
    r"\s*[;:]\s*"
    r"|\s+(?:but|however|although|though|whereas|while|which|except|aside from|apart from|other than"
    r"|with the exception of)\b\s*"
    r"|,?\s+and\s+(?=(?:the|there|a|an|this|these|it)\b)"
    r"|,\s*(?=(?:possibly|possible|probable|probably|likely|may|might|could"
    r"|there|new|stable|persistent|unchanged|the|a|an|this|these|it|"
    r"again|also|otherwise|overall|however|mildly|likely)\b)"
)


@dataclass(frozen=True)
class Clause:
    """A clause of a sentence with its character offsets in that sentence."""

    text: str
    start: int
    end: int


def split_clauses(sentence: str) -> list[Clause]:
    """The clauses of one normalised sentence, in order, with offsets."""
    clauses: list[Clause] = []
    position = 0
    for match in _CLAUSE_BREAK.finditer(sentence):
        if match.start() > position:
            clauses.append(Clause(sentence[position:match.start()], position, match.start()))
        position = match.end()
    if position < len(sentence):
        clauses.append(Clause(sentence[position:], position, len(sentence)))
    return clauses

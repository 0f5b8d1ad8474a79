"""Every prompt the LLM layer sends, versioned in one place, with the parsers for what comes back.

IQAGPT's third stage: an LLM reads the captioner's quality description and gives a score, writes a
radiological quality report, or answers a question in plain words. The templates are data
(:data:`TEMPLATES`); bump :data:`PROMPTS_VERSION` whenever a template's text changes, because measured
score accuracy belongs to a prompt version. Scores use the LDCTIQAC 0-4 scale (see docs/llm.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from radscribe.llm.errors import LLMRequestError

PROMPTS_VERSION = "1.1"  # 1.1: added captions_to_narrative (study reports)

# LDCTIQAC 2023 radiologist scale (mean of 5 readers, 0..4). Index = integer score.
# TODO(issue 3): import from radscribe.ctiqa once its annotation protocol publishes the scale.
SCORE_SCALE: tuple[tuple[str, str], ...] = (
    ("bad", "desired features are not shown"),
    ("poor", "diagnostic interpretation is impossible"),
    ("fair", "suitable for limited clinical interpretation"),
    ("good", "suitable for diagnostic interpretation"),
    ("excellent", "anatomical structure is evident"),
)
SCORE_MIN, SCORE_MAX = 0.0, 4.0
REPEAT_ACQUISITION_AT_OR_BELOW = 1.0

_SCALE_TEXT = "\n".join(f"{i} = {name}: {meaning}" for i, (name, meaning) in enumerate(SCORE_SCALE))
_SYSTEM = (
    "You are a radiologist who judges the technical image quality of CT slices. You only see a written "
    "description of the image's quality; never invent findings that the description does not state. "
    f"Quality is scored from 0.0 to 4.0:\n{_SCALE_TEXT}"
)


@dataclass(frozen=True)
class PromptTemplate:
    """A system prompt, a user prompt with ``{fields}``, the output format asked for, and optional examples.

    ``examples`` are (user, assistant) pairs sent before the real question when few-shot prompting.
    """

    name: str
    system: str
    user: str
    output_format: str
    fields: tuple[str, ...]
    examples: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def render(self, *, few_shot: bool = False, **values: str) -> list[dict[str, str]]:
        """OpenAI-style messages for this template; every field must be given."""
        missing = [name for name in self.fields if name not in values]
        if missing:
            raise LLMRequestError(f"prompt {self.name!r} needs {', '.join(missing)}")
        messages = [{"role": "system", "content": f"{self.system}\n\n{self.output_format}"}]
        for user, assistant in self.examples if few_shot else ():
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        messages.append({"role": "user", "content": self.user.format(**values)})
        return messages


# Illustrative examples for few-shot prompting (hand-written, not from any dataset).
_SCORE_EXAMPLES = (
    ("Image quality description:\nMild noise throughout the abdomen; no streaks, no metal artifacts, edges are sharp.\n\n"
     "Rate the overall image quality.", "Score: 3.2\nCategory: good"),
    ("Image quality description:\nSevere streaks radiating across the liver from sparse views, with moderate noise; "
     "organ borders cannot be traced.\n\nRate the overall image quality.", "Score: 0.8\nCategory: bad"),
)

TEMPLATES: dict[str, PromptTemplate] = {
    "caption_to_score": PromptTemplate(
        name="caption_to_score",
        system=_SYSTEM,
        user="Image quality description:\n{caption}\n\nRate the overall image quality.",
        output_format="Answer with exactly two lines and nothing else:\nScore: X.X\nCategory: bad|poor|fair|good|excellent",
        fields=("caption",),
        examples=_SCORE_EXAMPLES,
    ),
    "caption_to_report": PromptTemplate(
        name="caption_to_report",
        system=_SYSTEM,
        user="Image quality description:\n{caption}\n\nWrite a radiological image-quality report for this CT slice.",
        output_format=(
            "Write the report in this format:\nFindings:\n- <aspect>: <severity and where, one line per aspect the "
            "description mentions>\nScore: X.X\nCategory: bad|poor|fair|good|excellent\nRecommendation: <one sentence; "
            f"advise repeating the acquisition when the score is {REPEAT_ACQUISITION_AT_OR_BELOW:.1f} or below>"
        ),
        fields=("caption",),
    ),
    "captions_to_narrative": PromptTemplate(
        name="captions_to_narrative",
        system=_SYSTEM,
        user=("Image quality descriptions of slices from one CT study:\n{captions}\n\n"
              "The study's overall quality is {category} (score {score} of 4). Write the report's narrative."),
        output_format=(
            "Write two or three plain sentences that summarise the image quality of the study: which artifacts "
            "are present, how severe, and what that means for reading the images. Mention only what the "
            "descriptions state. Do not give a score or a list."
        ),
        fields=("captions", "score", "category"),
    ),
    "quality_question": PromptTemplate(
        name="quality_question",
        system=_SYSTEM,
        user="Image quality description:\n{caption}\n\nQuestion: {question}",
        output_format=(
            "Answer the question in plain words a non-specialist understands, in at most four sentences, using only "
            "the description. If the question asks for a score or rating, end with a line 'Score: X.X'."
        ),
        fields=("caption", "question"),
    ),
}


def render(name: str, *, few_shot: bool = False, **values: str) -> list[dict[str, str]]:
    """Messages for template ``name`` (one of :data:`TEMPLATES`)."""
    if name not in TEMPLATES:
        raise LLMRequestError(f"unknown prompt {name!r}; known: {', '.join(TEMPLATES)}")
    return TEMPLATES[name].render(few_shot=few_shot, **values)


_NUMBER = r"(\d+(?:[.,]\d+)?)"
_SCORE_LINE = re.compile(rf"^\W*(?:overall\s+)?(?:quality\s+)?score[\s*_]*[:=][\s*_]*{_NUMBER}", re.IGNORECASE | re.MULTILINE)
_SCORE_LOOSE = re.compile(rf"\bscore\b(?:\s+(?:of|is|was|=|:))*\s*:?\s*{_NUMBER}", re.IGNORECASE)
_OUT_OF_4 = re.compile(rf"{_NUMBER}\s*(?:/|out\s+of)\s*4(?:\.0)?\b", re.IGNORECASE)
_CATEGORY_LINE = re.compile(r"^\W*category[\s*_]*[:=][\s*_]*([a-z]+)", re.IGNORECASE | re.MULTILINE)


def parse_score(text: str) -> Optional[float]:
    """The 0-4 score in ``text``: a ``Score: X.X`` line first, then 'score of X', then 'X/4' or 'X out of 4'.

    Returns None when there is none or it lies outside 0..4 (a sign the model ignored the scale).
    """
    for pattern in (_SCORE_LINE, _SCORE_LOOSE, _OUT_OF_4):
        match = pattern.search(text or "")
        if match:
            value = float(match.group(1).replace(",", "."))
            return value if SCORE_MIN <= value <= SCORE_MAX else None
    return None


def category_of(score: float) -> str:
    """Category word of a 0-4 score: the nearest integer's name (2.5 rounds up to good)."""
    index = int(min(max(score, SCORE_MIN), SCORE_MAX) + 0.5)
    return SCORE_SCALE[index][0]


def parse_category(text: str) -> Optional[str]:
    """The category word from a ``Category: word`` line, else the only category word in the text."""
    names = [name for name, _ in SCORE_SCALE]
    match = _CATEGORY_LINE.search(text or "")
    if match and match.group(1).lower() in names:
        return match.group(1).lower()
    found = {name for name in names if re.search(rf"\b{name}\b", text or "", re.IGNORECASE)}
    return found.pop() if len(found) == 1 else None


def needs_repeat(score: float) -> bool:
    """The recommendation rule every report states: repeat the acquisition at 1.0 or below."""
    return score <= REPEAT_ACQUISITION_AT_OR_BELOW

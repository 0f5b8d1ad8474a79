"""describe(): an Annotation in words (IQAGPT's score-to-text step), several phrasings per fact."""

from __future__ import annotations

import random
from typing import Any

from radscribe.ctiqa.annotation.protocol import ASPECTS, SEVERITIES
from radscribe.ctiqa.text.templates import (
    ABSENT_FORMS,
    ABSENT_NOUNS,
    ANATOMY_WORDS,
    CATEGORY_MEANING,
    DEFAULT_ANATOMY_WORDS,
    OVERALL_FORMS,
    PHRASES,
    SITE_PHRASES,
)


def _join_absent(items: list[str]) -> str:
    """"a", "a or b", "a, b or c" (the list follows a negation)."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _devices(sites: list[str]) -> str:
    names = [SITE_PHRASES.get(s, f"the {s}") for s in sites] or ["the implant"]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def format_score(score: float) -> str:
    """Scores are written with one decimal ("2.2", "4.0")."""
    return f"{float(score):.1f}"


def describe(annotation: Any, *, anatomy: str = "", seed: int = 0) -> str:
    """A quality caption for ``annotation``: present aspects worst first, the absent ones in one
    sentence, then the overall category and score and what the category means.

    Deterministic for a given ``seed``; different seeds pick different phrasings and
    anatomy wordings. Unknown anatomies get neutral wording.
    """
    rng = random.Random(int(seed))
    words = ANATOMY_WORDS.get(anatomy, DEFAULT_ANATOMY_WORDS)
    devices = _devices(list(getattr(annotation, "metal_sites", [])))

    def fill(phrase: str) -> str:  # fresh anatomy wording per sentence, so a caption does not repeat itself
        return phrase.format(dev=devices, **{key: rng.choice(options) for key, options in words.items()})

    aspects = annotation.aspects
    present = [a for a in ASPECTS if aspects[a] != "none"]
    present.sort(key=lambda a: -SEVERITIES.index(aspects[a]))  # stable: ties keep ASPECTS order
    sentences = [fill(rng.choice(PHRASES[a][aspects[a]])) for a in present]
    absent = [a for a in ASPECTS if aspects[a] == "none"]
    if absent:
        sentences.append(rng.choice(ABSENT_FORMS).format(list=_join_absent([ABSENT_NOUNS[a] for a in absent])))
    sentences.append(rng.choice(OVERALL_FORMS).format(cat=annotation.category, score=format_score(annotation.score)))
    sentences.append(rng.choice(CATEGORY_MEANING[annotation.category]))
    return " ".join(s[0].upper() + s[1:] for s in sentences)

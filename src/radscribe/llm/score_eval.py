"""How well does an LLM read the score from a quality caption? Category accuracy and MAE on CT-IQA captions.

Captions are made the way the CT-IQA dataset makes them: annotations from the annotation protocol
(:mod:`radscribe.ctiqa.annotation`: per-aspect burdens -> severities -> pooled 0-4 score) turned into
text by the CT-IQA templates (:func:`radscribe.ctiqa.text.describe`). These annotations are sampled
directly from the protocol, not measured on images: SYNTHETIC labels, stated in every output.

Two caption variants: ``full`` (with the "Overall quality: fair (score 2.2 of 4)" sentence, so the
task is reading) and ``aspects_only`` (that sentence removed, so the model must judge from the aspects).
"""

from __future__ import annotations

import random
import re
import statistics
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from radscribe.llm.base import ChatModel
from radscribe.llm.prompts import category_of, parse_category, parse_score, render

ANATOMIES = ("abdomen", "chest", "head", "pelvis")
# Each aspect is impaired with this chance (burden uniform 0.5-4), else nearly clean (burden 0-0.35):
# over many captions the categories bad..excellent all occur (counts are printed by the benchmark).
ASPECT_PRESENT_P = 0.25


@dataclass(frozen=True)
class CaptionExample:
    caption: str
    score: float
    category: str
    aspects: dict[str, str]


def sample_annotation(rng: random.Random):
    """An Annotation drawn from the protocol: each aspect impaired with probability 0.35, burden uniform 0-4."""
    from radscribe.ctiqa.annotation import ASPECTS, Annotation, category_of as ctiqa_category, score_from_burdens, severity_of

    burdens = {aspect: (rng.uniform(0.5, 4.0) if rng.random() < ASPECT_PRESENT_P else rng.uniform(0.0, 0.35))
               for aspect in ASPECTS}
    score = score_from_burdens(burdens)
    sites = ["left hip"] if burdens["metal"] >= 1.0 else []
    return Annotation(aspects={a: severity_of(u) for a, u in burdens.items()}, score=score,
                      category=ctiqa_category(score), metal_sites=sites)


def make_examples(n: int, seed: int = 0) -> list[CaptionExample]:
    """``n`` captions from protocol-sampled annotations and the CT-IQA templates (deterministic for a seed)."""
    from radscribe.ctiqa.text import describe

    rng = random.Random(seed)
    examples = []
    for index in range(n):
        annotation = sample_annotation(rng)
        caption = describe(annotation, anatomy=ANATOMIES[index % len(ANATOMIES)], seed=seed * 100_003 + index)
        examples.append(CaptionExample(caption, annotation.score, annotation.category, dict(annotation.aspects)))
    return examples


def _leaks_grade(sentence: str) -> bool:
    from radscribe.ctiqa.text.templates import CATEGORY_MEANING

    meanings = {m.lower() for forms in CATEGORY_MEANING.values() for m in forms}
    return bool(re.search(r"\d\s*(?:/|of|out of)\s*4", sentence)) or sentence.strip().lower() in meanings


def strip_overall(caption: str) -> str:
    """The caption without its score sentence and the category's meaning (only the aspects remain)."""
    sentences = re.split(r"(?<=\.)\s+", caption.strip())
    return " ".join(s for s in sentences if not _leaks_grade(s)).strip()


def llm_score(chat_model: ChatModel, caption: str, *, few_shot: bool, max_new_tokens: int = 16) -> tuple[Optional[float], Optional[str], str]:
    """(score, category, raw text) the LLM gives for a caption with the caption_to_score prompt."""
    text = chat_model.generate(render("caption_to_score", few_shot=few_shot, caption=caption), max_new_tokens=max_new_tokens).text
    score = parse_score(text)
    category = category_of(score) if score is not None else parse_category(text)
    return score, category, text


def metrics(truth: Sequence[CaptionExample], predicted: Sequence[tuple[Optional[float], Optional[str]]]) -> dict[str, Any]:
    """Category accuracy (a missing answer counts wrong), MAE over answered, and MAE with misses scored 2.0."""
    answered = [(t.score, p[0]) for t, p in zip(truth, predicted) if p[0] is not None]
    exact = sum(1 for t, p in zip(truth, predicted) if p[1] == t.category)
    imputed = [abs(t.score - (p[0] if p[0] is not None else 2.0)) for t, p in zip(truth, predicted)]
    return {
        "n": len(truth),
        "category_accuracy": exact / len(truth) if truth else None,
        "answered_rate": len(answered) / len(truth) if truth else None,
        "mae_answered": statistics.fmean(abs(a - b) for a, b in answered) if answered else None,
        "mae_missing_as_2": statistics.fmean(imputed) if imputed else None,
    }


def evaluate(scorer: Callable[[str], tuple[Optional[float], Optional[str]]], examples: Sequence[CaptionExample],
             *, variant: str = "full") -> dict[str, Any]:
    """Run ``scorer(caption) -> (score, category)`` over examples (``variant`` full or aspects_only)."""
    predicted = [scorer(e.caption if variant == "full" else strip_overall(e.caption)) for e in examples]
    return metrics(examples, predicted) | {"variant": variant, "synthetic": True,
                                           "predictions": [[p[0], p[1]] for p in predicted],
                                           "truth": [[e.score, e.category] for e in examples]}

"""Three ways to turn the captioner's output into a 0-4 quality score.

* ``parse`` - read the number (else the category word) back out of the written caption with the
  caption grammar's own parser, ``radscribe.ctiqa.text.parse_caption``.
* ``llm`` - IQAGPT's way: give the caption to the chat LLM (prompt ``caption_to_score``) and parse its
  ``Score:`` line. Slow on CPU; the benchmark runs it on a subset.
* ``expected`` - Q-Align-style: at the position where the decoder writes the category word, take its
  probabilities over the five category words and return ``sum_k p_k * k`` (bad = 0 ... excellent = 4).
  ``expected_number`` does the same over the score-number tokens (0.0, 0.2, ... 4.0) where it writes the score.
"""

from __future__ import annotations

import logging
import re
from typing import Sequence

import torch

from radscribe.iqagpt.data import ASPECTS, CATEGORIES, category_of_score
from radscribe.iqagpt.decode import ScoreEnding
from radscribe.iqagpt.tokenizer import WordTokenizer, split_words

log = logging.getLogger(__name__)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def parse_caption_fields(caption: str) -> dict:
    """{'score', 'category', 'aspects'} from a caption; missing parts are None (never raises)."""
    from radscribe.ctiqa.text import parse_caption  # the caption grammar's owner

    try:
        parsed = parse_caption(caption)
    except Exception as error:  # model output can be anything; a parse failure is a missing score, not a crash
        log.debug("caption not parsed (%s): %r", error, caption)
        return {"score": None, "category": None, "aspects": {a: None for a in ASPECTS}}
    aspects = dict(getattr(parsed, "aspects", None) or {})
    return {"score": getattr(parsed, "score", None), "category": getattr(parsed, "category", None),
            "aspects": {a: aspects.get(a) for a in ASPECTS}}


def score_from_parse(fields: dict) -> float | None:
    if fields.get("score") is not None:
        return float(fields["score"])
    if fields.get("category") in CATEGORIES:
        return float(CATEGORIES.index(fields["category"]))
    return None


def score_number_tokens(tokenizer: WordTokenizer) -> tuple[list[int], torch.Tensor]:
    """Ids and values of the words that write a score (0.0, 0.2, ... 4.0)."""
    numbers = [(i, float(w)) for i, w in enumerate(tokenizer.words) if _NUMBER.match(w) and 0.0 <= float(w) <= 4.0
               and ("." in w)]  # "2.2" is a score; bare "4" is the scale's end ("of 4")
    return [i for i, _ in numbers], torch.tensor([v for _, v in numbers], dtype=torch.float32)


def gaussian_rows(centres: torch.Tensor, values: torch.Tensor, sigma: float) -> torch.Tensor:
    """(len(centres), len(values)): for each centre, a Gaussian of SD ``sigma`` over ``values``, summing to 1.

    The ordinal score target: the captioner's score word (``TrainConfig.score_sigma``) and the ordinal
    classification baseline learn these rows instead of one-hot ones."""
    spread = torch.exp(-0.5 * ((values[None, :] - centres[:, None]) / sigma) ** 2)
    return spread / spread.sum(1, keepdim=True)


def score_ending(tokenizer: WordTokenizer) -> ScoreEnding | None:
    """What :func:`radscribe.iqagpt.decode.finish_with_score` needs; None if the vocabulary cannot say it."""
    prefix = split_words("Overall image quality is")  # one of the score sentences every model learnt
    ids, _ = score_number_tokens(tokenizer)
    if not ids or "." not in tokenizer.index or any(w not in tokenizer.index for w in prefix):
        return None
    return ScoreEnding(score_ids=ids, prefix=[tokenizer.index[w] for w in prefix], stop=tokenizer.index["."])


class ExpectedScore:
    """Q-Align-style read-out from a :class:`radscribe.iqagpt.decode.Generated` batch."""

    def __init__(self, tokenizer: WordTokenizer):
        self.category_ids = [tokenizer.index.get(w, -1) for w in CATEGORIES]
        self.number_ids, self.number_values = score_number_tokens(tokenizer)

    def _expect(self, probs: torch.Tensor, tokens: torch.Tensor, ids: list[int], values: torch.Tensor) -> list[float | None]:
        """For each row: at the first generated position whose token is in ``ids``, renormalise p over ``ids``."""
        valid = [i for i in ids if i >= 0]
        if not valid:
            return [None] * tokens.shape[0]
        keep = torch.tensor([i >= 0 for i in ids])
        ids_t = torch.tensor(valid)
        vals = values[keep]
        written = tokens[:, 1:]
        out: list[float | None] = []
        for row in range(tokens.shape[0]):
            hits = torch.isin(written[row], ids_t).nonzero()
            if len(hits) == 0:
                out.append(None)
                continue
            p = probs[row, int(hits[0])][ids_t]
            p = p / p.sum().clamp_min(1e-12)
            out.append(float((p * vals).sum()))
        return out

    def category(self, probs: torch.Tensor, tokens: torch.Tensor) -> list[float | None]:
        return self._expect(probs, tokens, self.category_ids, torch.arange(len(CATEGORIES), dtype=torch.float32))

    def number(self, probs: torch.Tensor, tokens: torch.Tensor) -> list[float | None]:
        return self._expect(probs, tokens, self.number_ids, self.number_values)


def llm_scores(captions: Sequence[str], chat_model=None, max_new_tokens: int = 24) -> list[float | None]:
    """IQAGPT's LLM step: one ``caption_to_score`` prompt per caption, its ``Score:`` parsed (None if unusable)."""
    from radscribe.llm.prompts import parse_category, parse_score, render

    if chat_model is None:
        from radscribe.llm.config import resolve_llm_config
        from radscribe.llm.registry import load_chat_model

        chat_model = load_chat_model(resolve_llm_config().config)
    scores: list[float | None] = []
    for caption in captions:
        reply = chat_model.generate(render("caption_to_score", caption=caption), max_new_tokens=max_new_tokens)
        text = getattr(reply, "text", reply)
        score = parse_score(str(text))
        if score is None:
            category = parse_category(str(text))
            score = float(CATEGORIES.index(category)) if category in CATEGORIES else None
        scores.append(score)
    return scores


SCORE_METHODS = ("parse", "number", "expected")


def final_score(candidates: dict[str, float | None], method: str) -> float | None:
    """The score a user sees: ``candidates[method]``, else the first other read-out that exists, clipped to 0-4."""
    order = [method] + [m for m in SCORE_METHODS if m != method]
    for name in order:
        value = candidates.get(name)
        if value is not None:
            return round(min(4.0, max(0.0, float(value))), 2)
    return None


__all__ = ["ExpectedScore", "score_number_tokens", "gaussian_rows", "score_ending", "parse_caption_fields", "score_from_parse", "llm_scores", "final_score", "category_of_score"]

"""The score-accuracy harness: captions from the CT-IQA templates, the aspects-only variant, and the metrics."""

from __future__ import annotations

import re

import pytest

from radscribe.ctiqa.text import parse_caption
from radscribe.llm.score_eval import CaptionExample, evaluate, make_examples, metrics, strip_overall


def test_examples_are_deterministic_and_span_the_categories():
    examples = make_examples(120, seed=2)
    assert examples == make_examples(120, seed=2) and examples[:40] == make_examples(40, seed=2)
    assert {e.category for e in examples} == {"bad", "poor", "fair", "good", "excellent"}
    assert all(parse_caption(e.caption).score == pytest.approx(e.score) for e in examples)


def test_aspects_only_variant_hides_score_and_category():
    for example in make_examples(60, seed=3):
        stripped = strip_overall(example.caption)
        assert parse_caption(stripped).score is None
        assert not re.search(r"\b(bad|poor|fair|good|excellent|diagnos\w*|interpretation)\b", stripped, re.IGNORECASE), stripped
        assert parse_caption(stripped).aspects == example.aspects  # the aspects are all still there


def test_metrics_count_misses_as_wrong():
    truth = [CaptionExample("a", 2.2, "fair", {}), CaptionExample("b", 3.6, "excellent", {}), CaptionExample("c", 0.4, "bad", {})]
    result = metrics(truth, [(2.0, "fair"), (None, None), (1.4, "poor")])
    assert result["category_accuracy"] == pytest.approx(1 / 3) and result["answered_rate"] == pytest.approx(2 / 3)
    assert result["mae_answered"] == pytest.approx((0.2 + 1.0) / 2)
    assert result["mae_missing_as_2"] == pytest.approx((0.2 + 1.6 + 1.0) / 3)


def test_a_perfect_reader_scores_perfectly():
    examples = make_examples(30, seed=4)
    run = evaluate(lambda caption: (parse_caption(caption).score, parse_caption(caption).category), examples)
    assert run["category_accuracy"] == 1.0 and run["mae_answered"] == 0.0 and run["synthetic"] is True

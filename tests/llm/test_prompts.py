"""Prompt templates and the parsers for what the LLM answers."""

from __future__ import annotations

import pytest

from radscribe.llm import LLMRequestError
from radscribe.llm.prompts import (
    PROMPTS_VERSION, SCORE_SCALE, TEMPLATES, category_of, needs_repeat, parse_category, parse_score, render,
)


@pytest.mark.parametrize("text, expected", [
    ("Score: 3.2\nCategory: good", 3.2),
    ("**Score:** 1.6", 1.6),
    ("- Overall score: 2,4", 2.4),
    ("Quality score = 0.4", 0.4),
    ("The overall quality score is 2.8.", 2.8),
    ("I would rate it 3.5/4", 3.5),
    ("It deserves 3 out of 4.", 3.0),
    ("Findings: mild noise.\nScore: 4.0\nRecommendation: none", 4.0),
    ("score of 7", None),  # outside the 0-4 scale: the model ignored it
    ("Score: -1", None),
    ("no number here", None),
    ("", None),
])
def test_parse_score(text, expected):
    assert parse_score(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Score: 3.2\nCategory: Good", "good"),
    ("**Category:** poor", "poor"),
    ("The image is of fair quality.", "fair"),
    ("Somewhere between poor and fair.", None),  # ambiguous
    ("Category: great", None),
])
def test_parse_category(text, expected):
    assert parse_category(text) == expected


@pytest.mark.parametrize("score, expected", [(0.0, "bad"), (0.49, "bad"), (0.5, "poor"), (2.4, "fair"),
                                             (2.5, "good"), (4.0, "excellent"), (9.0, "excellent")])
def test_category_of(score, expected):
    assert category_of(score) == expected


def test_repeat_rule_at_one_or_below():
    assert needs_repeat(1.0) and needs_repeat(0.2) and not needs_repeat(1.2)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_renders_with_its_fields(name):
    template = TEMPLATES[name]
    values = {field: f"<{field}>" for field in template.fields}
    messages = render(name, **values)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert all(f"<{field}>" in messages[-1]["content"] for field in template.fields)
    assert template.output_format in messages[0]["content"]
    few = render(name, few_shot=True, **values)
    assert len(few) == 2 + 2 * len(template.examples)
    for _, answer in template.examples:  # examples must obey the format we parse
        assert parse_score(answer) is not None


def test_render_refuses_missing_fields_and_unknown_names():
    with pytest.raises(LLMRequestError, match="needs caption"):
        render("caption_to_score")
    with pytest.raises(LLMRequestError, match="unknown prompt"):
        render("nope", caption="x")


def test_scale_and_version():
    assert PROMPTS_VERSION and len(SCORE_SCALE) == 5
    assert [name for name, _ in SCORE_SCALE] == ["bad", "poor", "fair", "good", "excellent"]

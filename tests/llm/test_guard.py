"""The hallucination guard: the caption's score and findings win over the LLM's."""

from __future__ import annotations

import pytest

from radscribe.llm.guard import (
    FLAG_FINDING, FLAG_NO_SCORE, FLAG_SCORE, asks_for_score, check_answer, parse_caption_facts, unsupported_findings,
)

CAPTION = ("Moderate noise throughout the abdomen; mild streaks across the liver; no metal, no motion, no rings. "
           "Overall quality: fair (score 2.2 of 4).")


def test_caption_facts_are_read():
    facts = parse_caption_facts(CAPTION)
    assert facts.score == pytest.approx(2.2) and facts.category == "fair"
    assert facts.aspects["noise"] == "moderate" and facts.aspects["streaks"] == "mild"
    assert facts.aspects["metal"] in (None, "none")
    assert "metal" not in facts.present() and {"noise", "streaks"} <= facts.present()


@pytest.mark.parametrize("answer, disagrees", [
    ("Score: 3.5\nThe image is good.", True),     # off by 1.3
    ("Score: 2.8", True),                         # off by 0.6 > 0.5
    ("Score: 2.6", False),                        # within 0.5
    ("It rates 2.0 out of 4.", False),
    ("The score is 0.4", True),
])
def test_score_disagreement_is_flagged_and_caption_wins(answer, disagrees):
    result = check_answer(answer, CAPTION)
    assert result.score == pytest.approx(2.2) and result.category == "fair"
    assert (FLAG_SCORE in result.flags) is disagrees
    if disagrees:
        assert "disagrees" in result.answer and "2.2 of 4 (fair)" in result.answer
    else:
        assert result.answer == answer.strip()


def test_missing_score_is_added_when_asked():
    result = check_answer("The image has some noise but is readable.", CAPTION, wants_score=True)
    assert FLAG_NO_SCORE in result.flags and result.answer.endswith("Score: 2.2 of 4 (fair), from the quality description.")
    assert FLAG_NO_SCORE not in check_answer("It is readable.", CAPTION, wants_score=False).flags


def test_invented_findings_are_flagged_but_negated_ones_are_not():
    result = check_answer("Metal streaks from a hip prosthesis obscure the pelvis. Score: 2.2", CAPTION)
    assert result.flags == [FLAG_FINDING] and result.unsupported_findings == ["metal"]
    assert "does not report metal" in result.answer
    assert unsupported_findings("There is no metal and no motion. Noise is moderate.", parse_caption_facts(CAPTION)) == []
    assert unsupported_findings("Ring artifacts and motion blurring are visible.", parse_caption_facts(CAPTION)) == [
        "motion", "ring", "blur"]


def test_caption_without_score_never_crashes():
    result = check_answer("Score: 3.0", "Some text from another captioner.")
    assert result.score is None and "caption_without_score" in result.flags and FLAG_SCORE not in result.flags


def test_asks_for_score():
    assert asks_for_score("How good is this image? Give a score.")
    assert not asks_for_score("Is there metal in the hip?")


def test_tidy_answer_drops_loops_and_a_cut_tail():
    from radscribe.llm.guard import tidy_answer

    looped = "The image is noisy. It is readable. The image is noisy. It is readable. The image is"
    assert tidy_answer(looped, truncated=True) == "The image is noisy. It is readable."
    assert tidy_answer("Score: 2.2", truncated=True) == "Score: 2.2"  # a single fragment is kept

"""`radscribe ask`: caption -> embedded LLM -> checked answer, through the real CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from radscribe.cli.main import app
from radscribe.llm.ask import ask_about_caption

runner = CliRunner()
ENV = {"RADSCRIBE_LLM_BACKEND": "embedded", "RADSCRIBE_LLM_THREADS": "1"}
CAPTION = "Moderate noise throughout the abdomen; no streaks, no metal. Overall quality: fair (score 2.2 of 4)."


def test_ask_with_caption_json(embedded_model):
    result = runner.invoke(app, ["ask", "--caption", CAPTION, "How good is this image? Give a score.", "--json",
                                 "--max-new-tokens", "40"], env=ENV)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert {"answer", "score", "caption", "backend", "flags"} <= set(answer)
    assert answer["score"] == pytest.approx(2.2) and answer["category"] == "fair"
    assert answer["caption"] == CAPTION and answer["backend"] == "embedded" and answer["answer"].strip()
    # Whatever the small model said, a score that is off by more than 0.5 is flagged and corrected.
    if answer["llm_score"] is not None and abs(answer["llm_score"] - 2.2) > 0.5:
        assert "llm_score_disagrees" in answer["flags"] and "2.2 of 4" in answer["answer"]


def test_ask_library_is_deterministic(embedded_model):
    first = ask_about_caption(embedded_model, CAPTION, "Is there metal?", max_new_tokens=24)
    second = ask_about_caption(embedded_model, CAPTION, "Is there metal?", max_new_tokens=24)
    assert first == second and first["model"] == "smollm2-135m-instruct"


def test_ask_needs_an_image_or_a_caption():
    result = runner.invoke(app, ["ask"], env=ENV)
    assert result.exit_code == 2 and "give an IMAGE or --caption" in result.output


def test_ask_on_a_missing_image_fails_in_one_line(tmp_path):
    result = runner.invoke(app, ["ask", str(tmp_path / "nope.dcm"), "How good?"], env=ENV)
    assert result.exit_code == 2 and "nope.dcm" in result.output and "Traceback" not in result.output

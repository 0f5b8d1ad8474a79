"""Prompt format and label answers."""

import random

from radscribe.cxr.labeler import label_report
from radscribe.xraygpt.conversation import (
    LABEL_QUESTIONS, NORMALITY_INSTRUCTION, SUMMARY_INSTRUCTIONS, SYSTEM_PROMPT, Turn, build_prompt, label_answer,
    normality_answer, sample_instruction_pair,
)


def test_prompt_format_matches_xraygpt():
    prompt = build_prompt([Turn("Describe it.", "Clear lungs."), Turn("Any effusion?")])
    assert prompt == SYSTEM_PROMPT + "###Patient: Describe it. ###Doctor: Clear lungs.######Patient: Any effusion? ###Doctor:"
    assert len(SUMMARY_INSTRUCTIONS) == 15


def test_label_answers_read_back_through_the_labeler():
    """The answer to each question must say the same thing to the labeler as the label it came from."""
    for name in LABEL_QUESTIONS:
        assert label_report(label_answer(name, 1)).get(name) == 1, name
        assert label_report(label_answer(name, 0)).get(name) == 0, name


def test_normality_answer():
    assert normality_answer({"No Finding": 1}).startswith("The overall impression is normal")
    assert label_report(normality_answer({"Cardiomegaly": 1, "Edema": -1})) == {"Cardiomegaly": 1, "Edema": -1}
    assert normality_answer({"Cardiomegaly": 1}).startswith("The overall impression is abnormal")


def test_sampled_pairs_cover_summaries_and_questions():
    rng = random.Random(0)
    turns = [sample_instruction_pair("SUMMARY", {"Pleural Effusion": 1}, rng) for _ in range(300)]
    questions = {t.question for t in turns}
    assert any(t.answer == "SUMMARY" for t in turns)
    assert LABEL_QUESTIONS["Pleural Effusion"] in questions and NORMALITY_INSTRUCTION in questions
    effusion = [t for t in turns if t.question == LABEL_QUESTIONS["Pleural Effusion"]]
    assert all(t.answer.startswith("Yes") for t in effusion)


def test_uncertain_answers_read_back_as_uncertain():
    for name in LABEL_QUESTIONS:
        assert label_report(label_answer(name, -1)).get(name) == -1, name

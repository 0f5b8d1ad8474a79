"""XrayGPT's prompt format, its instruction list and our label questions: the one place prompts live.

Stage 1 has no prompt (image tokens, then the summary). Stage 2 and chat use
``###Patient: {instruction} ###Doctor: {answer}###`` with the image tokens placed before
the first ``###Patient:``. Label questions ("Is there a pleural effusion?") are answered
from the report's CheXpert labels, so the model learns yes/no answers grounded in findings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from radscribe.cxr.labeler import NO_FINDING, OBSERVATIONS

SYSTEM_PROMPT = (
    "You are an experienced doctor. You are given a chest x-ray. "
    "Answer the patient's questions about it. "
)
PATIENT = "###Patient: "
DOCTOR = " ###Doctor:"  # the answer starts with a space: " {answer}###"
END = "###"

# XrayGPT-like instructions (the paper lists 15; these are our own words in the same spirit).
SUMMARY_INSTRUCTIONS: tuple[str, ...] = (
    "Describe the given chest x-ray image in detail.",
    "Take a look at this chest x-ray and describe the findings and impression.",
    "What are the key findings in this chest x-ray image?",
    "Could you provide a detailed description of the given x-ray image?",
    "Describe the given chest x-ray image as detailed as possible.",
    "Please summarize the findings of this chest radiograph.",
    "What does this chest x-ray show?",
    "Write a short radiology summary of this image.",
    "Can you describe the findings and impression of this x-ray?",
    "Provide a concise report of this chest x-ray.",
    "What do you see in this chest radiograph?",
    "Give me the findings and your overall impression of this x-ray.",
    "Analyse this chest x-ray and tell me what you find.",
    "Is there anything abnormal in this chest x-ray? Describe it.",
    "Please write the summary of this chest x-ray report.",
)
NORMALITY_INSTRUCTION = (
    "Is the overall impression provided by this chest x-ray image normal or abnormal? "
    "Answer based on the observed findings."
)

# One plain-words question per observation; "No Finding" is asked through the normality question.
LABEL_QUESTIONS: dict[str, str] = {
    "Enlarged Cardiomediastinum": "Is the cardiomediastinal silhouette enlarged?",
    "Cardiomegaly": "Is the heart enlarged?",
    "Lung Lesion": "Is there a lung nodule or mass?",
    "Lung Opacity": "Is there an opacity in the lungs?",
    "Edema": "Is there pulmonary edema?",
    "Consolidation": "Is there a consolidation?",
    "Pneumonia": "Is there pneumonia?",
    "Atelectasis": "Is there atelectasis?",
    "Pneumothorax": "Is there a pneumothorax?",
    "Pleural Effusion": "Is there a pleural effusion?",
    "Pleural Other": "Is there pleural thickening or another pleural abnormality?",
    "Fracture": "Is there a fracture?",
    "Support Devices": "Are there any tubes, lines or other devices?",
}
# What each observation is called in an answer; chosen so the labeler reads the answer back as the label.
FINDING_NOUNS: dict[str, str] = {
    "Enlarged Cardiomediastinum": "an enlarged cardiomediastinal silhouette",
    "Cardiomegaly": "cardiomegaly",
    "Lung Lesion": "a lung nodule or mass",
    "Lung Opacity": "an opacity in the lungs",
    "Edema": "pulmonary edema",
    "Consolidation": "a consolidation",
    "Pneumonia": "pneumonia",
    "Atelectasis": "atelectasis",
    "Pneumothorax": "a pneumothorax",
    "Pleural Effusion": "a pleural effusion",
    "Pleural Other": "pleural thickening",
    "Fracture": "a fracture",
    "Support Devices": "a support device (tube, line or pacemaker)",
}
assert set(LABEL_QUESTIONS) == set(FINDING_NOUNS) == set(OBSERVATIONS) - {NO_FINDING}


@dataclass(frozen=True)
class Turn:
    """One question and (when known) its answer."""

    question: str
    answer: str | None = None


def build_prompt(history: Sequence[Turn], system: str = SYSTEM_PROMPT) -> str:
    """Text that follows the image tokens: the system line, past turns, then ``###Doctor:`` for the new answer.

    The last turn's answer must be None (it is what the model writes next).
    """
    parts = [system]
    for turn in history[:-1]:
        parts.append(f"{PATIENT}{turn.question}{DOCTOR} {turn.answer}{END}")
    parts.append(f"{PATIENT}{history[-1].question}{DOCTOR}")
    return "".join(parts)


def label_answer(observation: str, value: int | None) -> str:
    """The answer to a label question from a CheXpert value (1 yes, -1 maybe, 0 or unmentioned no)."""
    noun = FINDING_NOUNS[observation]
    if value == 1:
        return f"Yes, there is {noun}."
    if value == -1:
        return f"Possibly; there may be {noun}."
    return f"No, there is no {noun}."


def normality_answer(labels: dict[str, int]) -> str:
    """Normal when no observation other than 'No Finding'/'Support Devices' is positive or uncertain."""
    skip = (NO_FINDING, "Support Devices")
    present = [FINDING_NOUNS[n] for n, v in labels.items() if v == 1 and n not in skip]
    possible = [FINDING_NOUNS[n] for n, v in labels.items() if v == -1 and n not in skip]
    if not present and not possible:
        return "The overall impression is normal; there is no acute cardiopulmonary abnormality."
    parts = (["there is " + ", ".join(present)] if present else []) + \
            (["there may be " + ", ".join(possible)] if possible else [])
    return "The overall impression is abnormal: " + "; ".join(parts) + "."


def sample_instruction_pair(summary: str, labels: dict[str, int], rng: random.Random,
                            p_label: float = 0.35) -> Turn:
    """One stage-2 training turn: a summary instruction (most of the time) or a label/normality question.

    Label questions are drawn half from the report's positive observations, half at random, so
    'yes' answers are not drowned by 'no'.
    """
    if rng.random() >= p_label:
        return Turn(rng.choice(SUMMARY_INSTRUCTIONS), summary)
    if rng.random() < 0.2:
        return Turn(NORMALITY_INSTRUCTION, normality_answer(labels))
    positives = [name for name, value in labels.items() if value in (1, -1) and name in LABEL_QUESTIONS]
    if positives and rng.random() < 0.5:
        name = rng.choice(positives)
    else:
        name = rng.choice(sorted(LABEL_QUESTIONS))
    return Turn(LABEL_QUESTIONS[name], label_answer(name, labels.get(name)))

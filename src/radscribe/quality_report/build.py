"""A radiological image-quality report per CT study, from per-slice captions.

The structured parts (per-aspect findings, overall score and category, recommendation) come from the
captions alone, by fixed rules; the LLM only writes a short narrative from the captions, and that
narrative passes the hallucination guard. The LLM can never change a score or a finding.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from radscribe.llm.base import ChatModel
from radscribe.llm.guard import ASPECTS, SEVERITIES, CaptionFacts, check_answer, parse_caption_facts, tidy_answer
from radscribe.llm.prompts import PROMPTS_VERSION, REPEAT_ACQUISITION_AT_OR_BELOW, category_of, render

NARRATIVE_MAX_NEW_TOKENS = 180
NARRATIVE_CAPTIONS = 3  # worst, median and best slice: a 135M model loses the thread on longer inputs

RECOMMENDATIONS = {
    "repeat": "Repeat acquisition advised: diagnostic interpretation is not possible at this quality.",
    "limited": "Limited interpretation: suitable for limited clinical interpretation only; consider a repeat "
               "acquisition if the clinical question depends on fine detail.",
    "diagnostic": "Suitable for diagnostic interpretation; no repeat acquisition needed.",
}


def recommendation(score: float) -> tuple[str, str]:
    """(key, sentence) for a 0-4 score: repeat at <= 1.0, limited below good (fair), else diagnostic."""
    if score <= REPEAT_ACQUISITION_AT_OR_BELOW:
        return "repeat", RECOMMENDATIONS["repeat"]
    if category_of(score) in ("poor", "fair"):
        return "limited", RECOMMENDATIONS["limited"]
    return "diagnostic", RECOMMENDATIONS["diagnostic"]


@dataclass
class SliceQuality:
    """One slice: where it came from, its caption and what the caption states."""

    label: str
    caption: str
    facts: CaptionFacts
    study_uid: Optional[str] = None
    series_uid: Optional[str] = None
    position: Optional[float] = None


@dataclass
class StudyReport:
    """Everything a report shows. ``narrative`` is the LLM's; every other field is derived from captions."""

    study_uid: str
    slices: list[SliceQuality]
    score: Optional[float]
    worst_score: Optional[float]
    category: Optional[str]
    aspects: dict[str, dict[str, Any]]  # aspect -> {"worst": severity, "slices": n with it present}
    recommendation_key: Optional[str]
    recommendation: str
    narrative: str = ""
    narrative_flags: list[str] = field(default_factory=list)
    llm: str = ""
    prompts_version: str = PROMPTS_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "study_uid": self.study_uid, "score": self.score, "worst_score": self.worst_score, "category": self.category,
            "aspects": self.aspects, "recommendation": self.recommendation, "recommendation_key": self.recommendation_key,
            "narrative": self.narrative, "narrative_flags": self.narrative_flags, "llm": self.llm,
            "prompts_version": self.prompts_version,
            "slices": [{"label": s.label, "caption": s.caption, "score": s.facts.score, "category": s.facts.category,
                        "aspects": s.facts.aspects} for s in self.slices],
        }


def group_by_study(slices: Sequence[SliceQuality]) -> dict[str, list[SliceQuality]]:
    """Slices keyed by StudyInstanceUID; a slice without one is its own study, named by its file."""
    studies: dict[str, list[SliceQuality]] = {}
    for item in slices:
        key = item.study_uid or f"file:{item.label.split('#')[0]}"
        studies.setdefault(key, []).append(item)
    for members in studies.values():
        members.sort(key=lambda s: (s.series_uid or "", s.position if s.position is not None else 0.0, s.label))
    return studies


def summarise_aspects(slices: Sequence[SliceQuality]) -> dict[str, dict[str, Any]]:
    """Per aspect: the worst severity stated on any slice and on how many slices it is present."""
    summary = {}
    for aspect in ASPECTS:
        stated = [s.facts.aspects.get(aspect) for s in slices if s.facts.aspects.get(aspect) is not None]
        worst = max(stated, key=SEVERITIES.index) if stated else None
        present = sum(1 for severity in stated if severity != "none")
        summary[aspect] = {"worst": worst, "slices": present}
    return summary


def build_study(study_uid: str, slices: Sequence[SliceQuality]) -> StudyReport:
    """The structured report of one study (no LLM): mean slice score, worst slice, aspects, recommendation."""
    scores = [s.facts.score for s in slices if s.facts.score is not None]
    if not scores:
        return StudyReport(study_uid, list(slices), None, None, None, summarise_aspects(slices), None,
                           "No score could be read from the captions; the quality could not be graded.")
    score = round(statistics.fmean(scores), 2)
    key, sentence = recommendation(score)
    return StudyReport(study_uid, list(slices), score, min(scores), category_of(score), summarise_aspects(slices), key, sentence)


def _narrative_captions(report: StudyReport) -> list[str]:
    scored = sorted((s for s in report.slices if s.facts.score is not None), key=lambda s: s.facts.score)
    if len(scored) <= NARRATIVE_CAPTIONS:
        return [s.caption for s in scored] or [s.caption for s in report.slices[:NARRATIVE_CAPTIONS]]
    picks = [scored[0], scored[len(scored) // 2], scored[-1]]
    return [s.caption for s in picks]


def add_narrative(report: StudyReport, chat_model: ChatModel, *, max_new_tokens: int = NARRATIVE_MAX_NEW_TOKENS) -> StudyReport:
    """Let the LLM write the narrative from the captions, then check it against them (flags are kept)."""
    captions = _narrative_captions(report)
    joined = "\n".join(f"- {caption.strip()}" for caption in captions)
    messages = render("captions_to_narrative", captions=joined,
                      score=f"{report.score:.1f}" if report.score is not None else "unknown",
                      category=report.category or "ungraded")
    completion = chat_model.generate(messages, max_new_tokens=max_new_tokens)
    # Check against all slices' captions: a finding on any slice is supported.
    text = tidy_answer(completion.text, truncated=completion.finish_reason == "length")
    checked = check_answer(text, " ".join(s.caption for s in report.slices), facts=_study_facts(report))
    report.narrative, report.narrative_flags = checked.answer, checked.flags
    report.llm = f"{chat_model.backend}:{chat_model.name}"
    return report


def _study_facts(report: StudyReport) -> CaptionFacts:
    aspects = {name: info["worst"] for name, info in report.aspects.items()}
    return CaptionFacts(aspects, report.score, report.category, "study")


def slices_from_assessments(assessments: Sequence[dict[str, Any]]) -> list[SliceQuality]:
    """SliceQuality from dicts with ``label`` and ``caption`` (and optionally study_uid, series_uid, position)."""
    return [SliceQuality(a["label"], a["caption"], parse_caption_facts(a["caption"]), a.get("study_uid"),
                         a.get("series_uid"), a.get("position")) for a in assessments]


def build_reports(assessments: Sequence[dict[str, Any]], chat_model: ChatModel | None = None) -> list[StudyReport]:
    """One StudyReport per study; with a chat model each gets a checked narrative."""
    reports = []
    for study_uid, members in group_by_study(slices_from_assessments(assessments)).items():
        report = build_study(study_uid, members)
        if chat_model is not None:
            add_narrative(report, chat_model)
        reports.append(report)
    return reports

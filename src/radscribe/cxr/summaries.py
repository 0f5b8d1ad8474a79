"""Report -> summary, XrayGPT's preprocessing as a deterministic rule pipeline (an LLM rewrite is optional).

XrayGPT kept reports with findings of at least 10 words and an impression of at
least 2 words, then had an LLM remove comparisons with prior studies,
de-identification blanks and view mentions, and merge findings and impression
into one summary. Here the same steps are rules (:mod:`radscribe.cxr.report_cleanup`);
findings come first, then what the impression adds, introduced by "Overall,",
with statements the findings already made left out.

>>> result = summarize_report(report)
>>> result.summary if result.kept else result.dropped
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from radscribe.cxr.labeler import label_report, label_sentence
from radscribe.cxr.report_cleanup import remove_comparisons, remove_views, repair_deid, tidy
from radscribe.cxr.reports import Report

log = logging.getLogger(__name__)

RewriteFn = Callable[[str], str]

# Why a report produced no summary; the CLI counts these.
DROP_REASONS = ("no_findings", "no_impression", "short_findings", "short_impression", "empty_after_cleaning",
                "empty_rewrite", "rewrite_failed")

REWRITE_PROMPT = (
    "Rewrite this chest radiograph report as one short summary for a patient-facing assistant. "
    "Remove any comparison with prior studies, remove de-identification blanks (XXXX), do not mention "
    "the views taken, and merge the findings and the impression without repeating a statement. "
    "Keep every finding, its side and its size. Answer with the summary only.\n\n"
    "FINDINGS: {findings}\nIMPRESSION: {impression}\n"
)


@dataclass(frozen=True)
class SummaryConfig:
    """Thresholds and steps of the summary pipeline; defaults follow XrayGPT."""

    min_findings_words: int = 10
    min_impression_words: int = 2
    remove_comparisons: bool = True
    remove_deid: bool = True
    remove_views: bool = True
    remove_recommendations: bool = True  # "Follow-up CT is recommended" says nothing about the image
    impression_prefix: str = "Overall, "


@dataclass(frozen=True)
class SummaryResult:
    """The summary of one report, or the reason it was dropped."""

    report: Report
    summary: str | None
    dropped: str | None = None
    method: str = "rules"

    @property
    def kept(self) -> bool:
        return self.summary is not None

    def to_record(self) -> dict:
        """One JSON Lines record: real report text (not synthetic), the summary and its labels."""
        return {
            "report_id": self.report.report_id,
            "source": self.report.source,
            "image_ids": list(self.report.image_ids),
            "findings": self.report.findings,
            "impression": self.report.impression,
            "summary": self.summary,
            "labels": label_report(self.summary or ""),
            "method": self.method,
            "synthetic": False,
        }


def word_count(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9][\w'-]*", text))


def filter_reason(report: Report, config: SummaryConfig = SummaryConfig()) -> str | None:
    """XrayGPT's report filter: the reason to drop ``report``, or ``None`` to keep it."""
    if not report.findings:
        return "no_findings"
    if not report.impression:
        return "no_impression"
    if word_count(report.findings) < config.min_findings_words:
        return "short_findings"
    if word_count(report.impression) < config.min_impression_words:
        return "short_impression"
    return None


_EMBEDDED_HEADER = re.compile(r"\s(?:IMPRESSION|FINDINGS|EXAM|COMPARISON|HISTORY|INDICATION|TECHNIQUE)\s*:", re.I)
_COMMUNICATION = re.compile(r"\b(?:discussed with|notified|communicated|called to|telephone|paged|were discussed|was discussed)\b", re.I)
_RECOMMENDATION = re.compile(
    r"\b(?:recommend\w*|(?:is|are|be) (?:suggested|advised|warranted)|would be (?:helpful|useful|of benefit)|"
    r"would benefit|further (?:evaluation|assessment|characterization)|if clinically indicated|clinical correlation|"
    r"correlate (?:clinically|with)|suggest reference|if there is clinical concern|"
    r"(?:if |when )?(?:clinically )?warranted(?: clinically)?|follow-?up (?:is|with|in|imaging|ct|radiograph)|consider\w*)\b",
    re.I,
)


def split_report_sentences(text: str) -> list[str]:
    """Sentences of raw report text, case kept; a second report pasted after a header is cut off."""
    header = _EMBEDDED_HEADER.search(text)
    text = text[:header.start()] if header else text
    text = re.sub(r"^\s*(?:FINDINGS|IMPRESSION)\s*:\s*", "", text, flags=re.I)
    parts = re.split(r"(?<=[.!?])\s+|(?<=[a-z]\.)(?=[A-Z][a-z])|(?:^|\s)\d{1,2}[.)]\s+", text)
    return [p.strip() for p in parts if p and p.strip(" .")]


def clean_sentences(text: str, config: SummaryConfig = SummaryConfig()) -> list[str]:
    """Each sentence of a section after de-identification repair, comparison and view removal."""
    out: list[str] = []
    for sentence in split_report_sentences(text):
        cleaned: str | None = sentence
        for enabled, step in ((config.remove_deid, repair_deid), (config.remove_comparisons, remove_comparisons),
                              (config.remove_views, remove_views)):
            if enabled and cleaned is not None:
                cleaned = step(cleaned)
        cleaned = tidy(cleaned)
        if cleaned and config.remove_recommendations and _RECOMMENDATION.search(cleaned):
            cleaned = None
        if cleaned and not _COMMUNICATION.search(cleaned) and cleaned.lower() not in {s.lower() for s in out}:
            out.append(cleaned)
    return out


_STOPWORDS = frozenset(
    "the a an and or of in on at to with without is are was were be been there this that these those for from by as "
    "no not any seen noted identified present appear appears appearance which".split()
)


def _content_words(sentence: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z-]+", sentence.lower()) if w not in _STOPWORDS}


def repeats(sentence: str, earlier: list[str]) -> bool:
    """Whether ``sentence`` says nothing the ``earlier`` sentences have not said (same labels, same words)."""
    words = _content_words(sentence)
    earlier_words = set().union(*(_content_words(s) for s in earlier)) if earlier else set()
    coverage = len(words & earlier_words) / len(words) if words else 1.0
    labels = label_sentence(sentence)
    if not labels:
        return coverage >= 0.85
    known = label_sentence(" ".join(earlier))
    return all(known.get(name) == value for name, value in labels.items()) and coverage >= 0.6


def merge_sections(findings: list[str], impression: list[str], prefix: str = "Overall, ") -> str:
    """Findings, then the impression sentences that add something, the first introduced by ``prefix``."""
    added = []
    for sentence in impression:
        if not repeats(sentence, findings + added):
            added.append(sentence)
    if added and prefix:
        first = added[0]
        lowered = first[0].lower() + first[1:] if len(first) > 1 and not first[1].isupper() else first
        added[0] = prefix + lowered
    return " ".join(findings + added)


def build_rewrite_prompt(report: Report, config: SummaryConfig = SummaryConfig()) -> str:
    """The instruction an LLM rewrite receives (XrayGPT's steps, in words).

    The sections go in already cleaned by the rules, so a small model only has to merge and rephrase.
    """
    findings = " ".join(clean_sentences(report.findings, config))
    impression = " ".join(clean_sentences(report.impression, config))
    return REWRITE_PROMPT.format(findings=findings, impression=impression)


def summarize_report(report: Report, config: SummaryConfig = SummaryConfig(), rewrite_fn: RewriteFn | None = None) -> SummaryResult:
    """Filter one report, then summarise it by rules, or by ``rewrite_fn(prompt)`` when given."""
    reason = filter_reason(report, config)
    if reason:
        return SummaryResult(report, None, reason)
    if rewrite_fn is not None:
        return _rewrite(report, rewrite_fn, config)
    summary = merge_sections(clean_sentences(report.findings, config), clean_sentences(report.impression, config),
                             config.impression_prefix)
    return SummaryResult(report, summary) if summary else SummaryResult(report, None, "empty_after_cleaning")


def _rewrite(report: Report, rewrite_fn: RewriteFn, config: SummaryConfig) -> SummaryResult:
    try:
        text = rewrite_fn(build_rewrite_prompt(report, config))
    except Exception as error:  # noqa: BLE001  (any backend failure drops this report, the batch goes on)
        log.warning("rewrite failed for report %s: %s", report.report_id, error)
        return SummaryResult(report, None, "rewrite_failed", method="llm")
    # The rules run again on the answer: whatever the model kept of blanks, views or priors goes.
    text = " ".join(clean_sentences(_strip_llm_echo(text or ""), config))
    return SummaryResult(report, text, method="llm") if text else SummaryResult(report, None, "empty_rewrite", method="llm")


def llm_rewrite_fn(model, *, max_new_tokens: int = 160) -> RewriteFn:
    """A ``rewrite_fn`` that sends the rewrite prompt to a ``radscribe.llm`` ChatModel (greedy, so repeatable).

    Any backend works: the embedded SmolLM2 or an OpenAI-compatible server, chosen by the LLM configuration
    (``radscribe.llm.resolve_llm_config``). A 135M model follows the instruction loosely: check its output.
    """

    def rewrite(prompt: str) -> str:
        return model.generate([{"role": "user", "content": prompt}], max_new_tokens=max_new_tokens, temperature=0.0).text

    return rewrite


# Small models often echo the instruction or the section labels before (or instead of) answering.
_ECHO_LINE = re.compile(r"^\s*(?:rewrite this|here is|here's)[^\n]*$", re.I | re.M)
_SECTION_LABEL = re.compile(r"\b(?:FINDINGS|IMPRESSION|SUMMARY)\s*:\s*", re.I)


def _strip_llm_echo(text: str) -> str:
    """The answer without echoed instructions and section labels, on one line."""
    return re.sub(r"\s+", " ", _SECTION_LABEL.sub(" ", _ECHO_LINE.sub(" ", text))).strip()


def summarize_reports(
    reports: Iterable[Report], config: SummaryConfig = SummaryConfig(), rewrite_fn: RewriteFn | None = None
) -> Iterator[SummaryResult]:
    """Summaries of many reports, lazily (wrap in a progress bar); dropped ones carry their reason."""
    for report in reports:
        yield summarize_report(report, config, rewrite_fn)


def count_outcomes(results: Iterable[SummaryResult]) -> Counter:
    """``Counter`` with "kept" and one key per drop reason."""
    return Counter("kept" if r.kept else r.dropped for r in results)

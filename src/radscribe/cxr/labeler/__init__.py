"""A rule-based CheXpert-convention labeler for chest-radiograph report text.

``label_report(text)`` returns ``{"Cardiomegaly": 1, "Pleural Effusion": 0, ...}`` with
1 positive, 0 negative, -1 uncertain, and unmentioned observations left out.
``extract_finding_attributes(text)`` adds side, size and location to each mention.
"""

from radscribe.cxr.labeler.attributes import FindingMention, extract_finding_attributes
from radscribe.cxr.labeler.observations import NO_FINDING, OBSERVATIONS, SUPPORT_DEVICES
from radscribe.cxr.labeler.rules import (
    NEGATIVE,
    POSITIVE,
    UNCERTAIN,
    Mention,
    aggregate,
    find_mentions,
    label_report,
    label_sentence,
    report_mentions,
)

__all__ = [
    "FindingMention", "Mention", "NEGATIVE", "NO_FINDING", "OBSERVATIONS", "POSITIVE", "SUPPORT_DEVICES",
    "UNCERTAIN", "aggregate", "extract_finding_attributes", "find_mentions", "label_report", "label_sentence",
    "report_mentions",
]

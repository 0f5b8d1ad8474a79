"""Radiological image-quality reports per CT study (IQAGPT's report step), as markdown and PDF.

>>> from radscribe.quality_report import build_reports, write_markdown
>>> reports = build_reports([{"label": "a.dcm", "caption": "Mild noise. Overall quality: good (score 3.2 of 4)."}])
>>> reports[0].recommendation_key
'diagnostic'
"""

from radscribe.quality_report.build import (
    RECOMMENDATIONS, SliceQuality, StudyReport, add_narrative, build_reports, build_study, group_by_study, recommendation,
)
from radscribe.quality_report.render import to_markdown, write_markdown, write_pdf

__all__ = [
    "RECOMMENDATIONS", "SliceQuality", "StudyReport", "add_narrative", "build_reports", "build_study", "group_by_study",
    "recommendation", "to_markdown", "write_markdown", "write_pdf",
]

"""Caption templates for CT-IQA: Annotation -> text (describe) and text -> aspects/score (parse_caption).

>>> text = describe(annotation, anatomy="pelvis", seed=3)
>>> parse_caption(text).aspects == annotation.aspects
True

The vocabulary lives in ``templates.py`` (a captioning model learns it; keep it small).
"""

from radscribe.ctiqa.text.describe import describe, format_score
from radscribe.ctiqa.text.parse import ParsedCaption, parse_caption
from radscribe.ctiqa.text.templates import PHRASES

__all__ = ["PHRASES", "ParsedCaption", "describe", "format_score", "parse_caption"]

"""CT-IQA annotation protocol (version ``PROTOCOL_VERSION``): measurements -> aspect severities -> 0-4 score.

>>> from radscribe.ctiqa.annotation import annotate_simulation
>>> ann = annotate_simulation(simulate(ph.hu, ph.pixel_spacing_mm, params, body_mask=ph.body_mask), ph)
>>> ann.aspects["noise"], ann.score, ann.category

Thresholds and reasoning: ``THRESHOLDS`` and ``docs/ctiqa-annotation.md``.
Annotations of simulated slices are SYNTHETIC labels.
"""

from radscribe.ctiqa.annotation.annotate import (
    Annotation,
    annotate,
    annotate_simulation,
    metal_attenuation,
    noise_at_reference_spacing,
)
from radscribe.ctiqa.annotation.protocol import (
    ASPECTS,
    CATEGORIES,
    POOLING_P,
    PROTOCOL_VERSION,
    SCORE_STEP,
    SEVERITIES,
    THRESHOLDS,
    burden,
    category_of,
    score_from_burdens,
    severity_of,
)

__all__ = [
    "ASPECTS", "CATEGORIES", "POOLING_P", "PROTOCOL_VERSION", "SCORE_STEP", "SEVERITIES", "THRESHOLDS",
    "Annotation", "annotate", "annotate_simulation", "burden", "category_of", "metal_attenuation",
    "noise_at_reference_spacing", "score_from_burdens", "severity_of",
]

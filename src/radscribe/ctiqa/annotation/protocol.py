"""The CT-IQA annotation protocol as data: aspects, severities, thresholds and the score formula.

One table (:data:`THRESHOLDS`) holds every number that turns a measurement into a
severity; ``docs/ctiqa-annotation.md`` prints it with the reasoning. Each aspect has
one measured (or, where only the acquisition can tell, parametric) quantity ``x`` and
five break points ``floor < mild <= moderate < severe < worst``. The aspect's
*burden* ``u`` is ``x`` mapped piecewise-linearly onto 0, 1, 2, 3, 4 at those points,
so ``u < 1`` is "none", ``1 <= u < 2`` "mild", ``2 <= u < 3`` "moderate" and
``u >= 3`` "severe". The score pools the burdens like a perceptual metric
(Minkowski sum, exponent :data:`POOLING_P`: the worst impairment dominates, others
add a little) and maps the pooled burden B onto the 0-4 scale:

    B = (sum_a u_a ** P) ** (1 / P)
    loss = 3 (B / 3) ** GAMMA  for B <= 3,   loss = B  beyond
    score = clip(4 - loss, 0, 4), rounded to 0.2

GAMMA > 1 makes small burdens cost little and large ones a lot, so one mild aspect
lands in "good", one moderate in "fair", and anything severe (u >= 3) at <= 1.
"""

from __future__ import annotations

import math

PROTOCOL_VERSION = "ctiqa-annotation/1.0"

ASPECTS: tuple[str, ...] = ("noise", "streaks", "metal", "motion", "ring", "blur")
SEVERITIES: tuple[str, ...] = ("none", "mild", "moderate", "severe")
#: LDCTIQAC 2023 five-point scale; index = rounded score.
CATEGORIES: tuple[str, ...] = ("bad", "poor", "fair", "good", "excellent")

#: Scores live on a 0.2 grid (LDCTIQAC scores are means of 5 integer ratings, so 0.2 steps).
SCORE_STEP = 0.2
#: Minkowski pooling exponent over aspect burdens (3-4 is usual for pooling visible impairments).
POOLING_P = 3.0
#: Curvature of the burden-to-loss map (1 = linear): mild -> good, moderate -> fair.
GAMMA = 1.6
#: Noise is compared at this pixel spacing (a 512 matrix over ~360 mm), see :func:`noise_at_reference_spacing`.
REFERENCE_SPACING_MM = 0.7

#: Every threshold of the protocol. ``measure`` names the key in Annotation.measurements.
#: ``points`` = (floor, mild, moderate, severe, worst) in ``unit``; ``cause`` = the
#: AcquisitionParams field that must be non-default for the aspect to be present.
THRESHOLDS: dict[str, dict[str, object]] = {
    "noise": {
        "measure": "noise_sd_hu_ref", "unit": "HU (SD at 0.7 mm pixels)",
        "points": (8.0, 12.0, 20.0, 35.0, 55.0),
        "cause": "always (quantum noise); with metal, predicted from dose and body size",
        "why": "Full dose gives 3-7 HU here (larger bodies are noisier). At W350/L40 one grey level is ~1.4 HU; "
               "noise of ~20 HU is as large as the contrast of many hypodense liver lesions (20-40 HU), so "
               "low-contrast detection degrades, and at ~35 HU it fails. Judgement, not fitted to reader data.",
    },
    "streaks": {
        "measure": "streak_error_hu", "unit": "HU (local SD of the streak error)",
        "points": (3.0, 6.0, 15.0, 30.0, 60.0), "cause": "n_views < full or angular_range_deg < 360",
        "why": "Streaks are coherent lines, seen at a lower SD than grainy noise: 6 HU of streak error is visible "
               "in a 350 HU window (1 grey level ~1.4 HU), 30 HU crosses organs and hides or mimics structure.",
    },
    "metal": {
        "measure": "metal_attenuation", "unit": "sum of mu(70 keV) x diameter over implants",
        "points": (0.0, 0.01, 2.0, 8.0, 20.0), "cause": "metal inserts (from the acquisition parameters)",
        "why": "Metal streaks grow with the attenuation along the worst ray (photon starvation, beam hardening): "
               "small titanium clips (~1) are mild, a pacemaker can (~5) moderate, a cobalt-chrome hip (~35) severe.",
    },
    "motion": {
        "measure": "motion_mm", "unit": "mm peak displacement",
        "points": (0.25, 0.75, 2.0, 5.0, 10.0), "cause": "motion_mm > 0",
        "why": "Displacement below a pixel (~0.7 mm) is invisible; 2 mm doubles edges; 5 mm smears organ borders "
               "(8 mm added 47 HU of local artefact SD to the abdomen phantom, measured).",
    },
    "ring": {
        "measure": "ring_sd_hu", "unit": "HU (RMS of circular means)",
        "points": (1.0, 2.0, 5.0, 12.0, 25.0), "cause": "ring_gain_sd > 0; with metal, predicted from the gain",
        "why": "Rings are concentric and easy to see: 2 HU RMS is faint, 12 HU rings cross every organ.",
    },
    "blur": {
        "measure": "blur_fwhm_mm", "unit": "mm extra Gaussian FWHM",
        "points": (0.4, 0.8, 1.8, 3.5, 6.0), "cause": "blur_fwhm_mm > 0 or kernel_fwhm_mm > 0",
        "why": "Extra blur under a pixel is not seen; 1.8 mm softens small vessels; 3.5 mm loses lesions < 5 mm. "
               "A soft kernel blurs as much at the same FWHM and also lowers the noise, which is judged on its own.",
    },
}


def burden(aspect: str, x: float) -> float:
    """The aspect's impairment on 0..4 (piecewise-linear in its measure; NaN counts as 0)."""
    if x is None or not math.isfinite(x) or x <= 0.0:
        return 0.0
    points = THRESHOLDS[aspect]["points"]
    if x <= points[0]:
        return 0.0
    for k in range(1, len(points)):
        if x <= points[k]:
            lo, hi = points[k - 1], points[k]
            return (k - 1) + (x - lo) / (hi - lo) if hi > lo else float(k)
    return 4.0


def severity_of(u: float) -> str:
    """Burden -> severity name (none < 1 <= mild < 2 <= moderate < 3 <= severe)."""
    return SEVERITIES[min(int(math.floor(max(u, 0.0))), 3)]


def pooled_burden(burdens: dict[str, float]) -> float:
    """Minkowski pooling of the aspect burdens (exponent POOLING_P)."""
    return sum(max(u, 0.0) ** POOLING_P for u in burdens.values()) ** (1.0 / POOLING_P)


def quantise_score(value: float) -> float:
    """Clip to 0..4 and round to the 0.2 grid."""
    steps = round(min(max(value, 0.0), 4.0) / SCORE_STEP)
    return round(steps * SCORE_STEP, 1)


def quality_loss(pooled: float) -> float:
    """Pooled burden -> points lost from 4 (monotone; = pooled at and beyond 3)."""
    if pooled <= 3.0:
        return 3.0 * (max(pooled, 0.0) / 3.0) ** GAMMA
    return pooled


def score_from_burdens(burdens: dict[str, float]) -> float:
    """score = 4 - quality_loss(pooled burden), clipped and on the 0.2 grid."""
    return quantise_score(4.0 - quality_loss(pooled_burden(burdens)))


def category_of(score: float) -> str:
    """Round-to-nearest integer of the score names the LDCTIQAC category."""
    return CATEGORIES[int(math.floor(min(max(score, 0.0), 4.0) + 0.5))]


def thresholds_markdown() -> str:
    """THRESHOLDS as the Markdown table that docs/ctiqa-annotation.md prints (a test keeps them equal)."""
    lines = ["| aspect | measure | unit | floor (u=0) | mild (u=1) | moderate (u=2) | severe (u=3) | worst (u=4) "
             "| present only if |", "|---|---|---|---|---|---|---|---|---|"]
    for aspect, row in THRESHOLDS.items():
        pts = " | ".join(f"{p:g}" for p in row["points"])
        lines.append(f"| {aspect} | `{row['measure']}` | {row['unit']} | {pts} | {row['cause']} |")
    return "\n".join(lines)

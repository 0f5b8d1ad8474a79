"""annotate(): measure a (reference, degraded) CT pair and turn the measurements into an Annotation.

Attribution rule (why params are used at all): the error image is one sum of every
degradation, and the measures leak into each other (motion error lands in the noise,
ring and blur measures; metal in the noise; limited angle in the ring measure; blur
in the streak measure). So an aspect is only reported when its *cause* is in the
acquisition parameters, and then its severity comes from its own measure:

* noise   - noise SD (exact ``degraded - noiseless`` when ``noiseless_hu`` is given,
            else the spectral split). Two cases are confounded and use the noise
            *predicted* from dose and body size instead: metal present (photon
            starvation behind metal adds noise that belongs to the metal artefact),
            and any other artefact present without ``noiseless_hu`` (the spectral
            split counts broad artefacts, e.g. motion error, as noise).
* streaks - ``streak_error_hu``: the local SD of the deterministic error
            (``artifact_sd_hu``) when streaks are its only cause and the split is exact;
            otherwise 3 x the directional part ``streak_sd_hu`` (sparse-view streaks put
            roughly 1/3.5 of their error SD in narrow orientations). With metal
            present, metal streaks leak into this measure (a known limitation).
            Cause: fewer views or limited angle
* ring    - ring SD; cause: detector gain errors. With metal present the ring
            measure reads too low (metal streaks inflate the noise floor it
            subtracts), so the gain error predicts it (RING_K)
* blur    - measured extra FWHM (signal blur and a soft kernel alike: the cross-spectrum
            with the reference sees both); cause: either parameter
* metal   - from the parameters (implant size x material attenuation), with the site names
* motion  - from the parameters (peak displacement in mm)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from radscribe.ctiqa.annotation.protocol import (
    ASPECTS,
    CATEGORIES,
    PROTOCOL_VERSION,
    REFERENCE_SPACING_MM,
    SEVERITIES,
    burden,
    category_of,
    score_from_burdens,
    severity_of,
)
from radscribe.errors import ConfigError

#: Predicted noise (HU at 0.7 mm) = NOISE_K * exp(MU_WATER * Dw / 2) / sqrt(dose): the central
#: ray's transmitted photons set the noise. K fitted on clean simulator slices of all four
#: anatomies at 256 px (K = 0.31-0.51 across them, mean 0.41); used only when the measured
#: noise is confounded (see module docstring).
NOISE_K = 0.41
#: Streak error SD / its directional part, for sparse views (survey medians: 4.0 at 256 px, 3.3 at 512 px).
STREAK_SHARE = 3.5
#: Predicted ring SD (HU) = RING_K x ring_gain_sd / sqrt(pixel spacing in mm); fitted on ring-only survey
#: slices (ratio ring_sd / gain: median ~950 at 1.37 mm, ~1300 at 0.68 mm, +-25% across anatomies).
RING_K = 1110.0
MU_WATER_PER_MM = 0.0193  # 70 keV


def water_equivalent_diameter_mm(reference_hu: np.ndarray, body_mask: np.ndarray, pixel_spacing_mm: float) -> float:
    """AAPM TG-220 water-equivalent diameter: 2 sqrt(sum(HU/1000 + 1) x pixel area / pi) over the body.
    Pixels above dense bone (metal) count as dense bone, so an implant does not inflate the body."""
    rel = np.clip(np.asarray(reference_hu, np.float64)[body_mask] / 1000.0 + 1.0, 0.0, 3.0)
    return float(2.0 * np.sqrt(rel.sum() * pixel_spacing_mm**2 / np.pi))


def predicted_noise_hu(params: Any, water_diameter_mm: float) -> float:
    """Noise SD (HU at 0.7 mm pixels) the dose and body size predict, without looking at the error."""
    return NOISE_K * math.exp(MU_WATER_PER_MM * water_diameter_mm / 2.0) / math.sqrt(params.dose_fraction)


@dataclass
class Annotation:
    """What the protocol says about one slice: per-aspect severity, a 0-4 score, and why."""

    aspects: dict[str, str]
    score: float
    category: str
    measurements: dict[str, float] = field(default_factory=dict)
    metal_sites: list[str] = field(default_factory=list)
    protocol_version: str = PROTOCOL_VERSION

    def __post_init__(self) -> None:
        if set(self.aspects) != set(ASPECTS):
            raise ConfigError(f"annotation aspects must be exactly {list(ASPECTS)}, got {sorted(self.aspects)}")
        bad = {k: v for k, v in self.aspects.items() if v not in SEVERITIES}
        if bad:
            raise ConfigError(f"annotation severities must be one of {list(SEVERITIES)}, got {bad}")
        if self.category not in CATEGORIES:
            raise ConfigError(f"annotation category must be one of {list(CATEGORIES)}, got {self.category!r}")
        if not 0.0 <= float(self.score) <= 4.0:
            raise ConfigError(f"annotation score must be in 0..4, got {self.score}")
        self.aspects = {a: self.aspects[a] for a in ASPECTS}  # canonical order
        self.score = float(self.score)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN measurements become None)."""
        d = asdict(self)
        d["measurements"] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                             for k, v in self.measurements.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Annotation:
        """Inverse of :meth:`to_dict`."""
        meas = {k: (float("nan") if v is None else float(v)) for k, v in d.get("measurements", {}).items()}
        return cls(aspects=dict(d["aspects"]), score=float(d["score"]), category=str(d["category"]),
                   measurements=meas, metal_sites=list(d.get("metal_sites", [])),
                   protocol_version=str(d.get("protocol_version", PROTOCOL_VERSION)))


def noise_at_reference_spacing(noise_sd_hu: float, pixel_spacing_mm: float) -> float:
    """Noise SD as it would be at 0.7 mm pixels: CT noise variance ~ 1 / (dose x pixel width^3)
    (Brooks & Di Chiro), so SD scales as spacing^1.5. Makes 256- and 512-pixel slices comparable."""
    return float(noise_sd_hu) * (float(pixel_spacing_mm) / REFERENCE_SPACING_MM) ** 1.5


def metal_attenuation(params: Any) -> float:
    """Sum over implants of mu(70 keV, material) x diameter: how hard the worst ray is starved."""
    from radscribe.ctiqa.physics.tables import MU_70KEV_PER_MM

    return float(sum(MU_70KEV_PER_MM[m.material] * 2.0 * m.radius_mm for m in params.metal))


def metal_mask_from_params(params: Any, shape: tuple[int, int], pixel_spacing_mm: float) -> np.ndarray | None:
    """Boolean disks where the implants are (None without metal)."""
    if not params.metal:
        return None
    rr, cc = np.indices(shape)
    mask = np.zeros(shape, bool)
    for m in params.metal:
        r_px = m.radius_mm / pixel_spacing_mm
        mask |= (rr - m.center_rc[0]) ** 2 + (cc - m.center_rc[1]) ** 2 <= r_px**2
    return mask


def _causes(params: Any) -> dict[str, bool]:
    """Which aspects the acquisition could have produced."""
    from radscribe.ctiqa.physics.params import FULL_VIEWS

    return {
        "noise": True,
        "streaks": params.n_views < FULL_VIEWS or params.angular_range_deg < 360.0,
        "metal": bool(params.metal),
        "motion": params.motion_mm > 0.0,
        "ring": params.ring_gain_sd > 0.0,
        "blur": params.blur_fwhm_mm > 0.0 or getattr(params, "kernel_fwhm_mm", 0.0) > 0.0,
    }


def annotate(
    reference_hu: np.ndarray,
    degraded_hu: np.ndarray,
    params: Any,
    *,
    body_mask: np.ndarray | None = None,
    pixel_spacing_mm: float | None = None,
    measurements: dict[str, float] | None = None,
    noiseless_hu: np.ndarray | None = None,
    metal_mask: np.ndarray | None = None,
) -> Annotation:
    """Annotate one simulated slice under protocol ``PROTOCOL_VERSION``. Pure and deterministic.

    ``params`` is the slice's AcquisitionParams. ``measurements`` (from
    ``physics.measure_all``) skips the measuring step. ``noiseless_hu``
    (``SimResult.info["noiseless_hu"]``) makes the noise/artefact split exact and is
    recommended; ``metal_mask`` defaults to disks drawn from ``params.metal``.
    ``pixel_spacing_mm`` defaults to 0.7 mm. ``Annotation.measurements`` of an earlier
    run can be passed back as ``measurements`` to re-annotate after a protocol change.
    ``params`` may also be its ``to_dict()``.
    """
    if isinstance(params, dict):
        from radscribe.ctiqa.physics.params import AcquisitionParams

        params = AcquisitionParams.from_dict(params)
    spacing = REFERENCE_SPACING_MM if pixel_spacing_mm is None else float(pixel_spacing_mm)
    ref = np.asarray(reference_hu)
    if measurements is None:
        from radscribe.ctiqa.physics.measure import measure_all

        if metal_mask is None:
            metal_mask = metal_mask_from_params(params, ref.shape, spacing)
        measurements = measure_all(ref, degraded_hu, body_mask=body_mask, pixel_spacing_mm=spacing,
                                   metal_mask=metal_mask, noiseless_hu=noiseless_hu)
    meas = {k: float(v) for k, v in measurements.items()}
    causes = _causes(params)
    exact = meas.get("exact_split", 0.0) >= 0.5
    noise_ref = noise_at_reference_spacing(meas.get("noise_sd_hu", float("nan")), spacing)
    if "water_diameter_mm" not in meas:  # kept when re-annotating stored measurements
        mask = body_mask if body_mask is not None else ref > -500.0
        meas["water_diameter_mm"] = water_equivalent_diameter_mm(ref, mask, spacing)
    meas["noise_sd_hu_predicted"] = predicted_noise_hu(params, meas["water_diameter_mm"])
    meas["noise_from_params"] = 0.0
    artefacts = any(causes[a] for a in ("streaks", "motion", "ring", "blur"))
    if causes["metal"] or (artefacts and not exact):
        noise_ref = meas["noise_sd_hu_predicted"]  # the measured noise is confounded (module docstring)
        meas["noise_from_params"] = 1.0
    meas["noise_sd_hu_ref"] = noise_ref
    meas["metal_attenuation"] = metal_attenuation(params)
    meas["motion_mm"] = float(params.motion_mm)
    meas["pixel_spacing_mm"] = spacing
    only_streaks = causes["streaks"] and not any(causes[a] for a in ("metal", "motion", "ring", "blur"))
    if exact and only_streaks:
        meas["streak_error_hu"] = meas.get("artifact_sd_hu", float("nan"))
    else:
        meas["streak_error_hu"] = STREAK_SHARE * meas.get("streak_sd_hu", float("nan"))
    # Metal streaks inflate the noise floor the ring measure subtracts (rings read low): the gain predicts it.
    meas["ring_sd_hu_predicted"] = RING_K * float(params.ring_gain_sd) / math.sqrt(spacing)
    ring = meas["ring_sd_hu_predicted"] if causes["metal"] else meas.get("ring_sd_hu", float("nan"))
    values = {"noise": noise_ref, "streaks": meas["streak_error_hu"],
              "metal": meas["metal_attenuation"], "motion": meas["motion_mm"],
              "ring": ring, "blur": meas.get("blur_fwhm_mm", float("nan"))}
    burdens = {a: (burden(a, values[a]) if causes[a] else 0.0) for a in ASPECTS}
    for a, u in burdens.items():
        meas[f"burden_{a}"] = round(u, 4)
    score = score_from_burdens(burdens)
    return Annotation(
        aspects={a: severity_of(u) for a, u in burdens.items()},
        score=score,
        category=category_of(score),
        measurements=meas,
        metal_sites=[m.site for m in params.metal if m.site],
    )


def annotate_simulation(sim: Any, phantom: Any) -> Annotation:
    """annotate() a ``physics.SimResult`` of ``phantom`` with everything the simulator knows (exact split)."""
    return annotate(sim.reference_hu, sim.degraded_hu, sim.params, body_mask=phantom.body_mask,
                    pixel_spacing_mm=phantom.pixel_spacing_mm, noiseless_hu=sim.info.get("noiseless_hu"),
                    metal_mask=sim.info.get("metal_mask"))

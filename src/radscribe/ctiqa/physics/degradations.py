"""The physical causes of degradation, each turned into what the projector needs.

Metal: area fraction of each pixel covered by each implant (projected to path lengths).
Motion: per-view rigid transform of the patient, expressed as view-angle errors and
detector shifts (exact for parallel beams: rotating the object by alpha is viewing
it at theta - alpha; translating it by d shifts the view by d . u_theta).
Rings: per-detector gain errors. Blur: a Gaussian on every view (= on the image).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from radscribe.ctiqa.physics.params import MetalInsert

#: Sub-pixel samples per axis when rasterising an implant (partial-volume edges).
_SUPERSAMPLE = 4


def metal_fractions(n: int, spacing_mm: float, inserts: list[MetalInsert]) -> dict[str, np.ndarray]:
    """Per material, the fraction (0..1) of each pixel inside an implant (overlaps capped at 1)."""
    out: dict[str, np.ndarray] = {}
    offsets = (np.arange(_SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - 0.5
    for ins in inserts:
        frac = out.setdefault(ins.material, np.zeros((n, n), np.float32))
        r_px = ins.radius_mm / spacing_mm
        r0, c0 = ins.center_rc
        rows = np.arange(max(0, int(r0 - r_px) - 1), min(n, int(r0 + r_px) + 2))
        cols = np.arange(max(0, int(c0 - r_px) - 1), min(n, int(c0 + r_px) + 2))
        if rows.size == 0 or cols.size == 0:
            continue  # outside the image: nothing to draw
        sub_r = (rows[:, None] + offsets[None, :]).reshape(-1, 1) - r0
        sub_c = (cols[:, None] + offsets[None, :]).reshape(1, -1) - c0
        inside = (sub_r**2 + sub_c**2 <= r_px**2).astype(np.float32)
        cover = inside.reshape(rows.size, _SUPERSAMPLE, cols.size, _SUPERSAMPLE).mean(axis=(1, 3))
        block = frac[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        np.minimum(block + cover, 1.0, out=block)
    return out


@dataclass(frozen=True)
class MotionPath:
    """Rigid in-plane patient motion sampled at each view (time runs with the view index)."""

    profile: str  # "drift" | "breathing" | "jerk"
    angle_rad: np.ndarray  # (V,) patient rotation about the isocentre
    shift_mm: np.ndarray  # (V, 2) patient translation (x right, y anterior)

    def detector_shift_px(self, angles: np.ndarray, spacing_mm: float) -> np.ndarray:
        """Shift of each view along s, in detector bins: d . (cos theta, sin theta)."""
        s = self.shift_mm[:, 0] * np.cos(angles) + self.shift_mm[:, 1] * np.sin(angles)
        return s / spacing_mm

    def summary(self) -> dict[str, float | str]:
        step = np.hypot(*(self.shift_mm - self.shift_mm[0]).T)
        return {
            "profile": self.profile,
            "peak_translation_mm": float(step.max()),
            "peak_rotation_deg": float(np.degrees(np.abs(self.angle_rad - self.angle_rad[0]).max())),
        }


def motion_path(n_views: int, motion_mm: float, body_radius_mm: float, rng: np.random.Generator) -> MotionPath:
    """Random rigid motion whose largest displacement of any body point from its start is ``motion_mm``.

    A random share (0-50 %) of the displacement is rotation (felt at the body edge,
    ``body_radius_mm``), the rest translation in a random direction. The temporal
    profile is a slow drift, part of a breathing cycle, or a sudden jerk. The path
    is centred on its time average, so the motion-free reference shows the patient
    at the mean position and the error image holds motion artefacts, not a shift.
    """
    t = np.linspace(0.0, 1.0, n_views)
    profile = str(rng.choice(["drift", "breathing", "jerk"]))
    if profile == "drift":
        g = t
    elif profile == "breathing":
        cycles = rng.uniform(0.5, 1.0)
        g = 0.5 * (1.0 - np.cos(2 * np.pi * cycles * t))
    else:
        g = 1.0 / (1.0 + np.exp(-(t - rng.uniform(0.3, 0.7)) / 0.02))
    g = (g - g[0]) / max(np.abs(g - g[0]).max(), 1e-12)
    rot_share = rng.uniform(0.0, 0.5)
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction)
    shift = (1.0 - rot_share) * motion_mm * g[:, None] * direction[None, :]
    angle = rng.choice([-1.0, 1.0]) * rot_share * motion_mm / max(body_radius_mm, 1.0) * g
    shift -= shift.mean(axis=0)
    angle -= angle.mean()
    return MotionPath(profile, angle, shift)


def ring_gains(n_det: int, gain_sd: float, rng: np.random.Generator) -> np.ndarray:
    """Per-detector relative gain, 1 + N(0, sd), constant over views; kept in [0.5, 1.5]."""
    if gain_sd <= 0:
        return np.ones(n_det)
    return np.clip(1.0 + gain_sd * rng.standard_normal(n_det), 0.5, 1.5)


def gaussian_view_transfer(fft_length: int, fwhm_mm: float, spacing_mm: float) -> torch.Tensor:
    """Transfer (K/2+1,) of a Gaussian blur along the detector; in parallel beam this is an isotropic image blur."""
    sigma_px = fwhm_mm / (2.0 * math.sqrt(2.0 * math.log(2.0))) / spacing_mm
    omega = 2 * np.pi * np.arange(fft_length // 2 + 1) / fft_length
    return torch.from_numpy(np.exp(-0.5 * (omega * sigma_px) ** 2)).to(torch.complex64)


def body_radius_mm(body_mask: np.ndarray, spacing_mm: float) -> float:
    """Largest distance of a body pixel from the isocentre (image centre)."""
    rows, cols = np.nonzero(body_mask)
    if rows.size == 0:
        return 0.0
    c = (body_mask.shape[0] - 1) / 2
    return float(np.sqrt((rows - c) ** 2 + (cols - c) ** 2).max() * spacing_mm)

"""From line integrals to what the scanner logs: spectrum, quantum and electronic noise, calibration.

Polychromatic transmission through a water-equivalent body of monochromatic (70 keV)
line integral ``p`` and metal path lengths ``L_m``:

    T = sum_E w_E exp(-(mu_w(E) / mu_w(70)) p - sum_m mu_m(E) L_m)

(energy-integrating detector weights ``w_E``). Counts are Poisson(I0 T) plus Gaussian
electronic noise, times the detector's gain, floored at MIN_COUNTS (photon
starvation). The scanner then takes -log(N / I0) and applies its water
beam-hardening correction, the inverse of ``h(p) = -log sum_E w_E exp(-r_E p)``.
For rays that miss metal that correction is exact (tissue is modelled as
water-equivalent), so only metal leaves beam-hardening error: the dark bands and
streaks between implants.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from radscribe.ctiqa.physics import tables

#: Water line integrals covered by the beam-hardening table (50 cm of water is ~9.6).
_P_MAX = 40.0
_P_STEP = 0.005


@lru_cache(maxsize=1)
def _water_table() -> tuple[np.ndarray, np.ndarray]:
    """(p_mono, p_poly) samples of the water beam-hardening curve, both increasing."""
    p = np.arange(0.0, _P_MAX + _P_STEP, _P_STEP)
    ratio = tables.MU_SPECTRUM_PER_MM["water"] / tables.MU_WATER_PER_MM
    poly = -np.log(np.exp(-np.outer(p, ratio)) @ tables.SPECTRUM_WEIGHT)
    return p, poly


def water_hardening(p_mono: np.ndarray) -> np.ndarray:
    """Polychromatic log-attenuation of water-equivalent paths (h(p))."""
    p, poly = _water_table()
    return np.interp(p_mono, p, poly)


def water_correction(p_poly: np.ndarray) -> np.ndarray:
    """The scanner's water beam-hardening correction (h^-1), extrapolated linearly past the table."""
    p, poly = _water_table()
    out = np.interp(p_poly, poly, p)
    slope = (p[-1] - p[-2]) / (poly[-1] - poly[-2])
    beyond = p_poly > poly[-1]
    out[beyond] = p[-1] + (p_poly[beyond] - poly[-1]) * slope
    return out


def polychromatic_log_attenuation(p_water: np.ndarray, metal_mm: dict[str, np.ndarray]) -> np.ndarray:
    """-log T for every ray; the full spectral sum only where a ray crosses metal (it is exact elsewhere)."""
    q = water_hardening(p_water)
    if not metal_mm:
        return q
    total = sum(metal_mm.values())
    hit = total > 1e-3  # mm: rays that meet metal
    if not hit.any():
        return q
    ratio = tables.MU_SPECTRUM_PER_MM["water"] / tables.MU_WATER_PER_MM
    exponent = -np.outer(p_water[hit], ratio)
    for material, length in metal_mm.items():
        exponent -= np.outer(np.maximum(length[hit], 0.0), tables.MU_SPECTRUM_PER_MM[material])
    q[hit] = -np.log(np.exp(exponent) @ tables.SPECTRUM_WEIGHT)
    return q


@dataclass(frozen=True)
class Measurement:
    """Result of :func:`measure_counts`: corrected line integrals and what happened on the way."""

    p_corrected: np.ndarray  # water-corrected line integrals, as the scanner reconstructs them
    starved_fraction: float  # fraction of readings floored at MIN_COUNTS


def measure_counts(
    q: np.ndarray,
    i0: float,
    rng: np.random.Generator,
    *,
    gains: np.ndarray | None = None,
    electronic_sd: float = tables.ELECTRONIC_NOISE_SD,
    noise: bool = True,
) -> Measurement:
    """Detect photons for log-attenuations ``q`` (views, bins) at ``i0`` photons per bin and view."""
    expected = i0 * np.exp(-q)
    counts = rng.poisson(expected).astype(np.float64) if noise else expected.copy()
    if gains is not None:
        counts *= gains[None, :]  # miscalibrated gain, constant over views -> rings
    if noise and electronic_sd > 0:
        counts += electronic_sd * rng.standard_normal(counts.shape)
    floored = counts < tables.MIN_COUNTS
    np.maximum(counts, tables.MIN_COUNTS, out=counts)
    p_poly = np.log(i0 / counts)
    return Measurement(water_correction(p_poly), float(floored.mean()))

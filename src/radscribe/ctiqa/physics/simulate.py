"""simulate(): one CT slice through a virtual scanner, with and without the chosen degradations.

Pipeline: HU -> attenuation at 70 keV -> (metal replaces tissue) -> line integrals
of every view (Fourier projector) -> [degraded only: motion, blur, polychromatic
spectrum with metal, Poisson + electronic noise, detector gains, photon floor,
log, water correction] -> FBP with the scanner's kernel (degraded: softened by
``kernel_fwhm_mm`` when set) -> HU.

The reference is the same slice, same detector and standard kernel, FULL_VIEWS views
over 360 deg, no noise, no motion, no blur, no gain errors, and metal seen
monochromatically at 70 keV: the error image (degraded - reference) isolates the
degradations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from radscribe.ctiqa.physics import tables
from radscribe.ctiqa.physics.degradations import (
    body_radius_mm,
    gaussian_view_transfer,
    metal_fractions,
    motion_path,
    ring_gains,
)
from radscribe.ctiqa.physics.detector import measure_counts, polychromatic_log_attenuation
from radscribe.ctiqa.physics.geometry import ParallelGeometry
from radscribe.ctiqa.physics.kernels import DEFAULT_KERNEL, ReconKernel
from radscribe.ctiqa.physics.params import FULL_VIEWS, AcquisitionParams
from radscribe.ctiqa.physics.projector import ParallelProjector, projector_for
from radscribe.errors import InvalidPixelDataError

log = logging.getLogger(__name__)

MAX_SIZE = 2048


@dataclass
class SimResult:
    """Reference and degraded reconstructions (float32 HU, same shape as the input)."""

    reference_hu: np.ndarray  # same geometry, no degradation (metal inserted but ideal: no artefacts)
    degraded_hu: np.ndarray
    params: AcquisitionParams
    info: dict[str, Any] = field(default_factory=dict)  # measured side facts; see simulate()


def incident_photons(params: AcquisitionParams, pixel_spacing_mm: float) -> float:
    """Photons per detector bin (one pixel wide) per view: the dose is shared by the views."""
    return tables.I0_REF_PER_MM * pixel_spacing_mm * params.dose_fraction * FULL_VIEWS / params.n_views


def simulate(
    phantom_hu: np.ndarray,
    pixel_spacing_mm: float,
    params: AcquisitionParams,
    *,
    body_mask: np.ndarray | None = None,
    kernel: ReconKernel = DEFAULT_KERNEL,
) -> SimResult:
    """Scan ``phantom_hu`` (N x N, HU) with ``params``; return reference and degraded images.

    ``info`` holds: ``noiseless_hu`` (the degraded scan with expected instead of random
    counts: degraded - noiseless is the quantum + electronic noise, noiseless - reference
    the deterministic artefacts), ``metal_mask`` (bool N x N or None), ``photon_starved_fraction``
    (readings floored at MIN_COUNTS), ``i0_per_bin``, ``n_det``, ``full_views``,
    ``kernel``, ``motion`` (path summary or None) and ``synthetic`` (True).
    """
    hu = _check_image(phantom_hu, pixel_spacing_mm)
    n = hu.shape[0]
    rng = np.random.default_rng(params.seed)
    if body_mask is None:
        body_mask = hu > -500.0

    fractions = metal_fractions(n, pixel_spacing_mm, params.metal)
    metal_total = np.minimum(sum(fractions.values(), np.zeros((n, n), np.float32)), 1.0)
    body = tables.hu_to_mu(hu) * pixel_spacing_mm * (1.0 - metal_total)  # attenuation per pixel
    materials = sorted(fractions)
    images = torch.from_numpy(np.stack([body] + [fractions[m] for m in materials]))

    ref_geometry = ParallelGeometry.for_image(n, FULL_VIEWS, 360.0)
    ref_projector = projector_for(ref_geometry)
    ref_spectra = ref_projector.spectra(images)
    ideal = ref_spectra[0] + sum(
        (tables.MU_70KEV_PER_MM[m] * pixel_spacing_mm * ref_spectra[i + 1] for i, m in enumerate(materials)),
        torch.zeros_like(ref_spectra[0]),
    )
    ref_sinogram = ref_projector.sinogram(ideal[None])

    geometry = ParallelGeometry.for_image(n, params.n_views, params.angular_range_deg)
    channels, motion = _degraded_channels(images, geometry, ref_geometry, ref_spectra, params, body_mask,
                                          pixel_spacing_mm, rng)
    metal_mm = {m: channels[i + 1].numpy().astype(np.float64) * pixel_spacing_mm for i, m in enumerate(materials)}
    q = polychromatic_log_attenuation(channels[0].numpy().astype(np.float64), metal_mm)
    i0 = incident_photons(params, pixel_spacing_mm)
    gains = ring_gains(geometry.n_det, params.ring_gain_sd, rng) if params.ring_gain_sd > 0 else None
    measured = measure_counts(q, i0, rng, gains=gains)
    noiseless = measure_counts(q, i0, rng, gains=gains, noise=False)  # uses no random numbers
    degraded_sinograms = torch.from_numpy(np.stack([measured.p_corrected, noiseless.p_corrected])).float()

    degraded_kernel = replace(kernel, smooth_fwhm_mm=kernel.smooth_fwhm_mm + params.kernel_fwhm_mm)
    if geometry == ref_geometry and degraded_kernel == kernel:
        recon = ref_projector.fbp(torch.cat([ref_sinogram, degraded_sinograms]), kernel, pixel_spacing_mm)
    else:
        recon = torch.cat([
            ref_projector.fbp(ref_sinogram, kernel, pixel_spacing_mm),
            projector_for(geometry).fbp(degraded_sinograms, degraded_kernel, pixel_spacing_mm),
        ])
    ref_hu, deg_hu, noiseless_hu = (tables.mu_to_hu(r.numpy() / pixel_spacing_mm) for r in recon)
    info = {
        "noiseless_hu": noiseless_hu,
        "metal_mask": metal_total >= 0.5 if params.metal else None,
        "photon_starved_fraction": measured.starved_fraction,
        "i0_per_bin": i0,
        "n_det": geometry.n_det,
        "full_views": FULL_VIEWS,
        "kernel": str(degraded_kernel),
        "motion": motion,
        "synthetic": True,
    }
    return SimResult(ref_hu, deg_hu, params, info)


def _degraded_channels(
    images: torch.Tensor,
    geometry: ParallelGeometry,
    ref_geometry: ParallelGeometry,
    ref_spectra: torch.Tensor,
    params: AcquisitionParams,
    body_mask: np.ndarray,
    spacing_mm: float,
    rng: np.random.Generator,
) -> tuple[torch.Tensor, dict[str, Any] | None]:
    """Line integrals (channels, views, bins) seen by the degraded scan: geometry, motion and blur."""
    shift_px = None
    motion = None
    if params.motion_mm > 0:
        path = motion_path(geometry.n_views, params.motion_mm, body_radius_mm(body_mask, spacing_mm), rng)
        # Rotating the patient by alpha is viewing the static patient at theta - alpha.
        projector = ParallelProjector.build(geometry, angle_errors=-path.angle_rad)
        shift_px = path.detector_shift_px(geometry.angles(), spacing_mm)
        spectra = projector.spectra(images)
        motion = path.summary()
    elif geometry == ref_geometry:
        projector, spectra = projector_for(ref_geometry), ref_spectra
    else:
        projector = projector_for(geometry)
        spectra = projector.spectra(images)
    if params.blur_fwhm_mm > 0:
        spectra = spectra * gaussian_view_transfer(geometry.fft_length, params.blur_fwhm_mm, spacing_mm)
    channels = projector.sinogram(spectra, shift_px=shift_px)
    channels[1:].clamp_(min=0.0)  # metal path lengths; the band-limited projection rings slightly below 0
    return channels, motion


def _check_image(hu: np.ndarray, spacing_mm: float) -> np.ndarray:
    arr = np.asarray(hu)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise InvalidPixelDataError(None, f"simulate() needs a square 2-D HU slice, got shape {arr.shape}")
    if not 16 <= arr.shape[0] <= MAX_SIZE:
        raise InvalidPixelDataError(None, f"slice size {arr.shape[0]} is outside 16..{MAX_SIZE} pixels")
    if not np.isfinite(arr).all():
        raise InvalidPixelDataError(None, "slice has NaN or infinite values; fill them (e.g. with -1000 HU) first")
    if not (np.isfinite(spacing_mm) and 0.05 <= spacing_mm <= 5.0):
        raise InvalidPixelDataError(None, f"pixel spacing {spacing_mm} mm is outside 0.05..5 mm")
    return arr.astype(np.float32, copy=False)

"""Parallel-beam projector and filtered back-projection via the Fourier slice theorem.

Why Fourier and not rotate-and-sum: at 512 x 512 with ~1000 views a real-space
projector touches ~2.6e8 samples per pass (torch ``grid_sample``: ~2.5 s per
projection on one core; scikit-image ``radon``: ~10 s). The 1-D Fourier transform
of a view is a radial line of the image's 2-D Fourier transform, so one padded 2-D
FFT plus a sparse Kaiser-Bessel interpolation (:mod:`.nufft`) gives all views in
~0.1 s, and the adjoint does the back-projection. This is gridding reconstruction
(gridrec; Dowd et al. 1999, Matej et al. 2004). Back-projection here is FBP with
ideal (trigonometric) interpolation along the detector instead of linear.

Units: images are attenuation per pixel (mu * pixel spacing), so line integrals
come out dimensionless and the operator does not depend on the pixel size.

Forward model: the image is a sum of square pixels (transfer sinc x sinc) and each
detector bin integrates over its one-pixel width (transfer sinc).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from radscribe.ctiqa.physics.geometry import ParallelGeometry
from radscribe.ctiqa.physics.kernels import ReconKernel, filter_response
from radscribe.ctiqa.physics.nufft import DEFAULT_WIDTH, PolarNufft


@dataclass(eq=False)
class ParallelProjector:
    """Forward projection and FBP for one geometry (optionally with per-view angle errors)."""

    geometry: ParallelGeometry
    angles: np.ndarray  # (V,) radians actually used by the forward model
    nufft: PolarNufft
    centre_phase: torch.Tensor  # (V, M) complex: image-centre phase at each polar point
    transfer: torch.Tensor  # (V, M) real: pixel-basis x detector-aperture transfer

    @classmethod
    def build(cls, geometry: ParallelGeometry, angle_errors: np.ndarray | None = None) -> ParallelProjector:
        angles = geometry.angles()
        if angle_errors is not None:
            angles = angles + np.asarray(angle_errors, dtype=np.float64)
        k = geometry.fft_length
        omega = torch.from_numpy(2 * np.pi * np.arange(k // 2 + 1) / k)  # radians per pixel
        theta = torch.from_numpy(angles)
        a = omega[None, :] * torch.cos(theta)[:, None]  # along columns (x)
        b = -omega[None, :] * torch.sin(theta)[:, None]  # along rows (y points up, rows down)
        nufft = PolarNufft.build(
            geometry.n, a.reshape(-1), b.reshape(-1), width=DEFAULT_WIDTH, adjoint=angle_errors is None
        )
        delta = geometry.n // 2 - (geometry.n - 1) / 2  # centred index -> geometric centre offset
        phase = torch.exp(-1j * (a + b) * delta).to(torch.complex64)
        aperture = torch.sinc(torch.arange(k // 2 + 1, dtype=torch.float64) / k)[None, :]
        transfer = (torch.sinc(a / (2 * math.pi)) * torch.sinc(b / (2 * math.pi)) * aperture).float()
        return cls(geometry, angles, nufft, phase, transfer)

    @property
    def n_freq(self) -> int:
        return self.geometry.fft_length // 2 + 1

    # ---- forward -------------------------------------------------------------------------
    def spectra(self, images: torch.Tensor) -> torch.Tensor:
        """(B, N, N) attenuation-per-pixel images -> (B, V, K/2+1) 1-D spectra of their views."""
        samples = self.nufft.forward(images.float())
        shape = (images.shape[0], self.geometry.n_views, self.n_freq)
        return samples.reshape(shape) * self.centre_phase * self.transfer

    def sinogram(self, spectra: torch.Tensor, shift_px: np.ndarray | None = None) -> torch.Tensor:
        """View spectra -> (B, V, n_det) line integrals; ``shift_px`` (V,) moves each view along s."""
        g = self.geometry
        k = g.fft_length
        m = torch.arange(self.n_freq, dtype=torch.float64)
        centre = (g.n_det - 1) / 2
        phase = torch.exp(-2j * math.pi * m * centre / k)[None, :]
        if shift_px is not None:
            shift = torch.from_numpy(np.asarray(shift_px, dtype=np.float64))
            phase = phase * torch.exp(-2j * math.pi * m[None, :] * shift[:, None] / k)
        values = torch.fft.irfft(spectra * phase.to(torch.complex64), n=k, dim=-1)
        return values[..., : g.n_det]

    def project(self, images: torch.Tensor) -> torch.Tensor:
        """(B, N, N) -> (B, V, n_det) line integrals (units of the image x pixel)."""
        return self.sinogram(self.spectra(images))

    # ---- reconstruction ------------------------------------------------------------------
    def fbp(self, sinograms: torch.Tensor, kernel: ReconKernel, pixel_spacing_mm: float) -> torch.Tensor:
        """(B, V, n_det) -> (B, N, N) filtered back-projection (attenuation per pixel)."""
        g = self.geometry
        k = g.fft_length
        m = torch.arange(self.n_freq, dtype=torch.float64)
        centre = (g.n_det - 1) / 2
        spectra = torch.fft.rfft(sinograms.double(), n=k, dim=-1) * torch.exp(2j * math.pi * m * centre / k)
        filt = torch.from_numpy(filter_response(kernel, k, pixel_spacing_mm))
        multiplicity = torch.full((self.n_freq,), 2.0, dtype=torch.float64)
        multiplicity[0] = 1.0
        multiplicity[-1] = 1.0  # Nyquist bin (K is even)
        weights = torch.from_numpy(g.view_weights())[:, None]
        coeffs = spectra * (filt * multiplicity / k)[None, :] * weights
        coeffs = coeffs.to(torch.complex64) * torch.conj(self.centre_phase)
        image = self.nufft.adjoint(coeffs.reshape(sinograms.shape[0], -1))
        return image.real.contiguous()


@lru_cache(maxsize=6)
def projector_for(geometry: ParallelGeometry) -> ParallelProjector:
    """Cached projector for a nominal geometry (building costs ~1-3 s at 512 x 512 x 1000 views)."""
    return ParallelProjector.build(geometry)

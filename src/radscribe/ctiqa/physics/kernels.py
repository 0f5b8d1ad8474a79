"""Reconstruction kernels: the FBP ramp filter times an apodisation window.

The ramp is the band-limited ramp of Ramachandran & Lakshminarayanan sampled in
space (h[0] = 1/4, h[odd n] = -1/(pi n)^2, h[even n] = 0, in pixel units) and
zero-padded before its DFT (Kak & Slaney, ch. 3). Sampling it in space rather
than sampling |f| avoids the DC offset and cupping of a naively sampled ramp.
The window shapes the noise/resolution trade-off, which is what a scanner's named
kernel (soft, standard, sharp) does; its cut-off is in line pairs per mm so the
same kernel behaves the same at any pixel size (down to the detector Nyquist).
A softer kernel than the standard one is the standard window times a Gaussian
(``smooth_fwhm_mm``): it blurs the image and its noise alike, as choosing a soft
kernel on a scanner does.
"""

from __future__ import annotations

from collections.abc import Callable
import math
from dataclasses import dataclass

import numpy as np

from radscribe.errors import ConfigError

#: Window shapes over x = f / f_cutoff in [0, 1]. Same definitions as scikit-image's
#: iradon filters when the cut-off is the Nyquist frequency.
WINDOWS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "ram-lak": lambda x: np.ones_like(x),
    "shepp-logan": lambda x: np.sinc(x / 2.0),
    "cosine": lambda x: np.cos(0.5 * np.pi * x),
    "hamming": lambda x: 0.54 + 0.46 * np.cos(np.pi * x),
    "hann": lambda x: 0.5 + 0.5 * np.cos(np.pi * x),
}


@dataclass(frozen=True)
class ReconKernel:
    """FBP kernel: ``window`` from :data:`WINDOWS`, cut off at ``cutoff_lp_per_mm`` (None = detector Nyquist)."""

    window: str = "hann"
    cutoff_lp_per_mm: float | None = 0.75
    smooth_fwhm_mm: float = 0.0  # extra Gaussian apodisation (FWHM in the image, mm): a softer kernel

    def __post_init__(self) -> None:
        if self.window not in WINDOWS:
            raise ConfigError(f"unknown reconstruction kernel window {self.window!r}; choose one of {sorted(WINDOWS)}")
        if self.cutoff_lp_per_mm is not None and self.cutoff_lp_per_mm <= 0:
            raise ConfigError(f"cutoff_lp_per_mm must be positive, got {self.cutoff_lp_per_mm}")
        if not (math.isfinite(self.smooth_fwhm_mm) and self.smooth_fwhm_mm >= 0):
            raise ConfigError(f"smooth_fwhm_mm must be >= 0, got {self.smooth_fwhm_mm}")

    def __str__(self) -> str:
        text = f"{self.window}@{self.cutoff_lp_per_mm or 'nyquist'}"
        return text + (f"+gauss{self.smooth_fwhm_mm:g}mm" if self.smooth_fwhm_mm > 0 else "")

    def cutoff_cycles_per_pixel(self, pixel_spacing_mm: float) -> float:
        """Cut-off in cycles per detector bin (bins are one pixel wide), at most Nyquist (0.5)."""
        if self.cutoff_lp_per_mm is None:
            return 0.5
        return min(0.5, self.cutoff_lp_per_mm * pixel_spacing_mm)


#: The kernel simulate() uses unless told otherwise: a Hann-apodised ramp cut at
#: 0.75 lp/mm, a "standard" soft-tissue kernel (MTF 50% near 0.35 lp/mm).
DEFAULT_KERNEL = ReconKernel()


def ramp_response(fft_length: int) -> np.ndarray:
    """DFT (bins 0..K/2) of the zero-padded spatial band-limited ramp, in cycles per pixel."""
    k = fft_length
    n = np.arange(k)
    dist = np.minimum(n, k - n)  # circular distance so the kernel is even
    h = np.zeros(k)
    h[0] = 0.25
    odd = dist % 2 == 1
    h[odd] = -1.0 / (np.pi * dist[odd]) ** 2
    return np.real(np.fft.rfft(h))


def filter_response(kernel: ReconKernel, fft_length: int, pixel_spacing_mm: float) -> np.ndarray:
    """Ramp x window at rfft bins 0..K/2 (cycles per pixel units), float64."""
    freq = np.arange(fft_length // 2 + 1) / fft_length
    cutoff = kernel.cutoff_cycles_per_pixel(pixel_spacing_mm)
    x = freq / cutoff
    window = np.where(x <= 1.0, WINDOWS[kernel.window](np.minimum(x, 1.0)), 0.0)
    if kernel.smooth_fwhm_mm > 0:  # detector bins are one pixel wide, so the 1-D Gaussian is the image's
        sigma_px = kernel.smooth_fwhm_mm / (2.0 * math.sqrt(2.0 * math.log(2.0))) / pixel_spacing_mm
        window = window * np.exp(-0.5 * (2 * np.pi * freq * sigma_px) ** 2)
    return ramp_response(fft_length) * window

"""From attenuation line integrals to a displayed radiograph: exp, scatter, detector noise, log, LUT."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from radscribe.cxr.render.draw import blur

K_EFFECTIVE = 2.6  # scales our unit depths to a transmission range like a real chest (air ~1, spine/heart ~0.05)
SCATTER_FRACTION = 0.25  # scatter reaching the detector (after the grid), relative to the mean primary


def detected(attenuation: np.ndarray, gradient: float = 0.06) -> np.ndarray:
    """Noise-free detector signal: primary ``exp(-k A)`` with a heel-effect gradient, plus broad scatter.

    Scatter is a heavily blurred copy of the primary: it barely changes the bright lung fields but lifts the
    dim ones (mediastinum, abdomen), so after the log a rib over the lung shows more than a rib over the liver.
    """
    size = attenuation.shape[0]
    y = np.linspace(-0.5, 0.5, size, dtype=np.float32)[:, None]
    x = np.linspace(-0.5, 0.5, size, dtype=np.float32)[None, :]
    beam = 1.0 + gradient * (0.6 * y + 0.4 * x)
    primary = beam * np.exp(-K_EFFECTIVE * attenuation)
    return primary + SCATTER_FRACTION * blur(primary, size / 12)


def to_line(signal: np.ndarray) -> np.ndarray:
    return -np.log(np.clip(signal, 1e-4, None)) / K_EFFECTIVE


def window_for(normal_attenuation: np.ndarray, lung: np.ndarray) -> tuple[float, float]:
    """Display window from the patient's NORMAL anatomy, so a finding never shifts the grey level elsewhere."""
    line = to_line(detected(normal_attenuation))
    inside = line[lung] if lung.any() else line
    return float(np.percentile(inside, 1)) - 0.06, float(np.percentile(line, 99.9)) + 0.05


def expose(attenuation: np.ndarray, rng: np.random.Generator, *, window: tuple[float, float],
           photons: float = 2500.0) -> np.ndarray:
    """Simulate the detector and return a float32 image in [0, 1], dense = bright (display convention).

    * primary + scatter (:func:`detected`),
    * quantum noise (Gaussian approximation of Poisson counts, ``photons`` per pixel at unit transmission),
    * a little detector blur, then ``-log`` back to line integrals, and a fixed window (from the normal anatomy).
    """
    size = attenuation.shape[0]
    signal = detected(attenuation)
    counts = photons / (size / 512.0) ** 2  # same noise look at every size: fewer photons per smaller pixel
    noisy = signal + rng.standard_normal(signal.shape).astype(np.float32) * np.sqrt(signal / counts)
    noisy = ndimage.gaussian_filter(noisy, 0.6 * size / 1024)
    lo, hi = window
    out = np.clip((to_line(noisy) - lo) / max(hi - lo, 1e-3), 0, 1)
    # a gentle gamma, as a viewing-station LUT applies: lung detail kept, dense parts not saturated
    return (out ** 0.9).astype(np.float32)

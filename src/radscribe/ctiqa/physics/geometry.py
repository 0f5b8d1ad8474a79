"""Parallel-beam (rebinned) scan geometry: image grid, detector and view angles.

A clinical third-generation scanner measures fan-beam views; rebinning turns them
into parallel-beam views with the same number of views per rotation. We simulate
that rebinned geometry directly. Coordinates: pixel (row, col) has its centre at
x = (col - (N-1)/2) * spacing, y = ((N-1)/2 - row) * spacing (y anterior, up);
a view at angle theta measures line integrals along u_perp = (-sin, cos) at
detector coordinate s = x cos(theta) + y sin(theta).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from radscribe.errors import ConfigError


def _fast_fft_size(n: int) -> int:
    """Smallest m >= n of the form 2^a 3^b 5^c (FFT-friendly)."""
    m = n
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


def default_detector_bins(n: int) -> int:
    """Enough bins of one pixel width to cover the image diagonal (no truncation)."""
    return int(math.ceil(n * math.sqrt(2.0))) + 2


@dataclass(frozen=True)
class ParallelGeometry:
    """One scan: N x N image, ``n_det`` detector bins of one pixel width, ``n_views`` views.

    Views are equally spaced: theta_v = start + v * range / n_views (radians). The
    detector bin spacing equals the pixel spacing (bins are in pixel units, so the
    operator does not depend on the physical pixel size, which is applied outside).
    """

    n: int
    n_det: int
    n_views: int
    angular_range_deg: float = 360.0
    start_deg: float = 0.0

    def __post_init__(self) -> None:
        if self.n < 8 or self.n_det < 8:
            raise ConfigError(f"image ({self.n}) and detector ({self.n_det}) need at least 8 pixels")
        if self.n_views < 2:
            raise ConfigError(f"n_views must be at least 2, got {self.n_views}")
        if not 0.0 < self.angular_range_deg <= 360.0:
            raise ConfigError(f"angular_range_deg must be in (0, 360], got {self.angular_range_deg}")

    @classmethod
    def for_image(cls, n: int, n_views: int, angular_range_deg: float = 360.0) -> ParallelGeometry:
        return cls(n=n, n_det=default_detector_bins(n), n_views=n_views, angular_range_deg=angular_range_deg)

    @property
    def fft_length(self) -> int:
        """Zero-padded projection length: at least 2x the detector, so filtering never wraps."""
        return _fast_fft_size(2 * self.n_det)

    def angles(self) -> np.ndarray:
        """View angles in radians (float64).

        Full rotation with an even view count: the second half-turn is offset by half a
        step, so each view's opposite (theta + 180 deg) falls between two first-half views.
        A fan-beam scanner gets this for free (its complementary rays lie at other angles);
        without it an even-count parallel scan would measure every line twice and sample
        only n_views / 2 directions. Odd counts interleave by themselves.
        """
        step = math.radians(self.angular_range_deg) / self.n_views
        rel = step * np.arange(self.n_views)
        if self.angular_range_deg >= 360.0 and self.n_views % 2 == 0:
            rel[self.n_views // 2 :] += 0.5 * step
        return math.radians(self.start_deg) + rel

    def view_weights(self) -> np.ndarray:
        """FBP weight of each view: angular step x redundancy weight (see :func:`redundancy_weights`)."""
        span = math.radians(self.angular_range_deg)
        step = span / self.n_views
        weights = step * redundancy_weights(np.arange(self.n_views) * step, span)
        if span < math.pi:
            # Missing wedge: scale so the weights still sum to pi and the mean attenuation
            # (the DC of the image) is kept, as limited-angle systems do.
            weights *= math.pi / span
        return weights


def redundancy_weights(rel_angles: np.ndarray, angular_range: float) -> np.ndarray:
    """Weights that make every ray direction (mod pi) count once in FBP.

    A parallel ray and its opposite (theta + pi) measure the same line. Full
    rotation: every line twice, weight 1/2. Range <= pi: each line at most once,
    weight 1 (the missing wedge gives limited-angle artefacts, as it should).
    In between, lines in the overlap are measured twice and get smooth
    complementary weights sin^2 / cos^2 (the parallel-beam form of Parker weights).
    """
    if angular_range >= 2 * math.pi - 1e-9:
        return np.full(rel_angles.shape, 0.5)
    if angular_range <= math.pi + 1e-9:
        return np.ones(rel_angles.shape)
    overlap = angular_range - math.pi
    w = np.ones(rel_angles.shape)
    lead = rel_angles < overlap
    w[lead] = np.sin(0.5 * math.pi * rel_angles[lead] / overlap) ** 2
    tail = rel_angles >= math.pi
    w[tail] = np.cos(0.5 * math.pi * (rel_angles[tail] - math.pi) / overlap) ** 2
    return w


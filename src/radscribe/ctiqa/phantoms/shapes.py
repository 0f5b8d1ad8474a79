"""Analytic 2-D shapes evaluated on patient-frame millimetre coordinates.

Coordinates: ``x`` grows toward the patient's LEFT (image right), ``y`` toward POSTERIOR
(image down). A shape knows a bounding circle (so the canvas only evaluates it on a small
window) and how to tell which points are inside (``mask``) or how much of a pixel it covers
(``alpha``, for thin structures such as small vessels).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np

Wobble = tuple[tuple[int, float, float], ...]  # (harmonic k, relative amplitude, phase)


def random_wobble(rng: np.random.Generator, amplitude: float, kmax: int = 5) -> Wobble:
    """Low-order boundary undulation: amplitude falls as 1/k so outlines stay smooth."""
    return tuple((k, float(rng.normal(0, amplitude / k)), float(rng.uniform(0, 2 * np.pi))) for k in range(2, kmax + 1))


@dataclass(frozen=True)
class Ellipse:
    """A (super)ellipse with optional egg shape, taper and wobbly outline.

    ``a`` is the semi-axis along the rotated x-axis, ``b`` along the rotated y-axis on its
    negative (anterior) side and ``b_post`` on the positive side; ``square`` > 0 squares it off;
    ``taper`` widens the posterior half (a head is wider behind than in front).
    """

    cx: float
    cy: float
    a: float
    b: float
    angle: float = 0.0  # degrees, from +x toward +y
    b_post: float | None = None
    square: float = 0.0  # > 0 squares the outline off at the diagonals (a flat back, a box-like pelvis)
    taper: float = 0.0
    wobble: Wobble = ()
    soft: float = 0.0  # edge width in mm when painted with alpha

    def bound(self) -> tuple[float, float, float]:
        extra = 1.0 + sum(abs(w[1]) for w in self.wobble) + abs(self.taper) + abs(self.square)
        return self.cx, self.cy, max(self.a, self.b, self.b_post or 0.0) * extra + 1.0

    def local(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = x - np.float32(self.cx), y - np.float32(self.cy)
        if self.angle == 0.0:
            return dx, dy
        c, s = np.float32(np.cos(np.radians(self.angle))), np.float32(np.sin(np.radians(self.angle)))
        return dx * c + dy * s, -dx * s + dy * c

    def rho(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Normalised radius: < 1 inside, 1 on the outline."""
        u, v = self.local(x, y)
        if self.b_post is None:
            vn = v * np.float32(1.0 / self.b)
        else:
            vn = v * np.where(v < 0, np.float32(1.0 / self.b), np.float32(1.0 / self.b_post))
        if self.taper:
            un = u / (np.float32(self.a) * (1 + np.float32(self.taper) * np.clip(vn, -1, 1)))
        else:
            un = u * np.float32(1.0 / self.a)
        r = np.sqrt(un * un + vn * vn)
        if not (self.wobble or self.square):
            return r
        # Outline radius 1 + sum a_k cos(k theta + phase_k), with cos/sin(k theta) by recurrence
        # from (un, vn) / r: arctan2 would cost ten times more on a full image.
        inv = 1.0 / np.maximum(r, np.float32(1e-6))
        c1, s1 = un * inv, vn * inv
        edge = np.ones_like(r)
        terms = {k: (amp, ph) for k, amp, ph in self.wobble}
        ck, sk = c1, s1
        for k in range(2, max(list(terms) + [4 if self.square else 1]) + 1):
            ck, sk = ck * c1 - sk * s1, sk * c1 + ck * s1
            if k in terms:
                amp, ph = terms[k]
                edge += np.float32(amp * np.cos(ph)) * ck - np.float32(amp * np.sin(ph)) * sk
            if k == 4 and self.square:  # bulge at the diagonals
                edge -= np.float32(self.square) * ck
        return r / edge

    def mask(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.rho(x, y) <= 1.0

    def alpha(self, x: np.ndarray, y: np.ndarray, pixel_mm: float) -> np.ndarray:
        """Coverage with an edge ``soft`` mm wide (at least a pixel): for low-contrast, ill-defined borders."""
        edge = max(self.soft, pixel_mm)
        return np.clip(0.5 + (1.0 - self.rho(x, y)) * np.float32(min(self.a, self.b) / edge), 0.0, 1.0)

    def grow(self, d: float) -> Ellipse:
        """The same outline moved outward by ``d`` mm (inward when negative), approximately."""
        return replace(
            self,
            a=max(self.a + d, 0.1),
            b=max(self.b + d, 0.1),
            b_post=None if self.b_post is None else max(self.b_post + d, 0.1),
        )

    def point(self, t_deg: float, scale: float = 1.0) -> tuple[float, float]:
        """The patient-frame point at polar angle ``t`` (degrees, local frame) on the scaled outline."""
        t = np.radians(t_deg)
        b = self.b if (self.b_post is None or np.sin(t) < 0) else self.b_post
        u, v = scale * self.a * np.cos(t), scale * b * np.sin(t)
        c, s = np.cos(np.radians(self.angle)), np.sin(np.radians(self.angle))
        return float(self.cx + u * c - v * s), float(self.cy + u * s + v * c)


@dataclass(frozen=True)
class Capsule:
    """A straight tube from (x0, y0) to (x1, y1), radius tapering from r0 to r1 (a disc when the ends meet)."""

    x0: float
    y0: float
    x1: float
    y1: float
    r0: float
    r1: float | None = None

    def bound(self) -> tuple[float, float, float]:
        half = 0.5 * float(np.hypot(self.x1 - self.x0, self.y1 - self.y0))
        return 0.5 * (self.x0 + self.x1), 0.5 * (self.y0 + self.y1), half + max(self.r0, self.r1 or 0.0) + 1.0

    def _excess(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Distance from the axis minus the local radius (negative inside)."""
        ex, ey = np.float32(self.x1 - self.x0), np.float32(self.y1 - self.y0)
        length2 = float(ex * ex + ey * ey)
        dx, dy = x - np.float32(self.x0), y - np.float32(self.y0)
        t = np.clip((dx * ex + dy * ey) / length2, 0, 1) if length2 > 0 else np.zeros_like(dx)
        dist = np.hypot(dx - t * ex, dy - t * ey)
        r1 = self.r0 if self.r1 is None else self.r1
        return dist - (np.float32(self.r0) + t * np.float32(r1 - self.r0))

    def mask(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._excess(x, y) <= 0

    def grow(self, d: float) -> Capsule:
        r1 = self.r0 if self.r1 is None else self.r1
        return replace(self, r0=max(self.r0 + d, 0.05), r1=max(r1 + d, 0.05))

    def alpha(self, x: np.ndarray, y: np.ndarray, pixel_mm: float) -> np.ndarray:
        """Fractional pixel coverage, so a 0.5 mm vessel still shows up faintly at 0.8 mm pixels."""
        return np.clip(0.5 - self._excess(x, y) / np.float32(pixel_mm), 0.0, 1.0)


@dataclass(frozen=True)
class HalfPlane:
    """Points with n . (x, y) <= c; only usable as a clip or exclusion, never as the painted shape."""

    nx: float
    ny: float
    c: float

    def mask(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x * np.float32(self.nx) + y * np.float32(self.ny) <= np.float32(self.c)


class NoiseMask:
    """A smooth random pattern thresholded to keep ``fraction`` of points (stool bubbles, lobulation).

    Built from a sum of random plane waves, so it is defined everywhere in patient space,
    cheap to evaluate on a small window, and identical for identical ``rng`` state.
    """

    def __init__(self, rng: np.random.Generator, wavelength_mm: float, fraction: float, n_waves: int = 10, spread: float = 2.0) -> None:
        # Wavelengths spread over a factor ``spread`` so the pattern is irregular, not a honeycomb.
        k = 2 * np.pi / wavelength_mm * np.exp(rng.uniform(-np.log(spread) / 2, np.log(spread) / 2, n_waves))
        direction = rng.uniform(0, 2 * np.pi, n_waves)
        self.kx = (k * np.cos(direction)).astype(np.float32)
        self.ky = (k * np.sin(direction)).astype(np.float32)
        self.phase = rng.uniform(0, 2 * np.pi, n_waves).astype(np.float32)
        # A sum of n unit cosines has SD sqrt(n/2); threshold at the normal quantile of 1 - fraction.
        quantile = NormalDist().inv_cdf(min(max(1.0 - fraction, 1e-6), 1 - 1e-6))
        self.threshold = float(quantile * np.sqrt(n_waves / 2))

    def field(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        total = np.zeros(np.broadcast_shapes(x.shape, y.shape), np.float32)
        for kx, ky, ph in zip(self.kx, self.ky, self.phase):
            total += np.cos(x * kx + y * ky + ph)
        return total

    def mask(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.field(x, y) > self.threshold

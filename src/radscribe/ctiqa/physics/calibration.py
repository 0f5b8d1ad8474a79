"""SYNTHETIC calibration phantoms for checking the simulator (tests, benchmark, docs).

These are physics test objects, not anatomy (that is ``ctiqa.phantoms``): a water
cylinder for noise, and a simple body of ellipses with bone and gas for streaks.
"""

from __future__ import annotations

import numpy as np


def _coords_mm(n: int, spacing_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) in mm from the image centre, y anterior (up)."""
    idx = (np.arange(n) - (n - 1) / 2) * spacing_mm
    x, y = np.meshgrid(idx, -idx)
    return y, x


def water_cylinder(n: int, spacing_mm: float, diameter_mm: float = 320.0) -> tuple[np.ndarray, np.ndarray]:
    """A centred water cylinder (0 HU) in air (-1000 HU); returns (hu, body_mask)."""
    y, x = _coords_mm(n, spacing_mm)
    mask = x**2 + y**2 <= (diameter_mm / 2) ** 2
    return np.where(mask, 0.0, -1000.0).astype(np.float32), mask


def centre_roi(n: int, spacing_mm: float, radius_mm: float = 25.0) -> np.ndarray:
    """Circular region at the image centre (the uniform region of the water cylinder)."""
    y, x = _coords_mm(n, spacing_mm)
    return x**2 + y**2 <= radius_mm**2


def ellipse_body(n: int, spacing_mm: float, width_mm: float = 320.0) -> tuple[np.ndarray, np.ndarray]:
    """An abdomen-like test object: soft-tissue ellipse with fat rim, vertebra, kidneys and gas.

    High-contrast edges (bone, gas) are what sparse views turn into streaks.
    Returns (hu, body_mask).
    """
    y, x = _coords_mm(n, spacing_mm)
    a, b = width_mm / 2, 0.75 * width_mm / 2

    def ell(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
        return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0

    hu = np.full((n, n), -1000.0, np.float32)
    body = ell(0, 0, a, b)
    hu[body] = -100.0  # subcutaneous fat
    hu[ell(0, 0, a - 15, b - 15)] = 40.0  # soft tissue
    hu[ell(-0.25 * a, 0.2 * b, 0.3 * a, 0.35 * b)] = 60.0  # liver (image left = patient right)
    for side in (-1, 1):
        hu[ell(side * 0.38 * a, -0.35 * b, 0.1 * a, 0.18 * b)] = 150.0  # enhancing kidneys
    hu[ell(0, -0.55 * b, 0.11 * a, 0.14 * b)] = 700.0  # vertebral body (cortex + marrow, mean)
    hu[ell(0, -0.55 * b, 0.07 * a, 0.09 * b)] = 250.0
    hu[ell(0.3 * a, 0.35 * b, 0.08 * a, 0.06 * b)] = -1000.0  # bowel gas
    hu[ell(0.05 * a, 0.5 * b, 0.05 * a, 0.04 * b)] = -1000.0
    hu[ell(0.1 * a, -0.3 * b, 0.04 * a, 0.04 * b)] = 200.0  # aorta with contrast
    return hu, body

"""Branching vessel trees and end-on vessel dots (lungs, liver), tapering toward the periphery."""

from __future__ import annotations

import numpy as np

from radscribe.ctiqa.phantoms.canvas import Canvas
from radscribe.ctiqa.phantoms.shapes import Capsule


def vessel_tree(
    cv: Canvas,
    organ: str,
    tissue_name: str,
    root: tuple[float, float],
    direction_deg: float,
    *,
    length_mm: float,
    radius_mm: float,
    depth: int,
    within: tuple[str, ...],
    spread_deg: tuple[float, float] = (18.0, 38.0),
    leave_plane: float = 0.15,
) -> int:
    """Recursive bifurcating tree lying in the slice plane; stops where a branch leaves ``within``.

    Each generation is ~0.8x as long and ~0.72x as thick (Murray's law keeps r^3 roughly
    conserved at a symmetric split); branches wiggle by a few degrees. Returns segments drawn.
    """
    rng = cv.rng
    stack = [(root[0], root[1], direction_deg, length_mm, radius_mm, depth)]
    drawn = 0
    allowed = within + (organ,)
    while stack:
        x, y, ang, length, r, d = stack.pop()
        ang += rng.normal(0, 6)
        t = np.radians(ang)
        x1, y1 = x + length * np.cos(t), y + length * np.sin(t)
        r1 = r * 0.85
        if cv.organ_at(x1, y1) not in allowed and drawn > 0:
            length *= 0.5  # a stub that ends at the organ edge
            x1, y1 = x + length * np.cos(t), y + length * np.sin(t)
            d = 0
        cv.paint(organ, tissue_name, Capsule(x, y, x1, y1, r, r1), only=allowed, alpha=True)
        drawn += 1
        if d <= 0 or r1 < 0.35:
            continue
        for sign in (-1, 1):
            if rng.random() < leave_plane:  # branch leaves the slice
                continue
            stack.append((x1, y1, ang + sign * rng.uniform(*spread_deg), length * rng.uniform(0.7, 0.9), r1 * rng.uniform(0.68, 0.8), d - 1))
    return drawn


def vessel_dots(
    cv: Canvas,
    organ: str,
    tissue_name: str,
    region,
    hilum: tuple[float, float],
    *,
    count: int,
    max_radius_mm: float,
    reach_mm: float,
    within: tuple[str, ...],
) -> int:
    """Vessels cut across by the slice: small ellipses, larger near the hilum, sub-millimetre at the edge.

    Centres are drawn uniformly in ``region`` and kept where they land in ``within``.
    """
    rng = cv.rng
    t = rng.uniform(0, 360, count)
    r = np.sqrt(rng.uniform(0, 1, count))
    pts = np.array([region.point(float(a), float(b)) for a, b in zip(t, r)])
    keep = np.array([cv.organ_at(x, y) in within for x, y in pts], bool)
    pts = pts[keep]
    closeness = np.clip(1.0 - np.hypot(pts[:, 0] - hilum[0], pts[:, 1] - hilum[1]) / reach_mm, 0.0, 1.0)
    radii = 0.35 + max_radius_mm * closeness**1.6 * rng.uniform(0.6, 1.1, len(pts))
    # Rarely exactly perpendicular to the slice: most cuts are slightly oblique (elongated).
    stretch = 1.0 + rng.exponential(0.4, len(pts))
    angles = rng.uniform(0, 180, len(pts))
    cv.paint_discs(organ, tissue_name, pts, radii, stretch=stretch, angles_deg=angles, only=within + (organ,))
    return len(pts)

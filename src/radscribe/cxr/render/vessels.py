"""Lung markings: pulmonary vessels branching out of each hilum and thinning towards the periphery."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _segments(rng, start, direction, length, depth, out, gen=0):
    """Grow a random binary tree; each segment is (x0, y0, x1, y1, generation)."""
    if depth == 0 or length < 0.008:
        return
    end = (start[0] + length * np.cos(direction), start[1] + length * np.sin(direction))
    out.append((start[0], start[1], end[0], end[1], gen))
    for turn in (-1, 1):
        _segments(rng, end, direction + turn * rng.uniform(0.2, 0.5) + rng.normal(0, 0.08), length * rng.uniform(0.62, 0.8), depth - 1, out, gen + 1)


def vessel_tree(rng: np.random.Generator, hilum: tuple[float, float], side: int, n_trunks: int = 7) -> list[tuple]:
    """Trunks fan out from the hilum: up, out and down (side -1 = image left)."""
    segs: list[tuple] = []
    base = np.pi if side < 0 else 0.0
    for angle in np.linspace(-1.35, 1.35, n_trunks):
        a = base + (angle if side > 0 else -angle) + rng.normal(0, 0.12)
        # trunks leave from points spread over the hilum, not from one point (that looks like a starburst)
        start = (hilum[0] + rng.normal(0, 0.012), hilum[1] + rng.normal(0, 0.03))
        _segments(rng, start, a, rng.uniform(0.06, 0.09), 6, segs)
    return segs


def rasterize(segs: list[tuple], size: int, weights=(1.0, 0.75, 0.55, 0.4, 0.3, 0.22)) -> np.ndarray:
    """Draw segments by dense point sampling, one canvas per width class, then blur each to its width."""
    index: list[list[np.ndarray]] = [[], [], []]
    value: list[list[np.ndarray]] = [[], [], []]
    for x0, y0, x1, y1, gen in segs:
        n = max(2, int(np.hypot(x1 - x0, y1 - y0) * size * 1.5))
        t = np.linspace(0, 1, n)
        xs = np.clip(((x0 + t * (x1 - x0)) * size).astype(int), 0, size - 1)
        ys = np.clip(((y0 + t * (y1 - y0)) * size).astype(int), 0, size - 1)
        cls = 0 if gen <= 1 else (1 if gen <= 3 else 2)
        index[cls].append(ys * size + xs)
        value[cls].append(np.full(n, weights[min(gen, len(weights) - 1)], np.float32))
    canvases = [
        np.bincount(np.concatenate(i), weights=np.concatenate(v), minlength=size * size).reshape(size, size).astype(np.float32)
        if i else np.zeros((size, size), np.float32)
        for i, v in zip(index, value)
    ]
    out = np.zeros((size, size), np.float32)
    for cls, sigma in enumerate((2.2, 1.3, 0.8)):
        out += ndimage.gaussian_filter(canvases[cls], sigma * size / 512) * (sigma ** 0.5)
    return out

"""Small drawing helpers shared by findings and devices: smooth curves, discs, soft noise."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def curve_points(control: list[tuple[float, float]], n: int) -> np.ndarray:
    """A smooth path through ``control`` points (Catmull-Rom), ``n`` samples, as (n, 2) x/y fractions."""
    pts = np.asarray(control, dtype=np.float64)
    if len(pts) == 2:
        t = np.linspace(0, 1, n)[:, None]
        return pts[0] + t * (pts[1] - pts[0])
    padded = np.vstack([2 * pts[0] - pts[1], pts, 2 * pts[-1] - pts[-2]])
    out = []
    per = max(2, n // (len(pts) - 1))
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        t = np.linspace(0, 1, per, endpoint=False)[:, None]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(pts[-1:])
    return np.vstack(out)


def draw_path(points: np.ndarray, size: int, width: float, value: float = 1.0) -> np.ndarray:
    """Rasterise a path (x/y fractions) as a blurred line ``width`` (fraction of side) wide; peak ~``value``."""
    canvas = np.zeros((size, size), np.float32)
    # resample so consecutive samples are under half a pixel apart
    seg = np.hypot(*np.diff(points, axis=0).T)
    total = float(seg.sum()) * size
    n = max(2, int(total * 2))
    cum = np.concatenate([[0], np.cumsum(seg)])
    t = np.linspace(0, cum[-1], n)
    xs = np.interp(t, cum, points[:, 0])
    ys = np.interp(t, cum, points[:, 1])
    xi = np.clip((xs * size).astype(int), 0, size - 1)
    yi = np.clip((ys * size).astype(int), 0, size - 1)
    canvas[yi, xi] = 1.0
    sigma = max(0.5, width * size / 2.5)
    blurred = ndimage.gaussian_filter(canvas, sigma)
    peak = float(blurred.max())
    return blurred * (value / peak) if peak > 0 else blurred


def disc(X, Y, cx: float, cy: float, r: float, squash: float = 1.0) -> np.ndarray:
    """Projected thickness of a sphere (0 outside, 1 at the centre)."""
    d2 = ((X - cx) / r) ** 2 + ((Y - cy) / (r * squash)) ** 2
    return np.sqrt(np.clip(1 - d2, 0, 1)).astype(np.float32)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide ones run on a shrunken copy (same look, a fraction of the time)."""
    image = np.asarray(image, np.float32)
    factor = int(sigma // 2)
    if factor < 2 or image.shape[0] % factor:
        return ndimage.gaussian_filter(image, sigma)
    h, w = image.shape
    small = image.reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))
    small = ndimage.gaussian_filter(small, np.sqrt(max(sigma ** 2 - factor ** 2 / 4, 0.25)) / factor)
    return ndimage.zoom(small, factor, order=1, mode="nearest", grid_mode=True)[:h, :w]


def soft_noise(rng: np.random.Generator, size: int, sigma_frac: float) -> np.ndarray:
    """Smooth random field scaled to roughly [-1, 1]."""
    field = blur(rng.standard_normal((size, size)).astype(np.float32), sigma_frac * size)
    return field / (3 * float(field.std()) + 1e-6)

"""A classical no-reference baseline: noise SD from ``skimage.restoration.estimate_sigma``
(wavelet median-absolute-deviation estimate), mapped to a score by a monotone (isotonic,
decreasing) fit on the training split. It sees noise only; streaks, metal and blur are invisible to it.

The SD is measured on the preprocessed ldct-window channel (what the other models see) and
reported in HU of that window (x 350 HU / full scale).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from skimage.restoration import estimate_sigma

WINDOW_WIDTH_HU = 350.0


def noise_sd_hu(batch_uint8: np.ndarray) -> np.ndarray:
    """Estimated noise SD (HU within the ldct window) per preprocessed slice (B, C, H, W)."""
    return np.array([estimate_sigma(im[0].astype(np.float64) / 255.0) * WINDOW_WIDTH_HU for im in batch_uint8])


def isotonic_decreasing(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool-adjacent-violators fit of y as a non-increasing function of x; returns (knots_x, knots_y)."""
    order = np.argsort(x)
    xs, ys = x[order], -y[order]  # fit non-decreasing on -y
    blocks: list[list[float]] = []  # [sum, count, x_first, x_last]
    for xi, yi in zip(xs, ys):
        blocks.append([yi, 1.0, xi, xi])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c, _, x_last = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
            blocks[-1][3] = x_last
    knots_x = np.array([(b[2] + b[3]) / 2 for b in blocks])
    knots_y = np.array([-b[0] / b[1] for b in blocks])
    return knots_x, knots_y


@dataclass
class NoiseSigmaIQA:
    kind: str = "noise_sigma"
    knots_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    knots_y: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, batch_uint8: np.ndarray, scores: np.ndarray) -> "NoiseSigmaIQA":
        self.knots_x, self.knots_y = isotonic_decreasing(noise_sd_hu(batch_uint8), np.asarray(scores, float))
        return self

    def predict_sd(self, sd: np.ndarray) -> np.ndarray:
        return np.interp(sd, self.knots_x, self.knots_y)

    def predict(self, batch_uint8: np.ndarray) -> np.ndarray:
        return self.predict_sd(noise_sd_hu(batch_uint8))

"""Cardiothoracic ratio measured from pixels, the way a reader does it on a PA film.

This checks the renderer rather than reading back its truth: the lungs are found by a threshold
(Otsu threshold over the upper central chest, components that touch the border dropped, the two largest kept),
then CTR = (MRD + MLD) / ID where

* MRD + MLD is the widest horizontal extent of the heart shadow, taken as the distance between the
  most medial right-heart border and the most lateral left-heart border (lung inner edges, followed
  down from the hilum until they jump, which is where the diaphragm dome starts), and
* ID is the widest inner thoracic diameter (outer lung edges on one row).

Give it the displayed image (dense = bright) or a dict with ``lung_right`` and ``lung_left`` masks.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu


def lungs_from_image(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(patient-right lung, patient-left lung) masks found in the image by thresholding."""
    img = np.asarray(image, dtype=np.float32)
    size = img.shape[0]
    smooth = ndimage.gaussian_filter(img, size / 256)
    h, w = smooth.shape
    # the upper chest, where lungs fill about half the field and the bright abdomen does not pull the threshold up
    centre = smooth[int(0.12 * h):int(0.55 * h), int(0.15 * w):int(0.85 * w)]
    dark = smooth < threshold_otsu(centre)
    n_open = max(2, size // 85)
    opened = ndimage.binary_opening(dark, iterations=n_open)  # cut thin bridges (between ribs) to the outside
    labels, count = ndimage.label(opened)
    if count == 0:
        raise ValueError("no dark lung fields found")
    border = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])))
    sizes = ndimage.sum(opened, labels, index=range(1, count + 1))
    keep = [k + 1 for k in np.argsort(sizes)[::-1] if (k + 1) not in border and sizes[k] > 0.01 * dark.size][:2]
    if len(keep) < 2:
        raise ValueError("could not find two lung fields")
    # give back the corners the opening shaved off (costophrenic and cardiophrenic angles): dark pixels near each piece
    a = dark & ndimage.binary_dilation(labels == keep[0], iterations=n_open + 1)
    b = dark & ndimage.binary_dilation(labels == keep[1], iterations=n_open + 1)
    if np.nonzero(a)[1].mean() > np.nonzero(b)[1].mean():
        a, b = b, a
    return ndimage.binary_fill_holes(a), ndimage.binary_fill_holes(b)


def _inner_edge_extreme(lung: np.ndarray, medial_is_max: bool) -> float:
    """Follow the lung's medial edge down from 40 % of its height; return its most lateral point on the heart.

    Near the bottom (lowest quarter of the lung) the edge may leave the heart for the diaphragm dome: a sudden
    outward step, or an outward turn after the heart border has started tapering in. The walk stops there.
    """
    rows = np.nonzero(lung.any(axis=1))[0]
    top, bottom = rows.min(), rows.max()
    start = int(top + 0.4 * (bottom - top))
    low_zone = top + 0.75 * (bottom - top)
    edges = []
    for r in range(start, bottom + 1):
        cols = np.nonzero(lung[r])[0]
        if len(cols) == 0:
            break
        edges.append(-cols.max() if medial_is_max else cols.min())  # larger = more lateral on both sides
    lateral = ndimage.median_filter(np.asarray(edges, np.float32), size=5, mode="nearest")
    tol = max(2.0, lung.shape[0] / 150)
    jump = max(3.0, lung.shape[0] / 60)
    best = lateral[0]
    running_low = None
    for i, value in enumerate(lateral):
        in_low_zone = start + i >= low_zone
        if in_low_zone and i > 0 and value - lateral[i - 1] > jump:
            break
        if in_low_zone and running_low is not None and value > running_low + tol:
            break
        if value < best - tol:
            running_low = value if running_low is None else min(running_low, value)
        best = max(best, value)
    return float(-best if medial_is_max else best)


def ctr_from_lungs(right: np.ndarray, left: np.ndarray) -> float:
    right_border = _inner_edge_extreme(right, medial_is_max=True)  # most medial point of the right lung edge
    left_border = _inner_edge_extreme(left, medial_is_max=False)
    both = right | left
    both_rows = np.nonzero(right.any(axis=1) & left.any(axis=1))[0]
    widths = []
    for r in both_rows:
        cols = np.nonzero(both[r])[0]
        widths.append(cols.max() - cols.min() + 1)
    thorax = float(max(widths))
    return (left_border - right_border) / thorax


def measure_ctr(image_or_masks) -> float:
    """Cardiothoracic ratio from an image (dense = bright, patient right on image left) or from lung masks."""
    if isinstance(image_or_masks, dict):
        return ctr_from_lungs(np.asarray(image_or_masks["lung_right"], bool), np.asarray(image_or_masks["lung_left"], bool))
    right, left = lungs_from_image(image_or_masks)
    return ctr_from_lungs(right, left)

"""Real lung-field shapes for the synthetic radiographs.

The masks come from torchxrayvision's wheel (``semantic_masks_v7labs_lungs.zip``, V7 Labs
lung segmentations of real chest radiographs, ~517 PNG/JPEG files, 0/255 and sometimes 127).
We read the zip directly (never import torchxrayvision), keep the two largest connected
components, check they look like a right and a left lung, and crop to their bounding box.
A mask is chosen per seed; a bad one (empty, one lung, odd shape) makes us try the next.
"""

from __future__ import annotations

import functools
import io
import zipfile
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from radscribe.resources import torchxrayvision_data_dir

MASK_ZIP = "semantic_masks_v7labs_lungs.zip"
WORK_SIZE = 256  # masks are normalised to this square before being resampled to the render size


@dataclass(frozen=True)
class LungMask:
    """Two lungs in a WORK_SIZE square (bounding box of both lungs fills it). Image left = patient right."""

    source_id: str
    right: np.ndarray  # patient's right lung (image left), bool
    left: np.ndarray  # patient's left lung (image right), bool


@functools.lru_cache(maxsize=1)
def mask_names() -> tuple[str, ...]:
    with zipfile.ZipFile(torchxrayvision_data_dir() / MASK_ZIP) as archive:
        return tuple(sorted(n for n in archive.namelist() if not n.endswith("/")))


def _read(name: str) -> np.ndarray:
    with zipfile.ZipFile(torchxrayvision_data_dir() / MASK_ZIP) as archive:
        data = archive.read(name)
    image = Image.open(io.BytesIO(data)).convert("L")
    image.draft("L", (512, 512))  # JPEGs decode faster at reduced size; the shape is all we need
    if max(image.size) > 700:
        scale = 600 / max(image.size)
        image = image.resize((max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale))), Image.NEAREST)
    return np.asarray(image) > 100


def _resize(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(mask.astype(np.uint8) * 255).resize((shape[1], shape[0]), Image.BILINEAR)
    return np.asarray(image) > 127


@functools.lru_cache(maxsize=600)  # ~128 KB each; all usable masks fit
def load_lung_mask(name: str) -> LungMask | None:
    """The named mask normalised, or None when it does not look like two lungs."""
    mask = _read(name)
    labels, count = ndimage.label(mask)
    if count < 2:
        return None
    sizes = ndimage.sum(mask, labels, index=range(1, count + 1))
    order = np.argsort(sizes)[::-1]
    a, b = order[0] + 1, order[1] + 1
    if sizes[order[1]] < 0.35 * sizes[order[0]] or sizes[order[0]] < 0.03 * mask.size:
        return None
    cols = [np.nonzero(labels == k)[1].mean() for k in (a, b)]
    right_k, left_k = (a, b) if cols[0] < cols[1] else (b, a)  # image left is patient right
    both = (labels == a) | (labels == b)
    ys, xs = np.nonzero(both)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    h, w = y1 - y0, x1 - x0
    if not 0.6 < h / w < 1.4:
        return None
    right = _resize(ndimage.binary_fill_holes(labels[y0:y1, x0:x1] == right_k), (WORK_SIZE, WORK_SIZE))
    left = _resize(ndimage.binary_fill_holes(labels[y0:y1, x0:x1] == left_k), (WORK_SIZE, WORK_SIZE))
    # annotation strokes and spurs (some masks have lines drawn across) go with an opening
    kernel = np.ones((11, 11), bool)
    right, left = _main_piece(ndimage.binary_opening(right, kernel)), _main_piece(ndimage.binary_opening(left, kernel))
    if not right.any() or not left.any():
        return None
    # each lung must stay on its own half and the two must not overlap much (a lateral view or a merged blob would)
    rx = np.nonzero(right)[1]
    lx = np.nonzero(left)[1]
    if rx.mean() > 0.45 * WORK_SIZE or lx.mean() < 0.55 * WORK_SIZE or rx.max() > lx.min() + 0.1 * WORK_SIZE:
        return None
    # both lungs must span most of the height with domes at similar levels (cut-off or collapsed lungs are not normal anatomy)
    ry, ly = np.nonzero(right)[0], np.nonzero(left)[0]
    limit = 0.1 * WORK_SIZE
    if abs(int(ry.max()) - int(ly.max())) > limit or abs(int(ry.min()) - int(ly.min())) > limit:
        return None
    # an apex is narrow and widens downwards; a wide band near the top is an annotation stroke, not lung
    for lung in (right, left):
        widths = lung.sum(axis=1)
        ys = np.nonzero(widths)[0]
        cut = int(ys.min() + 0.3 * (ys.max() - ys.min()))
        if widths[ys.min():cut].max() > 1.15 * widths[cut]:
            return None
    return LungMask(source_id=name.rsplit("/", 1)[-1], right=right, left=left)


def _main_piece(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask)
    if count <= 1:
        return mask
    sizes = ndimage.sum(mask, labels, index=range(1, count + 1))
    return labels == int(np.argmax(sizes)) + 1


def pick_lung_mask(rng: np.random.Generator) -> LungMask:
    """A random usable mask; falls through bad ones deterministically."""
    names = mask_names()
    start = int(rng.integers(len(names)))
    for step in range(len(names)):
        mask = load_lung_mask(names[(start + step * 7) % len(names)])
        if mask is not None:
            return mask
    raise RuntimeError("no usable lung mask in " + MASK_ZIP)

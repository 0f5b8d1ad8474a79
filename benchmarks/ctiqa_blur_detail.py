"""Does what the 2x2 block mean throws away separate blur? (SYNTHETIC data: val + test of a make-ctiqa mix.)

Feature per slice: the energy of (image - its 2x2 block mean) at native resolution (octave 1) and the same one
level down (octave 2), in soft tissue only (-150..250 HU, eroded), and their ratio. Prints the AUC of each against
"no blur" for mild, moderate and severe blur, separately for slices made at 256 and at 512 px.

    .venv/bin/python benchmarks/ctiqa_blur_detail.py ctiqa-mix-tf20-w25
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.stats import rankdata

SEVERITY = {"none": 0, "mild": 1, "moderate": 2, "severe": 3}


def auc(negative: np.ndarray, positive: np.ndarray) -> float:
    ranks = rankdata(np.r_[negative, positive])
    n1 = len(positive)
    return float((ranks[len(negative):].sum() - n1 * (n1 + 1) / 2) / (len(negative) * n1))


def half(a: np.ndarray, reduce) -> np.ndarray:
    n = a.shape[0] // 2
    return reduce(a[:2 * n, :2 * n].reshape(n, 2, n, 2), axis=(1, 3))


def up(a: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(a, 2, 0), 2, 1)


def octave_energies(hu: np.ndarray) -> tuple[float, float] | None:
    """Mean squared (image - 2x2 block mean) in soft tissue, at native resolution and one level down."""
    soft = ndimage.binary_erosion((hu > -150) & (hu < 250), iterations=3)
    level1 = half(hu, np.mean)
    level2 = half(level1, np.mean)
    soft1, soft2 = half(soft, np.all), half(half(soft, np.all), np.all)
    if soft2.sum() < 200:
        return None
    n1, n2 = 2 * level1.shape[0], 2 * level2.shape[0]
    e1 = ((hu[:n1, :n1] - up(level1))[up(soft1)] ** 2).mean()
    e2 = ((level1[:n2, :n2] - up(level2))[up(soft2)] ** 2).mean()
    return float(e1), float(e2)


def main(folder: Path) -> None:
    records = [json.loads(line) for line in open(folder / "annotations.jsonl")]
    rows = []
    for r in records:
        if r["split"] not in ("test", "val"):
            continue
        hu = np.asarray(Image.open(folder / r["image"]), dtype=np.float32) - 1024
        energies = octave_energies(hu)
        if energies:
            rows.append((hu.shape[0], SEVERITY[r["aspects"]["blur"]], *energies))
    for size in (256, 512):
        sub = np.array([row[1:] for row in rows if row[0] == size])
        blur, e1, e2 = sub[:, 0], sub[:, 1], sub[:, 2]
        print(f"made at {size} px: n={len(sub)}, blur none/mild/mod/severe = {[int((blur == k).sum()) for k in range(4)]}")
        for name, feature in (("octave1/octave2", -np.log(e1 / e2)), ("octave1", -np.log(e1)), ("octave2", -np.log(e2))):
            aucs = [round(auc(feature[blur == 0], feature[blur == k]), 3) for k in (1, 2, 3) if (blur == k).sum() > 1]
            print(f"  {name:16s} AUC vs none: mild/moderate/severe = {aucs}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

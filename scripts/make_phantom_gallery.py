"""Draw the phantom gallery for docs/ct-phantoms.md: each anatomy x 4 seeds, at its reading window.

    PYTHONPATH=src python scripts/make_phantom_gallery.py --out docs/img/phantoms.png

Rows: abdomen, chest (soft tissue), chest (lung window), head (brain window), pelvis.
All images are SYNTHETIC phantoms (the caption in the image says so).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from radscribe.ctiqa.phantoms import make_phantom
from radscribe.io import apply_window, to_uint8, write_png_atomic

ROWS = (  # (anatomy, window name, window label)
    ("abdomen", "abdomen", "abdomen  W400/L40"),
    ("chest", "abdomen", "chest  W400/L40"),
    ("chest", "lung", "chest  lung W1500/L-600"),
    ("head", "brain", "head  brain W80/L40"),
    ("pelvis", "abdomen", "pelvis  W400/L40"),
)


def gallery(seeds: list[int], tile: int = 256, size: int = 512) -> np.ndarray:
    label_h = 18
    canvas = np.zeros((len(ROWS) * (tile + label_h) + label_h, len(seeds) * tile), np.uint8)
    cache: dict[tuple[str, int], np.ndarray] = {}
    for i, (anatomy, window, _) in enumerate(ROWS):
        for j, seed in enumerate(seeds):
            if (anatomy, seed) not in cache:
                cache[(anatomy, seed)] = make_phantom(anatomy, seed, size).hu
            img = Image.fromarray(to_uint8(apply_window(cache[(anatomy, seed)], window)))
            top = i * (tile + label_h) + label_h
            canvas[top : top + tile, j * tile : (j + 1) * tile] = np.asarray(img.resize((tile, tile), Image.LANCZOS))
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    for i, (_, _, text) in enumerate(ROWS):
        draw.text((4, i * (tile + label_h) + 3), f"{text}   (seeds {', '.join(map(str, seeds))})", fill=255)
    draw.text((4, len(ROWS) * (tile + label_h) + 3), "SYNTHETIC procedural phantoms (radscribe.ctiqa.phantoms)", fill=200)
    return np.asarray(image)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/img/phantoms.png"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--tile", type=int, default=256, help="pixels per tile (phantoms are drawn at 512)")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_png_atomic(args.out, gallery(args.seeds, args.tile))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

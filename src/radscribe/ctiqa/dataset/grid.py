"""The preview grid: one SYNTHETIC slice, each degradation alone at rising strength (rows x columns).

Columns run from none to severe; the parameter values are this file's choice (labelled on
the picture) and each cell also shows what the annotation protocol measured for it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from radscribe.ctiqa.phantoms import Phantom, make_phantom
from radscribe.ctiqa.physics import AcquisitionParams, MetalInsert

COLUMNS = ("none", "mild", "moderate", "severe")


def _metal(phantom: Phantom, level: int) -> list[MetalInsert]:
    if level == 0 or not phantom.metal_sites:
        return []
    site = "spine" if "spine" in phantom.metal_sites else sorted(phantom.metal_sites)[0]
    radius, material = {1: (3.0, "titanium"), 2: (3.0, "steel"), 3: (12.0, "cobalt-chrome")}[level]
    return [MetalInsert(phantom.metal_sites[site], radius, material, site=site)]


# row name -> (parameter label, values for none..severe, how a value becomes AcquisitionParams overrides).
# Values chosen so that, on the 512-px abdomen phantom, the annotation protocol (ctiqa-annotation/1.0)
# rates each column at that severity (docs/ctiqa-dataset.md has the check).
ROWS: dict[str, tuple[str, tuple, object]] = {
    "noise": ("dose", (1.0, 0.1, 0.03, 0.012), lambda v, ph: {"dose_fraction": v}),
    "streaks (sparse view)": ("views", (1000, 180, 150, 70), lambda v, ph: {"n_views": v}),
    "limited angle": ("arc deg", (360.0, 175.0, 160.0, 130.0), lambda v, ph: {"angular_range_deg": v}),
    "metal": ("insert", (0, 1, 2, 3), lambda v, ph: {"metal": _metal(ph, v)}),
    "motion": ("mm", (0.0, 1.0, 3.0, 8.0), lambda v, ph: {"motion_mm": v}),
    "ring": ("gain SD", (0.0, 0.002, 0.006, 0.015), lambda v, ph: {"ring_gain_sd": v}),
    "blur": ("FWHM mm", (0.0, 1.2, 2.5, 5.0), lambda v, ph: {"blur_fwhm_mm": v}),
}


def grid_params(phantom: Phantom, seed: int = 0) -> list[list[AcquisitionParams]]:
    """The AcquisitionParams of every cell, rows in ROWS order (full dose except in the noise row)."""
    base = AcquisitionParams(dose_fraction=1.0, seed=seed)
    return [[replace(base, **make(v, phantom)) for v in values] for _, values, make in ROWS.values()]


def preview_grid(path: str | Path, *, anatomy: str = "abdomen", phantom_seed: int = 1, size: int = 512,
                 window: str = "ldct", crop: float = 0.5, grey_levels: int = 256,
                 rows: tuple[str, ...] | None = None) -> dict:
    """Simulate the grid and save it as a greyscale PNG; returns per-cell scores and aspects.

    Each cell shows the central ``crop`` fraction of the slice at one screen pixel per image
    pixel: shrinking a slice to a thumbnail averages noise and streaks away. ``grey_levels``
    below 256 posterises the PNG so it stays small (the docs copy uses 32). ``rows`` picks a
    subset of :data:`ROWS`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from radscribe.ctiqa.dataset.pipeline import run_slice
    from radscribe.io import apply_window, get_window

    phantom = make_phantom(anatomy, phantom_seed, size)
    chosen = {name: spec for name, spec in ROWS.items() if rows is None or name in rows}
    params = [p for name, p in zip(ROWS, grid_params(phantom)) if name in chosen]
    lo = int(round(size * (1 - crop) / 2))
    hi = size - lo
    cell_in = (hi - lo) / 100.0  # inches at dpi 100: one pixel per image pixel
    fig, axes = plt.subplots(len(chosen), len(COLUMNS), dpi=100, squeeze=False,
                             figsize=(cell_in * len(COLUMNS) + 0.6, (cell_in + 0.45) * len(chosen) + 0.7))
    cells = []
    for r, (row_name, (label, values, _)) in enumerate(chosen.items()):
        for c, p in enumerate(params[r]):
            result = run_slice(phantom, seed=c, params=p)
            ax = axes[r, c]
            ax.imshow(apply_window(result.sim.degraded_hu[lo:hi, lo:hi], window), cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            value = values[c] if row_name != "metal" else ("none", "r 3 mm Ti", "r 3 mm steel", "r 12 mm CoCr")[c]
            ax.set_title(f"{label} {value}\nscore {result.annotation.score:.1f}", fontsize=7)
            if c == 0:
                ax.set_ylabel(row_name, fontsize=8)
            if r == 0:
                ax.text(0.5, 1.25, COLUMNS[c], transform=ax.transAxes, ha="center", fontsize=9, weight="bold")
            cells.append({"row": row_name, "column": COLUMNS[c], "params": p.to_dict(),
                          "score": result.annotation.score, "aspects": result.annotation.aspects})
    w = get_window(window)
    fig.suptitle(f"SYNTHETIC {anatomy} phantom, {size} px (centre {hi - lo} px shown 1:1), "
                 f"window {window} W{w.width:g}/L{w.center:g}", fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.98), h_pad=0.3, w_pad=0.2)
    _save_grey(fig, path, grey_levels)
    plt.close(fig)
    return {"anatomy": anatomy, "phantom_seed": phantom_seed, "size": size, "window": window, "cells": cells,
            "synthetic": True}


def _save_grey(fig, path: str | Path, levels: int = 256) -> None:
    """The figure as an 8-bit greyscale PNG (a quarter the size of matplotlib's RGBA)."""
    from PIL import Image

    from radscribe.io.writers import atomic_open

    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    grey = Image.fromarray(rgba[..., :3]).convert("L")
    if levels < 256:
        step = 256 // levels
        grey = Image.fromarray((np.asarray(grey) // step * step).astype(np.uint8))
    with atomic_open(path, "wb") as handle:
        grey.save(handle, format="PNG", optimize=True)

"""Brain parenchyma: a folded cortical ribbon with sulci, and the deep grey matter and ventricles.

The cortex is analytic rather than simulated: each point of the brain gets a depth below
the surface and a "sulcal phase" that runs around the convexity (warped by smooth random
fields so sulci curve, branch in depth and vary in length). Sulci are where the phase is near
an integer and the depth is above that sulcus's own depth; grey matter lines the surface and
both banks of every sulcus. This costs a handful of array operations instead of a fold model.
"""

from __future__ import annotations

import numpy as np

from radscribe.ctiqa.phantoms.canvas import Canvas
from radscribe.ctiqa.phantoms.shapes import Capsule, Ellipse, NoiseMask, random_wobble


def paint_cortex(cv: Canvas, brain: Ellipse, atrophy: float) -> None:
    rng = cv.rng
    win = cv.window(brain.bound())
    if win is None:
        return
    sl, x, y = win
    rho = brain.rho(x, y)
    inside = rho <= 1.0
    radius = 0.5 * (brain.a + brain.b)
    depth = (1.0 - rho) * radius
    gyrus = rng.uniform(10, 14)  # mm between sulci along the surface
    n_sulci = int(round(2 * np.pi * radius / gyrus))  # whole number: no seam where the angle wraps
    theta = np.arctan2(y - np.float32(brain.cy), x - np.float32(brain.cx))
    # Slow warp: gyri of uneven width; faster wiggle: sulci meander; tilt: they lean as they deepen.
    warp = NoiseMask(rng, rng.uniform(40, 70), 0.5, n_waves=6)
    wiggle = NoiseMask(rng, rng.uniform(12, 20), 0.5, n_waves=8)
    tilt = NoiseMask(rng, rng.uniform(30, 60), 0.5, n_waves=6)
    phase = theta * np.float32(n_sulci / (2 * np.pi)) + 0.25 * warp.field(x, y) + 0.07 * wiggle.field(x, y)
    phase += depth * 0.015 * tilt.field(x, y)
    nearest = np.floor(phase + 0.5)
    offset_mm = np.abs(phase - nearest) * np.float32(gyrus)
    depths = rng.uniform(7, 20, 97).astype(np.float32)
    sulcus_depth = depths[nearest.astype(np.int64) % 97]
    # Secondary sulci: shallow, half-way between the primary ones.
    half = np.abs(phase + 0.5 - np.floor(phase + 1.0)) * np.float32(gyrus)
    shallow = np.maximum(depths[(nearest.astype(np.int64) * 7 + 3) % 97] - 11, 0) * np.float32(0.8)  # only some
    width = rng.uniform(0.4, 0.9) + 2.0 * atrophy  # sulcal CSF, wider with age
    ribbon = rng.uniform(2.3, 3.0)
    csf = ((offset_mm < width / 2) & (depth < sulcus_depth)) | ((half < width / 3) & (depth < shallow))
    gm = (depth < ribbon) | ((offset_mm < width / 2 + ribbon) & (depth < sulcus_depth + ribbon))
    gm |= (half < width / 3 + ribbon) & (depth < shallow + ribbon)
    # Interhemispheric fissure in front of the genu and behind the splenium.
    front, back = brain.cy - 0.42 * brain.b, brain.cy + 0.5 * brain.b
    fissure_zone = (y < front) | (y > back)
    fissure_w = rng.uniform(0.6, 1.2) + 1.5 * atrophy
    mid = np.abs(x - np.float32(brain.cx))
    csf |= fissure_zone & (mid < fissure_w / 2)
    gm |= fissure_zone & (mid < fissure_w / 2 + ribbon)
    lab = cv.label[sl]
    wm_id = cv.label_id("white_matter", "white matter")
    gm_mask = inside & gm & ~csf & (lab == wm_id)
    csf_mask = inside & csf & (lab == wm_id)
    cv.paint_mask("grey_matter", "grey matter", sl, gm_mask)
    cv.paint_mask("sulci", "csf", sl, csf_mask)
    for y0, y1 in ((brain.cy - brain.b, front + 4), (back - 4, brain.cy + brain.b * 1.05)):
        cv.paint("falx", "dura", Capsule(brain.cx, y0, brain.cx, y1, rng.uniform(0.3, 0.5)), alpha=True, only=("sulci", "grey_matter", "subarachnoid_space"))


def paint_deep_structures(cv: Canvas, brain: Ellipse, atrophy: float) -> None:
    """Ventricles, caudate, lentiform nuclei, thalami, insula and sylvian fissures, calcifications."""
    rng = cv.rng
    sc = brain.b / 85.0
    vs = (0.85 + 1.0 * atrophy) * rng.uniform(0.85, 1.15)  # ventricular size
    cx, cy = brain.cx, brain.cy
    deep = ("white_matter", "grey_matter")
    for side in (-1, 1):
        # Insula: grey matter ribbon deep to the sylvian fissure, which opens to the surface.
        ix = side * 36 * sc * brain.a / 70
        syl_w = 0.5 + 2.0 * atrophy + rng.uniform(0, 0.5)
        # Sylvian fissure: from the lateral surface, running anteromedially to the insula.
        outer = brain.point(-12 if side > 0 else 192, 1.0)
        path = [outer, (cx + ix * 1.12, cy - 8 * sc), (cx + ix * 1.05, cy - 20 * sc)]
        for (x0, y0), (x1, y1) in zip(path, path[1:]):
            cv.paint("grey_matter", "grey matter", Capsule(x0, y0, x1, y1, syl_w + 2.6), only=deep)
        cv.paint("grey_matter", "grey matter", Capsule(cx + ix, cy - 20 * sc, cx + ix * 1.02, cy + 8 * sc, 2.8), only=deep)  # insula
        for (x0, y0), (x1, y1) in zip(path, path[1:]):
            cv.paint("sulci", "csf", Capsule(x0, y0, x1, y1, syl_w * 0.5, syl_w), only=deep)
        soft = rng.uniform(1.0, 2.0)  # deep nuclei have ill-defined borders
        lentiform = Ellipse(cx + side * 24 * sc, cy - 2 * sc, 6.5 * sc, 15 * sc, angle=side * rng.uniform(8, 18), wobble=random_wobble(rng, 0.05, 3), soft=soft)
        cv.paint("basal_ganglia", "deep grey matter", lentiform, only=deep, alpha=True)
        thal = Ellipse(cx + side * 9.5 * sc, cy + 7 * sc, 8.5 * sc, 12 * sc, angle=-side * 12, wobble=random_wobble(rng, 0.05, 3), soft=soft)
        cv.paint("thalamus", "deep grey matter", thal, only=deep, alpha=True)
        horn = Ellipse(cx + side * (1.3 + 3.2 * vs), cy - 17 * sc, 3.2 * vs, 12 * sc, angle=side * rng.uniform(15, 28))
        cv.paint("ventricles", "csf", horn, only=deep + ("basal_ganglia",))
        caudate = Ellipse(cx + side * (1.3 + 6.4 * vs + 3.5), cy - 15 * sc, 5 * sc, 9 * sc, angle=side * 20, soft=soft)
        cv.paint("basal_ganglia", "deep grey matter", caudate, only=deep + ("ventricles",), alpha=True)
        atrium = Ellipse(cx + side * (13 + 2 * vs) * sc, cy + 30 * sc, 3.5 * vs, 9 * sc, angle=-side * rng.uniform(20, 35))
        cv.paint("ventricles", "csf", atrium, only=deep)
        if rng.random() < 0.6:  # calcified choroid plexus in the atrium
            cv.paint("calcification", "calcification", Ellipse(atrium.cx, atrium.cy + 2, rng.uniform(1.5, 3), rng.uniform(1.2, 2.5)), only=("ventricles",))
    cv.paint("septum_pellucidum", "white matter", Capsule(cx, cy - 30 * sc, cx, cy - 6 * sc, rng.uniform(0.7, 1.2)), only=("ventricles",))
    third = 1.0 + 2.5 * atrophy * rng.uniform(0.7, 1.3)
    cv.paint("ventricles", "csf", Capsule(cx, cy - 4 * sc, cx, cy + 12 * sc, third / 2), only=deep + ("thalamus",))
    if rng.random() < 0.5:
        cv.paint("calcification", "calcification", Ellipse(cx, cy + 16 * sc, rng.uniform(1.5, 3), rng.uniform(1.5, 2.5)))

"""Axial pelvis at the femoral heads: hips, acetabula, bladder, rectum, gluteal and hip muscles.

This is where hip prostheses sit, the classic metal-artifact case: ``metal_sites`` has
"left hip" and "right hip" at the femoral head centres. Patient frame: x to the patient's
left (image right), y posterior (image down), mm.
"""

from __future__ import annotations

import numpy as np

from radscribe.ctiqa.phantoms.body import habitus, paint_bone, paint_table, paint_torso
from radscribe.ctiqa.phantoms.canvas import Canvas, patient_canvas
from radscribe.ctiqa.phantoms.shapes import Capsule, Ellipse, HalfPlane, random_wobble
from radscribe.ctiqa.phantoms.viscera import Findings, paint_lumen, scatter_loops

SOFT = ("pelvic_fat", "pelvic_muscle", "subcutaneous_fat")


def build_pelvis(rng: np.random.Generator, size: int) -> tuple[Canvas, Findings]:
    s, h = rng.uniform(0.9, 1.1), habitus(rng)
    female = rng.random() < 0.5
    hips = 1.06 if female else 1.0
    inner = Ellipse(0.0, 0.0, 150 * s * hips, 85 * s, b_post=95 * s, square=rng.uniform(0.0, 0.04), wobble=random_wobble(rng, 0.015, 4))
    fat = tuple(t0 + k * h**1.5 * rng.uniform(0.7, 1.3) for t0, k in ((4, 45), (4, 55), (6, 40)))
    width = 2 * (inner.a + fat[0])
    fov = float(np.clip(width * rng.uniform(1.06, 1.15), 350, 450))
    phase = "portal" if rng.random() < 0.6 else "native"
    cv = patient_canvas(rng, size, fov, phase=phase, centre_mm=(0.0, -rng.uniform(0, 20)))
    torso = paint_torso(cv, inner, 0.0, fat, cavity_organ="pelvic_fat")  # no muscular wall at this level
    _buttocks(cv, torso, s)
    if rng.random() < 0.85:
        paint_table(cv)
    heads = _hips(cv, s, hips)
    _pelvic_organs(cv, s, female)
    _femoral_vessels(cv, heads, s)
    f = Findings(metal_sites={"left hip": heads[1], "right hip": heads[0]})
    return cv, f


def _buttocks(cv: Canvas, torso, s: float) -> None:
    """Gluteus maximus behind, medius/minimus laterally, hip flexors in front, with the gluteal cleft."""
    rng = cv.rng
    under_skin = (torso.outer.grow(-4.0),)
    for side in (-1, 1):
        gmax = Ellipse(side * 70 * s, 62 * s, 62 * s, 30 * s * rng.uniform(0.9, 1.2), angle=side * rng.uniform(25, 40), wobble=random_wobble(rng, 0.04, 4))
        cv.paint("gluteal_muscle", "muscle", gmax, clip=under_skin)
        gmed = Ellipse(side * 128 * s, 10 * s, 18 * s, 38 * s, angle=side * rng.uniform(-15, 5))
        cv.paint("gluteal_muscle", "muscle", gmed, clip=under_skin)
        cv.paint("pelvic_muscle", "muscle", Ellipse(side * 118 * s, -45 * s, 12 * s, 10 * s), clip=under_skin)  # tensor fasciae latae
        cv.paint("pelvic_muscle", "muscle", Ellipse(side * 95 * s, -62 * s, 14 * s, 9 * s, angle=side * 20), clip=under_skin)  # rectus femoris / sartorius
        cv.paint("iliopsoas", "muscle", Ellipse(side * 72 * s, -40 * s, 19 * s, 14 * s, angle=side * 15))
        cv.paint("pelvic_muscle", "muscle", Ellipse(side * 55 * s, 15 * s, 7 * s, 32 * s, angle=side * 8))  # obturator internus
    cleft = Capsule(0.0, torso.outer.b_post or torso.outer.b, 0.0, 55 * s, rng.uniform(1.0, 2.0))
    cv.paint("pelvic_fat", "fat", cleft.grow(2.0), only=("gluteal_muscle",))


def _hips(cv: Canvas, s: float, hips: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Femoral heads in their acetabular cups with the two columns and the medial wall; the coccyx."""
    rng = cv.rng
    centres = []
    for side in (-1, 1):
        r = rng.uniform(21, 26) * s
        cx, cy = side * rng.uniform(86, 96) * s * hips, rng.uniform(0, 12) * s
        rim = r + rng.uniform(8, 11)
        cup = Ellipse(cx, cy, rim, rim, wobble=random_wobble(rng, 0.03, 3))
        opening = Ellipse(cx + side * rim * 0.95, cy, rim * 0.55, rim * 0.95)  # the cup opens laterally
        paint_bone(cv, "pelvis_bone", cup, 2.0, exclude=(opening,))
        mx = cx - side * (r + 8)
        paint_bone(cv, "pelvis_bone", Capsule(cx - side * 0.3 * r, cy - r - 5, mx - side * 6, cy - r - 14, 6.5, 5.0), 1.6)  # anterior column
        paint_bone(cv, "pelvis_bone", Capsule(cx - side * 0.2 * r, cy + r + 6, mx - side * 16, cy + r + 12, 9.0, 3.5), 1.6)  # posterior column, ischial spine
        paint_bone(cv, "pelvis_bone", Capsule(mx, cy - 0.7 * r, mx, cy + 0.7 * r, 3.5), 1.4)  # quadrilateral plate
        cv.paint("hip_joint", "cartilage", Ellipse(cx, cy, r + 2.5, r + 2.5), only=("pelvis_bone",))
        head = Ellipse(cx, cy, r, r * rng.uniform(0.97, 1.0))
        paint_bone(cv, "femur", head, rng.uniform(1.2, 2.0))
        centres.append((cx, cy))
    paint_bone(cv, "sacrum", Ellipse(0.0, rng.uniform(68, 80) * s, rng.uniform(10, 16) * s, rng.uniform(6, 9) * s), 1.5)
    return centres[0], centres[1]


def _pelvic_organs(cv: Canvas, s: float, female: bool) -> None:
    rng = cv.rng
    fill = rng.uniform(0.3, 1.0)
    bladder = Ellipse(rng.normal(0, 4), -rng.uniform(25, 40) * s, (25 + 35 * fill) * s, (18 + 20 * fill) * s, b_post=(15 + 15 * fill) * s, square=0.05)
    cv.paint("bladder", "bowel wall", bladder.grow(rng.uniform(1.5, 3.0)), only=SOFT + ("iliopsoas",))
    cv.paint("bladder", "urine", bladder, only=SOFT + ("iliopsoas", "bladder"))
    rectum = Ellipse(rng.normal(0, 3), rng.uniform(45, 55) * s, rng.uniform(14, 20), rng.uniform(12, 17), wobble=random_wobble(rng, 0.06, 4))
    paint_lumen(cv, "rectum", rectum, str(rng.choice(["stool", "gas", "collapsed", "gas-fluid"], p=[0.5, 0.2, 0.2, 0.1])), wall_mm=rng.uniform(2, 3.5), only=SOFT)
    between = (rectum.cy - rectum.b + bladder.cy + (bladder.b_post or bladder.b)) / 2
    if female:
        cv.paint("uterus", "uterus", Ellipse(rng.normal(0, 5), between, rng.uniform(22, 35), rng.uniform(14, 22), angle=rng.uniform(-15, 15)), only=SOFT)
    else:
        for side in (-1, 1):  # seminal vesicles
            cv.paint("seminal_vesicles", "prostate", Ellipse(side * 14, between, 13, 5, angle=side * 20), only=SOFT)
    scatter_loops(cv, Ellipse(0.0, -40 * s, 60 * s, 25 * s), int(rng.integers(0, 4)), (8.0, 13.0), only=("pelvic_fat",))


def _femoral_vessels(cv: Canvas, heads, s: float) -> None:
    rng = cv.rng
    for (hx, hy) in heads:
        side = 1 if hx > 0 else -1
        ax, ay = hx - side * rng.uniform(18, 26) * s, hy - rng.uniform(42, 52) * s
        cv.paint("femoral_artery", "blood", Capsule(ax, ay, ax, ay, rng.uniform(3.5, 5.0)), only=SOFT + ("iliopsoas",))
        cv.paint("femoral_vein", "venous blood", Ellipse(ax - side * 12, ay + 1, rng.uniform(5, 7), rng.uniform(4, 6)), only=SOFT + ("iliopsoas",))

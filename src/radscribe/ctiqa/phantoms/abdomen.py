"""Axial upper-abdomen slice at about L1-L2: liver, spleen, kidneys, pancreas, great vessels, bowel.

Patient frame: x toward the patient's left (image right), y posterior (image down), mm,
origin at the centre of the abdominal cavity. Radiological convention: the liver ends up
on the image LEFT, the spleen and stomach on the image RIGHT.
"""

from __future__ import annotations

import numpy as np

from radscribe.ctiqa.phantoms import organs
from radscribe.ctiqa.phantoms.arms import paint_arms, plan_arms
from radscribe.ctiqa.phantoms.body import habitus, paint_ribs_along, paint_table, paint_torso, paint_vertebra
from radscribe.ctiqa.phantoms.canvas import Canvas, patient_canvas
from radscribe.ctiqa.phantoms.shapes import Capsule, Ellipse, random_wobble
from radscribe.ctiqa.phantoms.viscera import Findings, paint_lumen, place_lesion, scatter_loops

U = np.random.Generator.uniform


def build_abdomen(
    rng: np.random.Generator, size: int, arms: np.random.Generator | None = None
) -> tuple[Canvas, Findings]:
    """With ``arms`` (their own random stream) the arms lie at the sides, on a wider field (``arms.py``)."""
    s, h = rng.uniform(0.9, 1.1), habitus(rng)
    cavity = Ellipse(
        0.0, 0.0, 118 * s * (1 + 0.12 * h), 98 * s * (1 + 0.25 * h), b_post=74 * s,
        square=rng.uniform(0.0, 0.04), wobble=random_wobble(rng, 0.02, 4),
    )
    wall = rng.uniform(8, 14) * s
    fat = tuple(t0 + k * h**1.5 * rng.uniform(0.7, 1.3) for t0, k in ((3, 45), (3, 60), (4, 28)))
    width = 2 * (cavity.a + wall + fat[0])
    fov = float(np.clip(width * rng.uniform(1.08, 1.2), 350, 450))
    plan = plan_arms(arms, width / 2)
    fov = plan.fov_mm if plan else fov
    depth = cavity.b + cavity.b_post + 2 * wall + fat[1] + fat[2]
    centre_y = -min(0.5 * (fov - depth) - 8, 45.0) * rng.uniform(0.3, 0.8)
    phase = "portal" if rng.random() < 0.7 else "native"
    cv = patient_canvas(rng, size, fov, phase=phase, centre_mm=(0.0, centre_y - (cavity.b_post - cavity.b) / 2))
    torso = paint_torso(cv, cavity, wall, fat)
    paint_arms(cv, torso.outer, plan)  # after the trunk, before the couch that goes under them
    if rng.random() < 0.85:
        paint_table(cv)
    _anterior_wall(cv, torso.cavity, wall)

    f = Findings()
    inside = (cavity.grow(-1.0),)
    y_vb = cavity.b_post + wall - 67 * s
    liver = organs.liver(cv, cavity)
    spleen = organs.spleen(cv, cavity, inside) if rng.random() < 0.92 else None
    organs.stomach(cv, cavity, inside)
    organs.colon(cv, cavity, inside)
    kid_l, kid_r = _kidneys(cv, y_vb, s, inside)
    aorta, ivc = _retroperitoneum(cv, y_vb, s, torso)
    spine = paint_vertebra(cv, 0.0, y_vb, s * rng.uniform(0.95, 1.05), "lumbar")
    organs.pancreas(cv, aorta, ivc, kid_l, spleen, s)
    gb = organs.gallbladder(cv, cavity, inside)
    scatter_loops(cv, Ellipse(0.0, -0.4 * cavity.b, 0.75 * cavity.a, 0.5 * cavity.b), int(rng.integers(3, 11)), (8.0, 15.0))
    organs.mesenteric_vessels(cv, cavity)
    _ribs(cv, cavity, wall)
    _lesions(cv, f, liver, (kid_l, kid_r))
    f.metal_sites = {"spine": spine["body"], "surgical clips": gb, "IVC filter": ivc.bound()[:2]}
    return cv, f


def _anterior_wall(cv: Canvas, cavity: Ellipse, wall: float) -> None:
    """Recti either side of the midline, split by the linea alba (a thin fat cleft)."""
    rng = cv.rng
    for side in (-1, 1):
        x = side * rng.uniform(28, 40)
        y = cavity.point(-90 + side * np.degrees(np.arcsin(min(abs(x) / cavity.a, 0.9))))[1]
        rectus = Ellipse(x, y - wall * 0.45, rng.uniform(32, 45), wall * rng.uniform(0.55, 0.8), angle=side * rng.uniform(5, 15))
        cv.paint("body_wall_muscle", "muscle", rectus, only=("subcutaneous_fat", "body_wall_muscle"))
    y0 = -cavity.b - 2.2 * wall
    cv.paint("subcutaneous_fat", "fat", Capsule(0.0, y0, 0.0, -cavity.b + 1, rng.uniform(0.8, 2.5)), only=("body_wall_muscle",))


def _kidneys(cv: Canvas, y_vb: float, s: float, inside) -> tuple[Ellipse, Ellipse]:
    rng = cv.rng
    out = []
    for organ, side, dy in (("kidney_left", 1, (0, 12)), ("kidney_right", -1, (4, 16))):
        a, b = rng.uniform(24, 30) * s, rng.uniform(16, 20) * s
        x = side * rng.uniform(60, 74) * s
        angle = -side * rng.uniform(30, 55)
        k = Ellipse(x, y_vb + rng.uniform(*dy), a, b, angle=angle, wobble=random_wobble(rng, 0.03, 4))
        cv.paint("visceral_fat", "fat", k.grow(rng.uniform(2, 6)), clip=inside)  # perirenal fat
        organs.kidney(cv, organ, k)
        out.append(k)
    return out[0], out[1]


def _retroperitoneum(cv: Canvas, y_vb: float, s: float, torso) -> tuple[Ellipse, Ellipse]:
    """Psoas, quadratus lumborum, paraspinals, crura, aorta and IVC."""
    rng = cv.rng
    under_skin = (torso.outer.grow(-4.0),)
    bulk = rng.uniform(0.85, 1.15)
    for side in (-1, 1):  # erector spinae: one mass each side of the spinous process
        erector = Ellipse(side * 24 * s, y_vb + 48 * s, 25 * s * bulk, 21 * s, angle=side * 8, wobble=random_wobble(rng, 0.03, 3))
        cv.paint("paraspinal_muscle", "muscle", erector, clip=under_skin)
        ql = Ellipse(side * 50 * s, y_vb + 27 * s, 15 * s * bulk, 8 * s, angle=side * 40)
        cv.paint("paraspinal_muscle", "muscle", ql, clip=under_skin)
        cv.paint("psoas", "muscle", Ellipse(side * 29 * s, y_vb + 3 * s, 9 * s * rng.uniform(0.8, 1.3), 12 * s, angle=side * 25))
    r_a = rng.uniform(8.5, 12.5) * s
    aorta = Ellipse(rng.uniform(6, 14) * s, y_vb - 17 * s - r_a - 2, r_a, r_a * rng.uniform(0.92, 1.0))
    for side, dx in ((-1, -r_a - 4), (1, r_a + 3)):  # diaphragmatic crura hug the aorta
        cv.paint("crus", "muscle", Capsule(aorta.cx + dx, aorta.cy - r_a * 0.6, side * 11 * s, y_vb - 4 * s, rng.uniform(2.5, 4.5)))
    cv.paint("visceral_fat", "fat", aorta.grow(2.0), only=("visceral_fat", "crus", "psoas"))
    cv.paint("aorta", "blood", aorta)
    if rng.random() < 0.4:  # atherosclerotic calcification in the wall
        t = rng.uniform(0, 360)
        cv.paint("aorta", "vessel wall calcium", Ellipse(*aorta.point(t, 0.93), 1.2, 3.0, angle=t + 90))
    ivc = Ellipse(-rng.uniform(22, 30) * s, y_vb - 14 * s - 9, rng.uniform(11, 15) * s, rng.uniform(7, 11) * s, angle=rng.uniform(0, 30))
    cv.paint("ivc", "venous blood", ivc)
    return aorta, ivc


def _ribs(cv: Canvas, cavity: Ellipse, wall: float) -> None:
    rng = cv.rng
    ring = cavity.grow(wall * 0.45)
    angles = []
    for lo, hi in ((-50, 55), (125, 230)):
        k = int(rng.integers(2, 5))
        angles += list(lo + (hi - lo) * (np.arange(k) + rng.uniform(0.2, 0.8, k)) / k)  # spread, not clumped
    if rng.random() < 0.6:  # 11th/12th ribs behind the kidneys
        angles += [rng.uniform(68, 78), rng.uniform(102, 112)]
    paint_ribs_along(cv, ring, angles, length_mm=16.0, thick_mm=rng.uniform(7, 10), cartilage_after=40.0)


def _lesions(cv: Canvas, f: Findings, liver: Ellipse, kidneys: tuple[Ellipse, Ellipse]) -> None:
    rng = cv.rng
    for _ in range(int(rng.choice(4, p=[0.4, 0.3, 0.2, 0.1]))):
        kind = str(rng.choice(["cyst", "hypodense lesion", "hyperdense lesion"], p=[0.45, 0.35, 0.2]))
        size = rng.uniform(5, 25) if kind == "cyst" else rng.uniform(8, 35)
        place_lesion(cv, f, "liver", liver, kind, size, only=("liver", "hepatic_vessels"), smooth=kind == "cyst")
    for organ, k in zip(("kidney_left", "kidney_right"), kidneys):
        if rng.random() < 0.25:
            place_lesion(cv, f, organ, k.grow(-4), "cyst", rng.uniform(6, 22), only=(organ, "visceral_fat"), kind="renal cyst")

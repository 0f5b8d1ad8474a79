"""Axial mid-thorax slice: lungs with vessel trees and bronchi, heart or great vessels, chest wall.

Two levels are drawn at random: the cardiac level (four chambers, descending aorta,
oesophagus) and the pulmonary-artery level (ascending and descending aorta, pulmonary
trunk, superior vena cava, main bronchi). Patient frame as everywhere: x to the patient's
left (image right), y posterior (image down), mm.
"""

from __future__ import annotations

import numpy as np

from radscribe.ctiqa.phantoms.arms import paint_arms, plan_arms
from radscribe.ctiqa.phantoms.body import habitus, paint_bone, paint_ribs_along, paint_table, paint_torso, paint_vertebra
from radscribe.ctiqa.phantoms.canvas import Canvas, patient_canvas
from radscribe.ctiqa.phantoms.mediastinum import cardiac_level, great_vessel_level
from radscribe.ctiqa.phantoms.shapes import Capsule, Ellipse, random_wobble
from radscribe.ctiqa.phantoms.vessels import vessel_dots, vessel_tree
from radscribe.ctiqa.phantoms.viscera import Findings, place_lesion

LUNGS = ("lung_left", "lung_right")


def build_chest(
    rng: np.random.Generator, size: int, arms: np.random.Generator | None = None
) -> tuple[Canvas, Findings]:
    """With ``arms`` (their own random stream) the arms lie at the sides, on a wider field (``arms.py``)."""
    s, h = rng.uniform(0.9, 1.1), habitus(rng)
    cavity = Ellipse(0.0, 0.0, 128 * s, 88 * s, b_post=82 * s, square=rng.uniform(0.0, 0.03), wobble=random_wobble(rng, 0.015, 4))
    wall = rng.uniform(9, 14) * s
    fat = tuple(t0 + k * h**1.5 * rng.uniform(0.7, 1.3) for t0, k in ((3, 35), (3, 30), (4, 25)))
    width = 2 * (cavity.a + wall + fat[0])
    fov = float(np.clip(width * rng.uniform(1.08, 1.2), 350, 450))
    plan = plan_arms(arms, width / 2)
    fov = plan.fov_mm if plan else fov
    phase = "portal" if rng.random() < 0.5 else "native"  # "portal" here: contrast-enhanced chest
    cv = patient_canvas(rng, size, fov, phase=phase, centre_mm=(0.0, -rng.uniform(5, 25)))
    female = rng.random() < 0.5
    torso = paint_torso(cv, cavity, wall, fat, muscle_organ="chest_wall_muscle", cavity_organ="mediastinal_fat")
    _lungs(cv, cavity)
    y_vb = cavity.b_post + wall - 58 * s
    _back(cv, torso, y_vb, s, wall)
    spine = paint_vertebra(cv, 0.0, y_vb, s * rng.uniform(0.95, 1.05), "thoracic")
    sternum = _front(cv, torso, s, female)
    paint_arms(cv, torso.outer, plan)  # after the trunk, before the couch that goes under them
    if rng.random() < 0.85:
        paint_table(cv)
    if rng.random() < 0.55:
        cardiac_level(cv, cavity, y_vb, s)
    else:
        great_vessel_level(cv, cavity, y_vb, s)
    _pulmonary_vessels(cv, cavity, s)
    _ribs(cv, cavity, wall)
    f = Findings()
    _nodules(cv, f, cavity)
    pacer = torso.outer.point(-58, 1.0)
    f.metal_sites = {"pacemaker": (pacer[0] - 4, pacer[1] + fat[1] * 0.5 + 6), "sternal wires": sternum, "spine": spine["body"]}
    return cv, f


def _lungs(cv: Canvas, cav: Ellipse) -> None:
    """Both lungs fill the thoracic cavity; parenchyma is denser posteriorly (gravity)."""
    rng = cv.rng
    grad = rng.uniform(30, 70)  # HU more at the back than at the front, supine

    sl, x, y = cv.window(cav.bound())
    inside = cav.mask(x, y)
    front_to_back = np.clip((y + cav.b) / (cav.b + (cav.b_post or cav.b)), 0, 1)
    density = cv.hu_of("lung") - grad / 2 + grad * front_to_back
    for organ, half in (("lung_left", x >= 0), ("lung_right", x < 0)):
        mask = inside & half
        cv.paint_mask(organ, "lung", sl, mask, density[mask])


def _back(cv: Canvas, torso, y_vb: float, s: float, wall: float) -> None:
    """Paraspinal muscles and the scapulae with their muscles, behind the rib cage."""
    rng = cv.rng
    under_skin = (torso.outer.grow(-3.0),)
    for side in (-1, 1):
        erector = Ellipse(side * 24 * s, y_vb + 40 * s, 26 * s, 22 * s, angle=side * 10, wobble=random_wobble(rng, 0.03, 3))
        cv.paint("paraspinal_muscle", "muscle", erector, clip=under_skin)
        # Scapula: a thin curved plate posterolaterally, subscapularis in front, infraspinatus behind.
        t0 = rng.uniform(40, 55) if side > 0 else 180 - rng.uniform(40, 55)
        span = rng.uniform(28, 38)
        ts = np.linspace(t0 - span / 2, t0 + span / 2, 5)
        plate = [torso.wall.point(t, 1.0) for t in ts]
        plate = [(x + side * 3, y + 6) for x, y in plate]
        for (x0, y0), (x1, y1) in zip(plate, plate[1:]):
            cv.paint("chest_wall_muscle", "muscle", Capsule(x0, y0, x1, y1, 12 * s), clip=under_skin)
        for (x0, y0), (x1, y1) in zip(plate, plate[1:]):
            paint_bone(cv, "scapula", Capsule(x0, y0, x1, y1, rng.uniform(2.0, 3.2)), 1.0)


def _front(cv: Canvas, torso, s: float, female: bool) -> tuple[float, float]:
    """Pectoral muscles, sternum, breasts; returns the sternum centre."""
    rng = cv.rng
    cav = torso.cavity
    for side in (-1, 1):
        x = side * rng.uniform(55, 75) * s
        y = cav.point(-90 + side * 35)[1] - 10 * s
        pec = Ellipse(x, y, rng.uniform(45, 60) * s, rng.uniform(7, 13) * s, angle=side * rng.uniform(15, 30))
        cv.paint("chest_wall_muscle", "muscle", pec, only=("subcutaneous_fat", "chest_wall_muscle"))
        if female:
            size = rng.uniform(40, 65) * (0.8 + 0.6 * rng.random())
            bx = side * rng.uniform(45, 65) * s
            by = torso.outer.point(-90 + side * np.degrees(np.arcsin(min(abs(bx) / torso.outer.a, 0.95))))[1] + size * 0.25
            # Supine breasts flatten and fall laterally: a low dome on the anterior chest wall.
            breast = Ellipse(bx, by, size, size * rng.uniform(0.4, 0.55), angle=side * rng.uniform(5, 20), wobble=random_wobble(rng, 0.04, 3))
            cv.paint("skin", "skin", breast.grow(2.0), only=("outside", "table"))
            cv.paint("breast", "fat", breast, only=("outside", "table", "skin", "subcutaneous_fat"))
            gland = Ellipse(bx, by + size * 0.15, size * 0.6, size * 0.35)
            cv.paint("breast", "fibroglandular", gland, only=("breast",))
    y_st = -cav.b - 4 * s
    sternum = Ellipse(0.0, y_st, rng.uniform(14, 20) * s, rng.uniform(5, 7) * s)
    paint_bone(cv, "sternum", sternum, rng.uniform(1.0, 1.6))
    return 0.0, y_st


def _ribs(cv: Canvas, cav: Ellipse, wall: float) -> None:
    rng = cv.rng
    ring = cav.grow(wall * 0.35)
    angles: list[float] = []
    for lo, hi in ((-70, 75), (105, 250)):
        k = int(rng.integers(4, 7))
        angles += list(lo + (hi - lo) * (np.arange(k) + rng.uniform(0.25, 0.75, k)) / k)
    paint_ribs_along(cv, ring, angles, length_mm=rng.uniform(11, 18), thick_mm=rng.uniform(7, 10), cartilage_after=60.0, only=LUNGS + ("chest_wall_muscle", "subcutaneous_fat"))


def _pulmonary_vessels(cv: Canvas, cav: Ellipse, s: float) -> None:
    """Arteries and veins branching out of each hilum, plus many vessels cut end-on."""
    rng = cv.rng
    for side, lung in ((1, "lung_left"), (-1, "lung_right")):
        hilum = (side * rng.uniform(40, 55) * s, rng.uniform(-5, 15))
        for direction in (-60, 0, 60, 120):
            ang = (direction if side > 0 else 180 - direction) + rng.normal(0, 15)
            if rng.random() < 0.85:
                vessel_tree(
                    cv, "pulmonary_vessels", "blood", hilum, ang, length_mm=rng.uniform(14, 24), radius_mm=rng.uniform(2.5, 4.0),
                    depth=int(rng.integers(2, 5)), within=(lung,), leave_plane=0.35,
                )
        region = Ellipse(side * cav.a * 0.5, 0.0, cav.a * 0.55, (cav.b + (cav.b_post or cav.b)) / 2)
        vessel_dots(cv, "pulmonary_vessels", "blood", region, hilum, count=int(rng.integers(80, 150)), max_radius_mm=3.5, reach_mm=110, within=(lung,))
        _bronchi(cv, hilum, side, lung)


def _bronchi(cv: Canvas, hilum: tuple[float, float], side: int, lung: str) -> None:
    """A few airways next to the larger vessels: thin soft-tissue wall around air."""
    rng = cv.rng
    for _ in range(int(rng.integers(3, 8))):
        d, t = rng.uniform(10, 60), np.radians(rng.uniform(0, 360))
        x, y = hilum[0] + side * abs(d * np.cos(t)), hilum[1] + d * np.sin(t)
        if cv.organ_at(x, y) != lung:
            continue
        r = max(0.8, 4.0 * (1 - d / 70)) * rng.uniform(0.8, 1.2)
        cv.paint("bronchi", "airway wall", Capsule(x, y, x, y, r + 0.4 + 0.15 * r), only=(lung,), alpha=True)
        cv.paint("bronchi", "air", Capsule(x, y, x, y, r), only=(lung, "bronchi"), alpha=True)


def _nodules(cv: Canvas, f: Findings, cav: Ellipse) -> None:
    rng = cv.rng
    for _ in range(int(rng.choice(4, p=[0.45, 0.3, 0.15, 0.1]))):
        lung = str(rng.choice(LUNGS))
        side = 1 if lung == "lung_left" else -1
        region = Ellipse(side * cav.a * 0.55, 0.0, cav.a * 0.4, cav.b * 0.85)
        solid = rng.random() < 0.7
        size = rng.uniform(4, 25) if solid else rng.uniform(8, 25)
        kind = "solid nodule" if solid else "ground-glass nodule"
        place_lesion(cv, f, lung, region, kind, size, only=(lung, "pulmonary_vessels"), smooth=not solid or rng.random() < 0.5)

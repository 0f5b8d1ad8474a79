"""The mediastinum at two levels: four-chamber heart, or the great vessels above it."""

from __future__ import annotations

import numpy as np

from radscribe.ctiqa.phantoms.canvas import Canvas
from radscribe.ctiqa.phantoms.organs import _local
from radscribe.ctiqa.phantoms.shapes import Capsule, Ellipse, random_wobble

LUNGS = ("lung_left", "lung_right")
SOFT = LUNGS + ("mediastinal_fat",)


def _descending_aorta_and_oesophagus(cv: Canvas, y_vb: float, s: float) -> None:
    rng = cv.rng
    cv.paint("mediastinal_fat", "fat", Ellipse(rng.uniform(2, 8), y_vb - 22 * s, 27 * s, 20 * s), only=LUNGS)
    r = rng.uniform(10, 14) * s
    aorta = Ellipse(12 * s + r * rng.uniform(0.6, 1.0), y_vb - 8 * s - r * 0.7, r, r * rng.uniform(0.93, 1.0))
    cv.paint("mediastinal_fat", "fat", aorta.grow(2.0), only=LUNGS)
    cv.paint("aorta", "blood", aorta)
    if rng.random() < 0.3:
        t = rng.uniform(0, 360)
        cv.paint("aorta", "vessel wall calcium", Ellipse(*aorta.point(t, 0.95), 1.0, 3.0, angle=t + 90))
    oes = Ellipse(rng.uniform(-2, 5), y_vb - 22 * s, rng.uniform(7, 9), rng.uniform(5, 7), angle=rng.uniform(-20, 20))
    cv.paint("esophagus", "esophagus", oes)
    if rng.random() < 0.4:
        cv.paint("esophagus", "gas", Capsule(oes.cx, oes.cy, oes.cx, oes.cy, rng.uniform(1.0, 2.5)))
    cv.paint("azygos", "venous blood", Capsule(-rng.uniform(6, 11), y_vb - 14 * s, -rng.uniform(6, 11), y_vb - 14 * s, rng.uniform(2.5, 4)))


def cardiac_level(cv: Canvas, cav: Ellipse, y_vb: float, s: float) -> None:
    """Heart with epicardial fat and pericardium; chambers visible only with contrast."""
    rng = cv.rng
    size = rng.uniform(0.9, 1.15)
    heart = Ellipse(
        rng.uniform(12, 24) * s, y_vb - 14 * s - 44 * s * size - rng.uniform(8, 16), 60 * s * size, 42 * s * size,
        angle=-rng.uniform(20, 40), wobble=random_wobble(rng, 0.03, 4),
    )
    cv.paint("mediastinal_fat", "fat", heart.grow(rng.uniform(4, 10)), only=LUNGS)
    cv.paint("pericardium", "pericardium", heart.grow(rng.uniform(2.5, 5)), only=SOFT)
    cv.paint("mediastinal_fat", "fat", heart.grow(rng.uniform(1, 2)), only=("pericardium",))
    cv.paint("heart", "myocardium", heart)
    chambers = [  # (u, v, a, b) in units of the heart's semi-axes; u toward the apex, v posterior-left
        (0.2, 0.22, 0.45, 0.3),   # left ventricle
        (0.15, -0.5, 0.5, 0.22),  # right ventricle
        (-0.55, 0.4, 0.3, 0.32),  # left atrium
        (-0.55, -0.38, 0.3, 0.35),  # right atrium
    ]
    for u, v, a, b in chambers:
        cavity = Ellipse(*_local(heart, u * heart.a, v * heart.b), a * heart.a, b * heart.b, angle=heart.angle, wobble=random_wobble(rng, 0.04, 3))
        cv.paint("heart", "blood", cavity, clip=(heart.grow(-4.0),))
    if rng.random() < 0.3:  # coronary artery calcification in the atrioventricular groove
        for _ in range(int(rng.integers(1, 4))):
            x, y = heart.point(rng.uniform(-160, -100), 1.02)
            cv.paint("coronary_calcium", "vessel wall calcium", Capsule(x, y, x + rng.normal(0, 2), y + rng.normal(0, 2), rng.uniform(0.8, 1.8)))
    _descending_aorta_and_oesophagus(cv, y_vb, s)


def great_vessel_level(cv: Canvas, cav: Ellipse, y_vb: float, s: float) -> None:
    """Ascending aorta, pulmonary trunk and arteries, SVC, main bronchi, descending aorta."""
    rng = cv.rng
    envelope = Ellipse(rng.uniform(-5, 5), -rng.uniform(15, 25) * s, 50 * s, 55 * s, wobble=random_wobble(rng, 0.05, 4))
    cv.paint("mediastinal_fat", "fat", envelope, only=LUNGS)
    _descending_aorta_and_oesophagus(cv, y_vb, s)
    asc_r = rng.uniform(14, 19) * s
    asc = Ellipse(-rng.uniform(8, 18) * s, -rng.uniform(12, 28) * s, asc_r, asc_r * 0.95)
    trunk_r = rng.uniform(12, 16) * s
    trunk = (rng.uniform(14, 22) * s, asc.cy - rng.uniform(2, 10))
    left_pa = (rng.uniform(38, 48) * s, rng.uniform(0, 12))
    right_pa = (-rng.uniform(38, 48) * s, asc.cy + asc_r + rng.uniform(6, 12))
    cv.paint("pulmonary_artery", "venous blood", Capsule(*trunk, *left_pa, trunk_r * 0.75, trunk_r * 0.6), only=SOFT)
    cv.paint("pulmonary_artery", "venous blood", Capsule(trunk[0] - 5, trunk[1] + trunk_r * 0.6, *right_pa, trunk_r * 0.65, trunk_r * 0.55), only=SOFT)
    cv.paint("pulmonary_artery", "venous blood", Capsule(*trunk, *trunk, trunk_r))
    cv.paint("mediastinal_fat", "fat", asc.grow(1.5), only=("pulmonary_artery",))
    cv.paint("aorta", "blood", asc)
    svc_r = rng.uniform(8, 11)
    cv.paint("svc", "venous blood", Capsule(asc.cx - asc_r - svc_r - 2, asc.cy + 3, asc.cx - asc_r - svc_r - 2, asc.cy + 3, svc_r), only=SOFT)
    for side in (-1, 1):  # main bronchi behind the pulmonary arteries
        x, y, r = side * rng.uniform(14, 20) * s, y_vb - rng.uniform(30, 38) * s, rng.uniform(6, 8)
        cv.paint("bronchi", "airway wall", Capsule(x, y, x + side * 10, y + 4, r + 1.5), only=SOFT + ("pulmonary_artery",))
        cv.paint("bronchi", "air", Capsule(x, y, x + side * 10, y + 4, r), only=("bronchi",))
    for _ in range(int(rng.integers(0, 4))):
        x, y = envelope.point(rng.uniform(0, 360), rng.uniform(0.3, 0.8))
        cv.paint("lymph_node", "lymph node", Ellipse(x, y, rng.uniform(3, 7), rng.uniform(2, 5), angle=rng.uniform(0, 180)), only=("mediastinal_fat",))

"""Building blocks shared by the trunk phantoms: body wall layers, vertebrae, ribs, bones, the couch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radscribe.ctiqa.phantoms.canvas import Canvas
from radscribe.ctiqa.phantoms.shapes import Capsule, Ellipse, random_wobble


@dataclass(frozen=True)
class Torso:
    outer: Ellipse  # skin surface
    wall: Ellipse  # boundary between subcutaneous fat and the muscle wall
    cavity: Ellipse  # inner surface of the muscle wall


def habitus(rng: np.random.Generator) -> float:
    """0 = very thin, 1 = obese; most patients in between (Beta(1.6, 2.2))."""
    return float(rng.beta(1.6, 2.2))


def paint_torso(
    cv: Canvas,
    cavity: Ellipse,
    wall_mm: float,
    fat_mm: tuple[float, float, float],
    *,
    muscle_organ: str = "body_wall_muscle",
    cavity_organ: str = "visceral_fat",
) -> Torso:
    """Skin, subcutaneous fat (lateral, anterior, posterior thickness), muscle wall, fat-filled cavity."""
    rng = cv.rng
    wall = Ellipse(
        cavity.cx, cavity.cy, cavity.a + wall_mm, cavity.b + wall_mm,
        b_post=(cavity.b_post or cavity.b) + wall_mm, square=cavity.square, wobble=random_wobble(rng, 0.015, 4),
    )
    lat, ant, post = fat_mm
    outer = Ellipse(
        cavity.cx, cavity.cy, wall.a + lat, wall.b + ant, b_post=(wall.b_post or wall.b) + post,
        square=cavity.square, wobble=random_wobble(rng, 0.02, 4),
    )
    layers = [("skin", "skin", outer), ("subcutaneous_fat", "fat", outer.grow(-rng.uniform(1.5, 2.5)))]
    if wall_mm > 0:
        layers.append((muscle_organ, "muscle", wall))
    layers.append((cavity_organ, "fat", cavity))
    cv.paint_layers(layers)
    return Torso(outer=outer, wall=wall, cavity=cavity)


def paint_bone(cv: Canvas, organ: str, shape: Ellipse | Capsule, cortex_mm: float, **kw) -> None:
    """Cortical shell around cancellous marrow (a thin bone is all cortex)."""
    cv.paint(organ, "cortical bone", shape, **kw)
    inner = shape.grow(-cortex_mm)
    size = min(inner.a, inner.b) if isinstance(inner, Ellipse) else inner.r0
    if size > 0.6:
        cv.paint(organ, "marrow", inner, **kw)


def paint_vertebra(cv: Canvas, cx: float, cy: float, scale: float, kind: str = "lumbar") -> dict[str, tuple[float, float]]:
    """Vertebral body, pedicles and laminae around the canal, spinous and transverse processes.

    Returns landmark points (patient mm): body centre, canal centre, spinous tip.
    """
    s, rng = scale, cv.rng
    lumbar = kind == "lumbar"
    a, b = (21 * s, 15 * s) if lumbar else (15.5 * s, 14 * s)
    body = Ellipse(cx, cy, a, b, b_post=b * 0.85, square=0.04 if lumbar else 0.0, wobble=random_wobble(rng, 0.02, 3))
    canal_a, canal_b = (10 * s, 7.5 * s) if lumbar else (7.5 * s, 7.5 * s)
    canal_y = cy + b * 0.85 + canal_b * 0.8
    canal = Ellipse(cx, canal_y, canal_a, canal_b)
    back = canal_y + canal_b + 4 * s  # where the laminae meet
    length = rng.uniform(18, 24) * s if lumbar else rng.uniform(26, 34) * s
    tip = (cx + rng.normal(0, 1.5), back + length)
    # Thin posterior elements are nearly all cortex: pedicles, laminae, processes.
    if lumbar:
        tp_root, tp_end = (canal_a + 1.0 * s, canal_y - 1 * s), (rng.uniform(24, 30) * s, canal_y + 5 * s)
    else:
        tp_root, tp_end = (canal_a + 1.5 * s, canal_y + 1 * s), (rng.uniform(24, 28) * s, canal_y + 10 * s)
    for side in (-1, 1):
        ped = (cx + side * (canal_a + 0.5 * s), canal_y)
        paint_bone(cv, "spine", Capsule(cx + side * 0.6 * a, cy + 0.5 * b, *ped, 3.6 * s, 3.2 * s), 1.3)
        paint_bone(cv, "spine", Capsule(*ped, cx, back, 3.0 * s, 2.8 * s), 1.2)
        paint_bone(cv, "spine", Capsule(cx + side * tp_root[0], tp_root[1], cx + side * tp_end[0], tp_end[1], 3.0 * s, 2.2 * s), 1.1)
    paint_bone(cv, "spine", Capsule(cx, back - 2 * s, *tip, 4.2 * s if lumbar else 3.0 * s, 3.4 * s if lumbar else 2.2 * s), 1.2)
    paint_bone(cv, "spine", body, rng.uniform(1.3, 2.0))
    cv.paint("spinal_canal", "epidural fat", canal)
    cv.paint("spinal_canal", "csf", canal.grow(-rng.uniform(1.2, 2.2) * s))
    return {"body": (cx, cy), "canal": (cx, canal_y), "spinous_tip": tip}


def paint_ribs_along(
    cv: Canvas, ring: Ellipse, angles_deg: list[float], *, length_mm: float, thick_mm: float, cartilage_after: float = 999.0, **kw
) -> list[tuple[float, float]]:
    """Ribs cut obliquely by the slice: ovals lying along ``ring`` at the given polar angles.

    Angles are measured in the ring's frame, 0 = patient's left, 90 = posterior. Ribs at
    ``|angle| > cartilage_after`` anteriorly become costal cartilage. Returns rib centres.
    """
    centres = []
    rng = cv.rng
    for t in angles_deg:
        x, y = ring.point(t)
        x2, y2 = ring.point(t + 1.0)
        tangent = float(np.degrees(np.arctan2(y2 - y, x2 - x)))
        length = length_mm * rng.uniform(0.7, 1.3)
        shape = Ellipse(x, y, length / 2, thick_mm / 2 * rng.uniform(0.85, 1.15), angle=tangent)
        anterior = np.sin(np.radians(t)) < -np.sin(np.radians(cartilage_after))
        if anterior:
            cv.paint("costal_cartilage", "cartilage", shape, **kw)
        else:
            paint_bone(cv, "ribs", shape, rng.uniform(1.0, 1.5), **kw)
        centres.append((x, y))
    return centres


def paint_table(cv: Canvas, *, width_mm: float = 440.0, cradle_mm: float = 25.0) -> None:
    """The CT couch: two thin curved carbon-fibre shells under the patient, level in the IMAGE frame.

    Paint it after the body outline: it goes just below the lowest body pixel. Outside the body mask.
    """
    rng = cv.rng
    rows = np.flatnonzero((cv.label != 0).any(axis=1))
    if rows.size == 0:
        return
    back_mm = (rows[-1] + 1 - (cv.n - 1) / 2) * cv.spacing
    top = back_mm + rng.uniform(0, 6)  # mattress: foam, about as dark as air
    half = width_mm / 2
    for depth, thick in ((0.0, rng.uniform(1.2, 2.0)), (rng.uniform(25, 45), rng.uniform(1.5, 2.5))):
        y0 = top + depth
        win = cv.image_rows(y0 - cradle_mm - 1, y0 + thick + 1)
        if win is None:
            continue
        sl, xi, yi = win
        curve = y0 - cradle_mm * (np.minimum(np.abs(xi) / half, 1.0) ** 2)
        band = (yi >= curve) & (yi <= curve + thick) & (np.abs(xi) <= half) & (cv.label[sl] == 0)
        cv.paint_mask("table", "table", sl, band)

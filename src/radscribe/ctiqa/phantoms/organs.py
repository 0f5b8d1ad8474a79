"""Solid and hollow upper-abdominal organs, each placed relative to the abdominal cavity ellipse."""

from __future__ import annotations

import numpy as np

from radscribe.ctiqa.phantoms.canvas import Canvas
from radscribe.ctiqa.phantoms.shapes import Capsule, Ellipse, NoiseMask, random_wobble
from radscribe.ctiqa.phantoms.vessels import vessel_dots, vessel_tree
from radscribe.ctiqa.phantoms.viscera import paint_lumen


def _local(e: Ellipse, u: float, v: float) -> tuple[float, float]:
    """A point given in an ellipse's own axes, in patient mm."""
    c, s = np.cos(np.radians(e.angle)), np.sin(np.radians(e.angle))
    return float(e.cx + u * c - v * s), float(e.cy + u * s + v * c)


def liver(cv: Canvas, cav: Ellipse) -> Ellipse:
    """Right lobe in the right upper quadrant (image left), sometimes a left lobe across the midline."""
    rng = cv.rng
    lobe = Ellipse(
        -0.45 * cav.a, -0.08 * cav.b, 0.52 * cav.a * rng.uniform(0.85, 1.15), 0.8 * cav.b * rng.uniform(0.85, 1.1),
        angle=rng.uniform(-25, 5), wobble=random_wobble(rng, 0.05, 5),
    )
    cv.paint("liver", "liver", lobe, only=("visceral_fat",))
    if rng.random() < 0.5:
        left = Ellipse(rng.uniform(-25, 10), -0.7 * cav.b, rng.uniform(25, 50), rng.uniform(12, 20), angle=rng.uniform(-25, 5))
        cv.paint("liver", "liver", left, only=("visceral_fat",))
    # Portal and hepatic vein branches: bright in portal phase, a little darker than liver unenhanced.
    porta = lobe.point(rng.uniform(-30, 10), 0.55)
    for _ in range(int(rng.integers(1, 3))):
        vessel_tree(
            cv, "hepatic_vessels", "venous blood", porta, rng.uniform(140, 220), length_mm=rng.uniform(18, 30),
            radius_mm=rng.uniform(2.5, 4.0), depth=2, within=("liver",),
        )
    vessel_dots(cv, "hepatic_vessels", "venous blood", lobe, porta, count=int(rng.integers(6, 16)), max_radius_mm=3.0, reach_mm=lobe.a * 1.5, within=("liver",))
    return lobe


def spleen(cv: Canvas, cav: Ellipse, inside) -> Ellipse:
    rng = cv.rng
    sp = Ellipse(
        rng.uniform(0.55, 0.68) * cav.a, rng.uniform(0.15, 0.45) * (cav.b_post or cav.b),
        rng.uniform(30, 55), rng.uniform(14, 22), angle=rng.uniform(110, 140), wobble=random_wobble(rng, 0.05, 5),
    )
    cv.paint("spleen", "spleen", sp, clip=inside)
    return sp


def stomach(cv: Canvas, cav: Ellipse, inside) -> None:
    rng = cv.rng
    st = Ellipse(
        rng.uniform(0.2, 0.42) * cav.a, -rng.uniform(0.35, 0.55) * cav.b, rng.uniform(35, 60), rng.uniform(22, 35),
        angle=rng.uniform(-30, 20), wobble=random_wobble(rng, 0.06, 5),
    )
    content = str(rng.choice(["gas-fluid", "fluid", "collapsed", "gas"], p=[0.45, 0.25, 0.2, 0.1]))
    paint_lumen(cv, "stomach", st, content, wall_mm=rng.uniform(3, 6) if content != "collapsed" else 0, clip=inside)


def colon(cv: Canvas, cav: Ellipse, inside) -> None:
    """Hepatic and splenic flexures, sometimes the transverse colon anteriorly; stool or gas."""
    rng = cv.rng
    parts = [
        Ellipse(-rng.uniform(0.55, 0.72) * cav.a, -rng.uniform(0.0, 0.35) * cav.b, rng.uniform(16, 24), rng.uniform(14, 22)),
        Ellipse(rng.uniform(0.6, 0.75) * cav.a, -rng.uniform(0.05, 0.4) * cav.b, rng.uniform(15, 22), rng.uniform(13, 20)),
    ]
    if rng.random() < 0.5:
        parts.append(Ellipse(rng.uniform(-0.3, 0.3) * cav.a, -rng.uniform(0.7, 0.8) * cav.b, rng.uniform(25, 40), rng.uniform(14, 20), angle=rng.uniform(-15, 15)))
    for e in parts:
        e = Ellipse(e.cx, e.cy, e.a, e.b, e.angle, wobble=random_wobble(rng, 0.07, 6))  # haustra
        content = str(rng.choice(["stool", "gas", "collapsed"], p=[0.6, 0.25, 0.15]))
        paint_lumen(cv, "colon", e, content, wall_mm=rng.uniform(1.5, 2.5), clip=inside)


def kidney(cv: Canvas, organ: str, k: Ellipse) -> None:
    """Bean: cortex, medullary pyramids pointing at the sinus, sinus fat and pelvis at the hilum.

    The hilum faces anteromedially, which is the ellipse's local -v side.
    """
    rng = cv.rng
    notch = Ellipse(*_local(k, 0, -1.15 * k.b), 0.3 * k.a, 0.5 * k.b, angle=k.angle)
    cv.paint(organ, "kidney cortex", k, exclude=(notch,))
    sinus_c = _local(k, 0, -0.45 * k.b)
    n = int(rng.integers(3, 6))
    for t in np.linspace(0, 180, n) + rng.normal(0, 10, n):  # not on the hilum side (around 270 deg)
        ct, st = np.cos(np.radians(t)), np.sin(np.radians(t))
        tip = _local(k, 0.35 * k.a * ct, 0.25 * k.b * st - 0.25 * k.b)
        base = _local(k, 0.62 * k.a * ct, 0.55 * k.b * st - 0.05 * k.b)
        width = 0.2 * k.a * rng.uniform(0.8, 1.2)
        cv.paint(organ, "kidney medulla", Capsule(*tip, *base, width * 0.45, width), clip=(k.grow(-3.0),))
    sinus = Ellipse(*sinus_c, 0.3 * k.a, 0.45 * k.b, angle=k.angle, wobble=random_wobble(rng, 0.1, 4))
    cv.paint(organ, "fat", sinus, clip=(k,), exclude=(notch,))
    cv.paint(organ, "urine", Capsule(*_local(k, 0.05 * k.a, -0.25 * k.b), *_local(k, -0.05 * k.a, -0.95 * k.b), 0.08 * k.a, 0.13 * k.a), only=(organ, "visceral_fat"))
    cv.paint("renal_vein", "venous blood", Capsule(*_local(k, 0.12 * k.a, -0.7 * k.b), *_local(k, 0.25 * k.a, -1.5 * k.b), 3.2, 3.6), only=("visceral_fat", organ))
    cv.paint("renal_artery", "blood", Capsule(*_local(k, -0.1 * k.a, -0.75 * k.b), *_local(k, -0.15 * k.a, -1.4 * k.b), 2.0, 2.4), only=("visceral_fat", organ))


def pancreas(cv: Canvas, aorta: Ellipse, ivc: Ellipse, kid_l: Ellipse, spleen: Ellipse | None, s: float) -> None:
    """Head by the duodenum, neck in front of the SMV, body over the SMA, tail to the splenic hilum."""
    rng = cv.rng
    r_a = aorta.a
    sma = (aorta.cx + rng.normal(0, 2), aorta.cy - r_a - rng.uniform(9, 13))
    smv = (sma[0] - rng.uniform(11, 15), sma[1] - rng.uniform(0, 4))
    r_v = rng.uniform(4.5, 6.5)
    head = (smv[0] - rng.uniform(18, 26) * s, smv[1] + rng.uniform(-2, 8), rng.uniform(11, 15) * s)
    neck = (smv[0] + 2, smv[1] - r_v - rng.uniform(5, 8), rng.uniform(7, 10))
    body = (sma[0] + rng.uniform(25, 40) * s, sma[1] - rng.uniform(2, 10), rng.uniform(7, 10))
    tail = (kid_l.cx - rng.uniform(0, 15), kid_l.cy - kid_l.b - rng.uniform(10, 18), rng.uniform(6, 9))
    pts = [head, neck, body, tail]
    for (x0, y0, r0), (x1, y1, r1) in zip(pts, pts[1:]):
        cv.paint("pancreas", "pancreas", Capsule(x0, y0, x1, y1, r0, r1), only=("visceral_fat", "bowel", "colon", "stomach"))
    if rng.random() < 0.6:  # fatty lobulation, commoner with age
        lobules = NoiseMask(rng, rng.uniform(4, 7), rng.uniform(0.05, 0.3))
        for (x0, y0, r0), (x1, y1, r1) in zip(pts, pts[1:]):
            cv.paint("visceral_fat", "fat", Capsule(x0, y0, x1, y1, r0, r1), clip=(lobules,), only=("pancreas",))
    # Splenic vein along the back of the body and tail; SMV and SMA with its fat collar.
    vein = [smv[:2], (body[0], body[1] + body[2] + 2), (tail[0], tail[1] + tail[2] + 1)]
    for (x0, y0), (x1, y1) in zip(vein, vein[1:]):
        cv.paint("portal_veins", "venous blood", Capsule(x0, y0, x1, y1, rng.uniform(3, 4.5)), only=("visceral_fat", "pancreas"))
    cv.paint("visceral_fat", "fat", Capsule(*sma, *sma, rng.uniform(6, 9)), only=("visceral_fat", "pancreas"))
    cv.paint("sma", "blood", Capsule(*sma, *sma, rng.uniform(3, 4.2)))
    cv.paint("portal_veins", "venous blood", Capsule(*smv, *smv, r_v))
    if rng.random() < 0.5:  # left renal vein between aorta and SMA into the IVC
        hilum = _local(kid_l, 0, -1.0 * kid_l.b)
        path = [hilum, (aorta.cx, aorta.cy - r_a - 3), (ivc.cx, ivc.cy)]
        for (x0, y0), (x1, y1) in zip(path, path[1:]):
            cv.paint("renal_vein", "venous blood", Capsule(x0, y0, x1, y1, rng.uniform(3, 4.5)), only=("visceral_fat", "crus", "pancreas"))
    duo = Ellipse(head[0] - head[2] - rng.uniform(7, 11), head[1] + rng.uniform(-5, 8), rng.uniform(9, 13), rng.uniform(8, 12))
    paint_lumen(cv, "duodenum", duo, str(rng.choice(["fluid", "gas-fluid", "collapsed"])), wall_mm=2.0, only=("visceral_fat", "liver", "colon"))


def gallbladder(cv: Canvas, cav: Ellipse, inside) -> tuple[float, float]:
    """Bile-filled gallbladder in the liver's inferior fossa; returns the fossa (clip site) either way."""
    rng = cv.rng
    gb = Ellipse(
        -rng.uniform(0.2, 0.38) * cav.a, -rng.uniform(0.25, 0.5) * cav.b, rng.uniform(14, 26), rng.uniform(10, 17),
        angle=rng.uniform(0, 180), wobble=random_wobble(rng, 0.03, 3),
    )
    if rng.random() < 0.8:
        cv.paint("gallbladder", "bile", gb, only=("liver", "visceral_fat", "hepatic_vessels"))
    return gb.cx, gb.cy


def mesenteric_vessels(cv: Canvas, cav: Ellipse) -> None:
    rng = cv.rng
    region = Ellipse(0.0, -0.3 * cav.b, 0.7 * cav.a, 0.55 * cav.b)
    for _ in range(int(rng.integers(8, 22))):
        x, y = region.point(rng.uniform(0, 360), np.sqrt(rng.uniform(0, 1)))
        tissue = "blood" if rng.random() < 0.4 else "venous blood"
        cv.paint("mesenteric_vessels", tissue, Capsule(x, y, x, y, rng.uniform(0.7, 2.5)), only=("visceral_fat",), alpha=True)

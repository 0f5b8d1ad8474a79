"""Axial supratentorial head slice at the level of the lateral ventricles and basal ganglia.

Scalp, temporalis, skull (outer table, diploe, inner table), CSF spaces, a gyrated cortex
over white matter, frontal horns and atria, caudate, lentiform nuclei, thalami, insula and
sylvian fissures, falx; sometimes calcified choroid plexus and pineal gland. Atrophy (age)
widens sulci and ventricles. Patient frame: x to the patient's left (image right), y
posterior (image down), mm, origin at the centre of the brain.
"""

from __future__ import annotations

import numpy as np

from radscribe.ctiqa.phantoms.brain import paint_cortex, paint_deep_structures
from radscribe.ctiqa.phantoms.canvas import Canvas, patient_canvas
from radscribe.ctiqa.phantoms.shapes import Capsule, Ellipse, HalfPlane, random_wobble
from radscribe.ctiqa.phantoms.viscera import Findings, place_lesion

BRAIN = ("grey_matter", "white_matter")


def build_head(rng: np.random.Generator, size: int) -> tuple[Canvas, Findings]:
    fov = float(rng.uniform(220, 250))
    cv = patient_canvas(rng, size, fov, phase="native", centre_mm=(0.0, rng.uniform(-6, 2)))
    atrophy = float(rng.beta(1.5, 3.0))  # 0 young, 1 marked age-related volume loss
    a, b = rng.uniform(66, 78), rng.uniform(84, 97)  # half width and half length of the head
    wob = random_wobble(rng, 0.015, 5)
    head = Ellipse(0.0, 0.0, a, b, taper=rng.uniform(0.03, 0.1), wobble=wob)
    scalp = rng.uniform(4, 7)
    skull_outer = head.grow(-scalp)
    thick = rng.uniform(5, 8)
    inner = skull_outer.grow(-thick)
    sas = rng.uniform(0.8, 1.8) + 2.5 * atrophy  # subarachnoid CSF over the convexity
    brain = inner.grow(-sas)
    cv.paint_layers([
        ("scalp", "skin", head),
        ("scalp", "fat", head.grow(-rng.uniform(1.5, 2.5))),
        ("scalp", "skin", head.grow(-scalp + rng.uniform(1.0, 2.0))),  # galea and periosteum
        ("skull", "skull", skull_outer),
        ("skull", "diploe", skull_outer.grow(-rng.uniform(1.5, 2.2))),
        ("skull", "skull", inner.grow(rng.uniform(1.3, 2.0))),
        ("subarachnoid_space", "csf", inner),
        ("white_matter", "white matter", brain),
    ])
    _temporalis(cv, skull_outer)
    if rng.random() < 0.7:
        _head_holder(cv, head)
    paint_cortex(cv, brain, atrophy)
    paint_deep_structures(cv, brain, atrophy)
    f = Findings()
    _lesions(cv, f, brain)
    side = float(rng.choice([-1.0, 1.0]))
    f.metal_sites = {
        "aneurysm clip": (side * brain.a * 0.55, -0.05 * brain.b),
        "shunt": skull_outer.point(-118, 1.0),  # right frontal (Kocher's point) burr hole
        "skull plate": skull_outer.point(rng.uniform(-150, -30) if rng.random() < 0.5 else rng.uniform(30, 150), 0.98),
    }
    return cv, f


def _temporalis(cv: Canvas, skull: Ellipse) -> None:
    """Temporalis muscles on the lateral skull, under the scalp."""
    rng = cv.rng
    for side in (-1, 1):
        t0 = 0 if side > 0 else 180
        pts = [skull.point(t0 + dt, 1.0) for dt in np.linspace(-35, 25, 4)]
        thick = rng.uniform(2.5, 6.0)
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            cv.paint("temporalis", "muscle", Capsule(x0 + side * thick * 0.6, y0, x1 + side * thick * 0.6, y1, thick), only=("scalp",))


def _head_holder(cv: Canvas, head: Ellipse) -> None:
    """The curved plastic head rest under the occiput (outside the body mask)."""
    rng = cv.rng
    gap, thick = rng.uniform(4, 15), rng.uniform(2.0, 3.5)
    inner = head.grow(gap)
    cv.paint("table", "table", inner.grow(thick), exclude=(inner, HalfPlane(0.0, 1.0, head.b * 0.1)), only=("outside",))


def _lesions(cv: Canvas, f: Findings, brain: Ellipse) -> None:
    """Infarct-like cortical/subcortical hypodensities and lacunes in the deep grey/white matter."""
    rng = cv.rng
    for _ in range(int(rng.choice(3, p=[0.55, 0.3, 0.15]))):
        if rng.random() < 0.5:  # territorial infarct: a wedge from the cortex inward, ill-defined
            size, t = rng.uniform(15, 40), rng.uniform(0, 360)
            centre = brain.point(t, 1.0 - 0.5 * size / brain.a)
            wedge = Ellipse(*centre, size / 2, size * rng.uniform(0.25, 0.4), angle=t, b_post=size * 0.2, wobble=random_wobble(rng, 0.05, 4), soft=3.0)
            name = f"lesion_{len(f.lesions)}"
            if cv.paint(name, "brain hypodensity", wedge, only=BRAIN, alpha=True) > 0:
                f.lesions.append({"name": name, "organ": "brain", "kind": "infarct", "tissue": "brain hypodensity", "diameter_mm": round(size, 1), "center_mm": centre})
        else:
            size = rng.uniform(3, 12)
            place_lesion(cv, f, "white_matter", brain.grow(-brain.a * 0.3), "brain hypodensity", size, only=BRAIN + ("basal_ganglia", "thalamus"), kind="lacune")

"""Arms down beside the trunk: the commonest cause of lateral streaks and extra noise in body CT.

Chest and abdomen are scanned with the arms raised; trauma, frail and ventilated patients keep them at
their sides, and every lateral ray then crosses two humeri and two arms' worth of muscle. The simulator
makes the consequences itself (fewer photons on the lateral rays: higher, directional noise), so the
phantom only has to put the arms there. An upper arm is skin, subcutaneous fat and muscle around the
humeral shaft (a cortical tube around fatty marrow), resting on the couch beside the back.

The arms need a wider display field (scanners reconstruct arms-down bodies on their largest, ~500 mm):
:func:`plan_arms` sizes them and the field before the canvas exists, from its own random stream, so a
phantom with arms is the same patient (body size, habitus, organs drawn) as without them; what is placed by
trial on the pixel grid (a lesion's spot) can differ on the wider field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radscribe.ctiqa.phantoms.canvas import Canvas
from radscribe.ctiqa.phantoms.shapes import Ellipse, random_wobble

#: the largest display field: a scanner's scan field of view, beyond which nothing is reconstructed
MAX_FOV_MM = 500.0
#: an upper arm's half-width (mm): slim 32 .. muscular or obese 50
ARM_HALF_WIDTH_MM = (32.0, 50.0)
#: kept free beyond each arm (mm): the outline's wobble and the patient's offset on the couch (SD 1.5% of
#: the field) must not push an arm out of the field, where the simulator could not scan it
MARGIN_MM = 25.0


@dataclass(frozen=True)
class Arm:
    side: int  # -1: patient's right (image left), +1: patient's left
    half_width: float  # lateral semi-axis, mm
    half_depth: float  # antero-posterior semi-axis, mm
    gap: float  # skin to skin from the trunk's outline, mm (<= 0: pressed against the flank)
    lift: float  # how far the arm's back lies above the trunk's back (the couch is curved), mm
    fat: float  # subcutaneous fat, mm
    bone_radius: float  # humeral shaft, mm
    cortex: float  # its cortical thickness, mm
    bone_offset: tuple[float, float]  # from the arm's centre, mm


@dataclass(frozen=True)
class ArmsPlan:
    arms: tuple[Arm, Arm]
    fov_mm: float
    rng: np.random.Generator  # the arms' own stream, which painting goes on drawing from


def plan_arms(rng: np.random.Generator | None, trunk_half_width: float) -> ArmsPlan | None:
    """Both arms and the display field that holds them; None without ``rng`` (arms up, the default) or when
    the trunk is too wide to add them."""
    if rng is None:
        return None
    room = MAX_FOV_MM / 2 - MARGIN_MM - trunk_half_width  # for an arm and its gap, each side
    arms = []
    for side in (-1, 1):
        half_width = rng.uniform(*ARM_HALF_WIDTH_MM)
        # mostly resting against the flank (a negative gap presses the arm flat against it), else a little away
        gap = rng.uniform(-8.0, 4.0) if rng.random() < 0.6 else rng.uniform(4.0, 25.0)
        if 2 * half_width + gap > room:  # a big patient on a 500 mm field: arms against the flanks, smaller
            gap = min(gap, 0.0)
            half_width = min(half_width, (room - gap) / 2)
        if half_width < ARM_HALF_WIDTH_MM[0] * 0.85:
            return None
        bone_radius = rng.uniform(9.0, 12.5)
        arms.append(Arm(
            side=side, half_width=half_width, half_depth=half_width * rng.uniform(1.0, 1.2), gap=gap,
            lift=rng.uniform(0.0, 30.0), fat=rng.uniform(3.0, 0.25 * half_width),
            bone_radius=bone_radius, cortex=rng.uniform(2.5, 4.5),
            bone_offset=(rng.uniform(-0.15, 0.15) * half_width, rng.uniform(-0.2, 0.1) * half_width),
        ))
    reach = max(trunk_half_width + a.gap + 2 * a.half_width for a in arms)
    fov = 2 * (reach + MARGIN_MM) * rng.uniform(1.0, 1.04)
    return ArmsPlan(arms=(arms[0], arms[1]), fov_mm=float(min(MAX_FOV_MM, fov)), rng=rng)


def paint_arms(cv: Canvas, outer: Ellipse, plan: ArmsPlan | None) -> None:
    """Paint the planned arms (if any) beside ``outer`` (the trunk's skin), over air only. Before the couch."""
    if plan is None:
        return
    rng, back = plan.rng, outer.b_post or outer.b
    for arm in plan.arms:
        cx = outer.cx + arm.side * (outer.a + arm.gap + arm.half_width)
        cy = outer.cy + back - arm.lift - arm.half_depth  # resting on the couch beside the back
        skin = Ellipse(cx, cy, arm.half_width, arm.half_depth, angle=rng.uniform(-10, 10),
                       wobble=random_wobble(rng, 0.03, 3))
        cv.paint("arm", "skin", skin, only=("outside",))
        cv.paint("arm", "fat", skin.grow(-rng.uniform(1.5, 2.5)), only=("arm",))
        cv.paint("arm", "muscle", skin.grow(-arm.fat), only=("arm",))
        shaft = Ellipse(cx + arm.bone_offset[0], cy + arm.bone_offset[1], arm.bone_radius,
                        arm.bone_radius * rng.uniform(0.9, 1.1))
        cv.paint("humerus", "cortical bone", shaft, only=("arm",))
        cv.paint("humerus", "fat", shaft.grow(-arm.cortex), only=("humerus",))  # fatty (yellow) marrow

"""Hollow organs and lesions shared by the abdomen and pelvis: bowel contents, loops, lesion placement."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from radscribe.ctiqa.phantoms.canvas import Canvas
from radscribe.ctiqa.phantoms.shapes import Ellipse, HalfPlane, NoiseMask, random_wobble


@dataclass
class Findings:
    """What a builder hands back besides pixels: implant sites and lesions (patient mm)."""

    metal_sites: dict[str, tuple[float, float]] = field(default_factory=dict)
    lesions: list[dict] = field(default_factory=list)


def paint_lumen(cv: Canvas, organ: str, wall: Ellipse, content: str, *, wall_mm: float = 2.5, **kw) -> None:
    """A hollow viscus: enhancing wall, then ``gas``, ``fluid``, ``gas-fluid`` (level), ``stool`` or ``collapsed``."""
    rng = cv.rng
    cv.paint(organ, "bowel wall", wall, **kw)
    if content == "collapsed":
        return
    lumen = wall.grow(-wall_mm)
    if content == "gas":
        cv.paint(organ, "gas", lumen, **kw)
    elif content == "fluid":
        cv.paint(organ, "bowel fluid", lumen, **kw)
    elif content == "gas-fluid":
        cv.paint(organ, "bowel fluid", lumen, **kw)
        t = np.radians(lumen.angle)
        half_height = float(np.hypot(lumen.a * np.sin(t), lumen.b * np.cos(t)))
        # Gas rises to the non-dependent (anterior, upper) part: a horizontal air-fluid level.
        level = lumen.cy - half_height * rng.uniform(-0.2, 0.6)
        clip = tuple(kw.pop("clip", ())) + (HalfPlane(0.0, 1.0, level),)
        cv.paint(organ, "gas", lumen, clip=clip, **kw)
    elif content == "stool":
        cv.paint(organ, "stool", lumen, **kw)
        bubbles = NoiseMask(rng, rng.uniform(4, 8), rng.uniform(0.15, 0.35))
        clip = tuple(kw.pop("clip", ())) + (bubbles,)
        cv.paint(organ, "gas", lumen, clip=clip, **kw)
    else:
        raise ValueError(f"unknown lumen content {content!r}")


def scatter_loops(
    cv: Canvas, region: Ellipse, n: int, radius_mm: tuple[float, float], *, organ: str = "bowel", only: tuple[str, ...] = ("visceral_fat",)
) -> int:
    """Small-bowel loops packed into the free fat of ``region`` (centres must land on ``only``)."""
    rng, placed = cv.rng, 0
    for _ in range(n * 4):
        if placed >= n:
            break
        t, r = rng.uniform(0, 360), np.sqrt(rng.uniform(0, 1))
        x, y = region.point(t, r)
        if cv.organ_at(x, y) not in only:
            continue
        rad = rng.uniform(*radius_mm)
        # Loops are cut at all angles: from round (across) to sausage-shaped (along the loop).
        loop = Ellipse(x, y, rad * rng.uniform(1.0, 2.2), rad * rng.uniform(0.75, 1.0), angle=rng.uniform(0, 180), wobble=random_wobble(rng, 0.08, 5))
        content = rng.choice(["fluid", "fluid", "gas-fluid", "gas", "collapsed"], p=[0.35, 0.15, 0.15, 0.1, 0.25])
        paint_lumen(cv, organ, loop, str(content), wall_mm=rng.uniform(1.5, 3.0), only=only + (organ,))
        placed += 1
    return placed


def place_lesion(
    cv: Canvas,
    findings: Findings,
    organ: str,
    search: Ellipse,
    tissue_name: str,
    diameter_mm: float,
    *,
    only: tuple[str, ...] | None = None,
    smooth: bool = True,
    kind: str = "",
    tries: int = 40,
    hosts: tuple[str, ...] | None = None,
) -> bool:
    """Put a round lesion of ``tissue_name`` inside ``organ`` (all of its rim must land in ``hosts``, default the organ).

    The lesion gets its own region ``lesion_<k>``; the organ's mask no longer includes it.
    """
    rng, r = cv.rng, diameter_mm / 2
    for _ in range(tries):
        x, y = search.point(rng.uniform(0, 360), np.sqrt(rng.uniform(0, 1)))
        probes = [(x, y)] + [(x + 0.8 * r * np.cos(t), y + 0.8 * r * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 6, endpoint=False)]
        if all(cv.organ_at(px, py) in (hosts or (organ,)) for px, py in probes):
            break
    else:
        return False
    name = f"lesion_{len(findings.lesions)}"
    shape = Ellipse(x, y, r, r * rng.uniform(0.8, 1.0), angle=rng.uniform(0, 180), wobble=random_wobble(rng, 0.02 if smooth else 0.08, 5))
    if cv.paint(name, tissue_name, shape, only=only or (organ,)) == 0:
        return False
    findings.lesions.append({"name": name, "organ": organ, "kind": kind or tissue_name, "tissue": tissue_name, "diameter_mm": round(diameter_mm, 1), "center_mm": (x, y)})
    return True

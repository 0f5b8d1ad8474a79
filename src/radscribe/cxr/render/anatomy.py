"""Normal PA chest anatomy as attenuation layers (line integrals), on a square canvas.

Coordinates are fractions of the image side: ``x`` grows to the IMAGE right (the patient's LEFT,
PA convention), ``y`` grows downwards. Every layer is a projected thickness map; the renderer multiplies
each by its attenuation weight (soft tissue through the full chest depth = 0.95) and adds them, so
overlapping structures combine the way they do in a projection (a rib over the heart is brighter than a
rib over lung). Display happens later, in :mod:`radscribe.cxr.render.display`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

from radscribe.cxr.render.draw import blur
from radscribe.cxr.render.lungmasks import LungMask

@dataclass
class Layout:
    """Where everything sits; fractions of the image side. Findings read this to place themselves."""

    size: int
    xm: float  # midline
    lung_box: tuple[float, float, float, float]  # x0, y0, x1, y1 of both lungs
    thorax_width: float  # widest outer-lung extent (inner rib margins), fraction of side
    heart_width: float
    heart_box: tuple[float, float, float, float]
    heart_equator: float  # y of the widest heart row
    hilum_right: tuple[float, float]  # (x, y) patient right = image left
    hilum_left: tuple[float, float]
    mediastinum_half: float
    ctr: float
    female: bool
    masks: dict[str, np.ndarray] = field(default_factory=dict)


def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    c = (np.arange(size, dtype=np.float32) + 0.5) / size
    return c[None, :], c[:, None]  # broadcasting X (1, S) and Y (S, 1)


def _place(mask: np.ndarray, box: tuple[float, float, float, float], size: int) -> np.ndarray:
    """Resample a WORK_SIZE mask into ``box`` on the canvas (float, anti-aliased edge)."""
    x0, y0, x1, y1 = (int(round(v * size)) for v in box)
    patch = Image.fromarray(mask.astype(np.float32)).resize((max(1, x1 - x0), max(1, y1 - y0)), Image.BILINEAR)
    out = np.zeros((size, size), np.float32)
    out[y0:y1, x0:x1] = np.asarray(patch)
    return out


def _ellipse(X, Y, cx, cy, ax, ay) -> np.ndarray:
    return ((X - cx) / ax) ** 2 + ((Y - cy) / ay) ** 2


def heart_mask(X, Y, xm: float, width: float, equator: float, height: float) -> np.ndarray:
    """Right heart border (image left) and left heart border (image right) as smooth arcs, row by row.

    The widest row is exactly ``width`` wide, 36 % of it right of the midline. Above the widest row each
    border is an ellipse arc closing towards the mediastinum; below it the border tapers gently and the
    heart continues into the diaphragm (its lower edge is hidden by the liver and the left hemidiaphragm).
    """
    y = Y[:, 0]

    def arc(centre: float, up: float, down: float) -> np.ndarray:
        t = np.where(y < centre, (y - centre) / up, (y - centre) / down)
        f = np.sqrt(np.clip(1 - t * t, 0, 1))
        return np.where(y > centre, np.maximum(f, 0.55), f)

    right = xm - 0.36 * width * arc(equator - 0.06 * height, 0.5 * height, 0.9 * height)
    left = xm + 0.64 * width * arc(equator, 0.6 * height, 0.65 * height)
    return (X > right[:, None]) & (X < left[:, None]) & (Y > equator - 0.6 * height)


def dome_level(lung: np.ndarray, side: str) -> float:
    """Row of the top of the hemidiaphragm dome under one lung (``side`` = patient side).

    The highest lung-bottom point over the lung's lateral columns (10-45 % of its width from the outside),
    where the heart never reaches.
    """
    cols = np.nonzero(lung.any(axis=0))[0]
    width = cols.max() - cols.min()
    if side == "right":  # image left: lateral is small x
        lo, hi = int(cols.min() + 0.1 * width), int(cols.min() + 0.45 * width)
    else:
        lo, hi = int(cols.max() - 0.45 * width), int(cols.max() - 0.1 * width)
    bottoms = [np.nonzero(lung[:, c])[0].max() for c in range(lo, hi + 1) if lung[:, c].any()]
    return float(min(bottoms))


def build_layout(lungs: LungMask, size: int, rng: np.random.Generator, ctr: float, *, mediastinum_scale: float = 1.0) -> Layout:
    right, left = lungs.right, lungs.left
    # the patient's right hemidiaphragm sits higher; flip masks that disagree (we redraw the medial borders anyway)
    if dome_level(right, "right") > dome_level(left, "left"):
        right, left = left[:, ::-1].copy(), right[:, ::-1].copy()
    x0 = 0.15 + rng.uniform(-0.02, 0.02)
    x1 = 0.85 + rng.uniform(-0.02, 0.02)
    y0 = 0.11 + rng.uniform(-0.02, 0.02)
    y1 = y0 + (x1 - x0) * rng.uniform(0.82, 0.95)
    box = (x0, y0, x1, y1)
    xm = (x0 + x1) / 2 + rng.uniform(-0.01, 0.01)
    X, Y = grid(size)
    right_mask = _largest(_place(right, box, size) > 0.5)  # the masks were opened at work size already
    left_mask = _largest(_place(left, box, size) > 0.5)
    lung_h = y1 - y0
    xm_px = int(round(xm * size))
    # medial borders are ours (heart, mediastinum), apex and lateral wall the mask's, diaphragm ours (the masks'
    # lower medial outlines belong to their patients' hearts). The right dome sits higher than the left.
    depth = rng.uniform(0.08, 0.13) * lung_h * size
    d_right, peak_r = _diaphragm(right_mask, "right", xm_px, depth)
    d_left, peak_l = _diaphragm(left_mask, "left", xm_px, depth)
    lift = peak_r - (peak_l - rng.uniform(0.02, 0.04) * lung_h * size)
    if lift > 0:
        d_right, peak_r = d_right - lift, peak_r - lift
    hull = _lung_side(right_mask, "right", xm_px, d_right) | _lung_side(left_mask, "left", xm_px, d_left)
    # the heart is widest a little above the domes it sits on
    equator = min(peak_r, peak_l) / size - rng.uniform(0.07, 0.11) * lung_h
    rows = hull.any(axis=1)
    first = np.argmax(hull, axis=1)
    last = size - 1 - np.argmax(hull[:, ::-1], axis=1)
    widths = (last - first)[rows]
    thorax = float(widths.max()) / size
    heart_w = ctr * thorax
    heart_h = rng.uniform(0.36, 0.42) * lung_h * (1 + 0.5 * max(0.0, ctr - 0.5))
    heart = heart_mask(X, Y, xm, heart_w, equator, heart_h)
    med_half = (0.065 + rng.uniform(-0.008, 0.008)) * mediastinum_scale
    heart_top = equator - 0.5 * heart_h
    mediastinum = (np.abs(X - xm - 0.1 * med_half) < med_half) & (Y < heart_top + 0.05)
    # aortic knob: a bulge on the patient's left (image right) at the top of the heart shadow
    knob_r = 0.024 * rng.uniform(0.9, 1.2) * mediastinum_scale
    knob = _ellipse(X, Y, xm + med_half - 0.1 * knob_r, heart_top - 0.045 * lung_h - 0.04, knob_r, knob_r * 1.1) < 1
    not_lung = heart | mediastinum | knob
    lung_right = hull & ~not_lung & (X < xm)
    lung_left = hull & ~not_lung & (X >= xm)
    # keep only the main piece on each side (carving can leave crumbs)
    lung_right = _largest(lung_right)
    lung_left = _largest(lung_left)
    both = lung_right | lung_left
    ys = np.nonzero(both.any(axis=1))[0]
    wid = [(np.nonzero(both[r])[0].max() - np.nonzero(both[r])[0].min() + 1) for r in ys]
    thorax = float(max(wid)) / size
    return Layout(
        size=size, xm=xm, lung_box=box, thorax_width=thorax, heart_width=heart_w,
        heart_box=(xm - 0.36 * heart_w, heart_top, xm + 0.64 * heart_w, y1 + 0.05), heart_equator=equator,
        hilum_right=(xm - med_half - 0.035, y0 + 0.42 * lung_h), hilum_left=(xm + med_half + 0.03, y0 + 0.40 * lung_h),
        mediastinum_half=med_half, ctr=heart_w / thorax, female=bool(rng.random() < 0.5),
        masks={"lung_right": lung_right, "lung_left": lung_left, "heart": heart, "mediastinum": mediastinum | knob,
               "lung_hull": hull},
    )


def _diaphragm(mask: np.ndarray, side: str, xm_px: int, depth: float) -> tuple[np.ndarray, float]:
    """Per-column hemidiaphragm row under one lung, and the row of its dome top.

    Lateral: the mask's own costophrenic angle (its lowest point). From there the dome rises by ``depth`` to a
    peak 45 % of the way to the midline, then sinks a little towards the cardiophrenic angle.
    """
    size = mask.shape[0]
    ys, xs = np.nonzero(mask)
    cp_row = float(ys.max())
    lateral_x = float(xs.min() if side == "right" else xs.max())
    peak_x = lateral_x + 0.45 * (xm_px - lateral_x)
    cols = np.arange(size, dtype=np.float32)
    t = np.clip((cols - lateral_x) / (peak_x - lateral_x), 0, 1)
    u = np.clip((cols - peak_x) / (xm_px - peak_x), 0, 1)
    rows = np.where(t < 1, cp_row - depth * (1 - (1 - t) ** 2), cp_row - depth + 0.3 * depth * u * u)
    return rows, cp_row - depth


def _lung_side(mask: np.ndarray, side: str, xm_px: int, diaphragm: np.ndarray) -> np.ndarray:
    """The mask's apex and lateral wall, filled towards the midline, cut by our diaphragm.

    Near the apex the fill reaches the midline gradually (over the top 25 % of the lung), so the apex stays
    domed and its medial border slopes down to the mediastinum instead of ending in a flat shoulder.
    """
    size = mask.shape[0]
    rows = np.arange(size)[:, None]
    cols = np.arange(size)[None, :]
    present = mask.any(axis=1)
    ys = np.nonzero(present)[0]
    ramp = np.clip((np.arange(size) - ys.min()) / (0.25 * (ys.max() - ys.min()) + 1), 0, 1)
    ramp = (ramp * ramp * (3 - 2 * ramp))[:, None]
    if side == "right":
        lateral = np.where(present, np.argmax(mask, axis=1), size)[:, None]
        medial = np.where(present, size - 1 - np.argmax(mask[:, ::-1], axis=1), -1)[:, None]
        reach = medial + ramp * (xm_px - medial)
        half = (cols >= lateral) & (cols < np.minimum(reach, xm_px))
    else:
        lateral = np.where(present, size - 1 - np.argmax(mask[:, ::-1], axis=1), -1)[:, None]
        medial = np.where(present, np.argmax(mask, axis=1), size)[:, None]
        reach = medial - ramp * (medial - xm_px)
        half = (cols <= lateral) & (cols > np.maximum(reach, xm_px - 1))
    return (half | (mask & (rows < ys.min() + 0.25 * (ys.max() - ys.min())))) & (rows <= diaphragm[None, :])


def _largest(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask)
    if count <= 1:
        return mask
    sizes = ndimage.sum(mask, labels, index=range(1, count + 1))
    return labels == (int(np.argmax(sizes)) + 1)


def smooth(mask: np.ndarray, sigma_px: float) -> np.ndarray:
    return blur(mask.astype(np.float32), sigma_px)


def tube(distance: np.ndarray, radius: float, cortex: float = 0.35) -> np.ndarray:
    """Projected thickness of a hollow bone tube: brighter rims (cortex) than middle, like a real rib."""
    r = np.clip(distance / radius, 0, 1)
    solid = np.sqrt(np.clip(1 - r * r, 0, 1))
    inner = np.sqrt(np.clip(1 - (r / 0.7) ** 2, 0, 1)) * 0.7
    return solid - (1 - cortex) * inner


def body_layer(lay: Layout, X, Y) -> np.ndarray:
    """Soft-tissue thickness of the trunk: an elliptical cross-section, narrow neck, shoulders."""
    x0, y0, x1, _ = lay.lung_box
    half = (x1 - x0) / 2 + 0.075
    # neck above the lungs, shoulders widening out to the trunk
    neck = 0.10
    t = np.clip((Y - (y0 - 0.10)) / 0.09, 0, 1)
    halfw = neck + (half + 0.05 - neck) * (t * t * (3 - 2 * t))
    u = (X - lay.xm) / halfw
    thick = np.clip(1 - u * u, 0, 1) ** 0.4  # elliptical cross-section: tangential paths through the wall are shorter
    return thick.astype(np.float32)


def lung_layer(lay: Layout) -> np.ndarray:
    """How much of the trunk's thickness is air: thick in the middle of each lung, thin at its edges."""
    s = lay.size
    out = np.zeros((s, s), np.float32)
    for key in ("lung_right", "lung_left"):
        m = lay.masks[key]
        d = ndimage.distance_transform_edt(m[::2, ::2]) if s >= 512 else ndimage.distance_transform_edt(m)
        if s >= 512:
            d = np.kron(d, np.ones((2, 2)))[:s, :s] * 2
        # a circular chest wall: air thickness rises like sqrt(distance) near the edge, then keeps growing inward
        rim = np.sqrt(np.clip(d / (0.012 * s), 0, 1))
        out += (rim * (0.65 + 0.35 * d / (d.max() + 1e-6))).astype(np.float32) * m
    out = ndimage.gaussian_filter(out, s / 400)
    # lung behind the heart and under the domes adds a little air there too
    retro = lay.masks["heart"] & lay.masks["lung_hull"]
    out += 0.12 * smooth(retro, s / 60)
    return out


def spine_layer(lay: Layout, X, Y, rng) -> np.ndarray:
    """Vertebral bodies with disc spaces and pedicle ovals, faint through the mediastinum."""
    s = lay.size
    w = 0.04
    dx = X - lay.xm
    body = np.sqrt(np.clip(1 - (dx / w) ** 2, 0, 1))
    period = (lay.lung_box[3] - lay.lung_box[1]) / 9.5
    phase = ((Y - lay.lung_box[1] + 0.3 * period) / period) % 1.0
    discs = 1 - 0.55 * np.exp(-((phase - 0.05) / 0.06) ** 2)
    pedicles = sum(np.exp(-(((dx - sx * 0.022) / 0.007) ** 2 + ((phase - 0.45) / 0.12) ** 2)) for sx in (-1, 1))
    spinous = np.exp(-((dx / 0.006) ** 2 + ((phase - 0.55) / 0.18) ** 2))
    return (0.55 * body * discs + 0.25 * pedicles + 0.2 * spinous).astype(np.float32)


def rib_layer(lay: Layout, X, Y, rng, breaks=()) -> np.ndarray:
    """Posterior arcs (brighter, curving down laterally) and anterior ribs (fainter, sloping down medially).

    Each side is one phase field: rib k lies where (y - curve(x)) / spacing is close to k, so all ribs cost
    one pass over the image.
    """
    x0, y0, x1, y1 = lay.lung_box
    lung_h = y1 - y0
    half = (x1 - x0) / 2
    out = np.zeros_like(X * Y)
    for side in (-1, 1):
        d = np.clip(side * (X - lay.xm), 0, None) / half  # 0 at spine, 1 at the lateral lung edge
        region = (side * (X - lay.xm) > 0.02) & (d < 1.12)
        spacing = lung_h / 10.5 * rng.uniform(0.95, 1.05)
        # posterior: leave the spine slightly upward, then arc down laterally
        post = Y - (y0 - 0.045 + (-0.06 * d + 0.32 * d * d) * lung_h)
        k = post / spacing
        frac = np.abs(k - np.round(k)) * spacing  # distance (vertical) to the nearest rib centre line
        valid = (np.round(k) >= 0) & (np.round(k) <= 9)
        slope = np.abs(-0.06 + 0.64 * d) * lung_h / half
        dist = frac / np.sqrt(1 + slope * slope)
        radius = 0.010 + 0.003 * d
        rib = region * valid * tube(dist, radius) * 0.55
        for b_side, b_rib, b_d, *record in breaks:  # a fracture: a lucent gap across one posterior rib, lateral fragment stepped down
            if (b_side == "right") == (side < 0):
                this_rib = np.round(k) == b_rib
                lateral_part = d > b_d
                shift = 0.6 * radius
                ks = (post - shift) / spacing
                dist_s = np.abs(ks - np.round(ks)) * spacing / np.sqrt(1 + slope * slope)
                moved = region * (np.round(ks) == b_rib) * lateral_part * tube(dist_s, radius) * 0.55
                rib = rib * ~(this_rib & lateral_part) + moved
                gap = (this_rib | (np.round(ks) == b_rib)) & (np.abs(d - b_d) < 0.03)
                rib = rib * (1 - ndimage.gaussian_filter(gap.astype(np.float32), 0.6))
                if record and gap.any():  # tell the finding's truth where the break really is
                    ys, xs = np.nonzero(gap & region)
                    if len(xs):
                        s_ = lay.size
                        record[0]["bbox"] = [round(xs.min() / s_ - 0.01, 4), round(ys.min() / s_ - 0.01, 4),
                                             round(xs.max() / s_ + 0.01, 4), round(ys.max() / s_ + 0.01, 4)]
        out += rib
        # anterior: from the lateral wall running medially and downward; end at the costochondral junction
        ant = Y - (y0 + 0.02 + (0.20 - 0.22 * d + 0.04 * d * d) * lung_h)
        ka = ant / (spacing * 1.25)
        fa = np.abs(ka - np.round(ka)) * spacing * 1.25
        va = (np.round(ka) >= 0) & (np.round(ka) <= 5) & (d > 0.32)
        out += region * va * tube(fa / 1.05, 0.012, cortex=0.6) * 0.30 * np.clip((d - 0.32) / 0.1, 0, 1)
    return out.astype(np.float32)


def clavicle_layer(lay: Layout, X, Y) -> np.ndarray:
    x0, y0, x1, _ = lay.lung_box
    half = (x1 - x0) / 2
    out = np.zeros_like(X * Y)
    for side in (-1, 1):
        d = side * (X - lay.xm) / half
        centre = y0 + 0.02 - 0.05 * np.clip(d, 0, 1.2) + 0.025 * np.sin(np.clip(d, 0, 1.2) * np.pi)
        in_range = (d > 0.08) & (d < 1.15)
        out += in_range * tube(np.abs(Y - centre), 0.013, cortex=0.5)
    return out.astype(np.float32)


def scapula_layer(lay: Layout, X, Y) -> np.ndarray:
    """The medial scapular border: a faint density lateral to a line in the upper lateral chest."""
    x0, y0, x1, y1 = lay.lung_box
    out = np.zeros_like(X * Y)
    for side in (-1, 1):
        edge = lay.xm + side * ((x1 - x0) / 2 * 0.78 + 0.10 * (Y - y0))
        beyond = side * (X - edge)
        ramp = np.clip(beyond / 0.02, 0, 1) * ((Y > y0 - 0.02) & (Y < y0 + 0.48 * (y1 - y0)))
        taper = np.clip((y0 + 0.48 * (y1 - y0) - Y) / 0.08, 0, 1)
        out += ramp * taper * 0.35
    return ndimage.gaussian_filter(out.astype(np.float32), lay.size / 300)


def breast_layer(lay: Layout, X, Y) -> np.ndarray:
    x0, y0, x1, y1 = lay.lung_box
    out = np.zeros_like(X * Y)
    for side in (-1, 1):
        cx = lay.xm + side * (x1 - x0) * 0.32
        e = _ellipse(X, Y, cx, y1 - 0.02, (x1 - x0) * 0.22, (y1 - y0) * 0.22)
        out += np.sqrt(np.clip(1 - e, 0, 1)) * 0.25
    return out.astype(np.float32)


def gastric_bubble(lay: Layout, X, Y, rng) -> np.ndarray:
    """Air under the patient's left hemidiaphragm (image right)."""
    left = lay.masks["lung_left"]
    cols = np.nonzero(left.any(axis=0))[0]
    cx_px = int(cols.min() + 0.6 * (cols.max() - cols.min()))
    band = left[:, max(0, cx_px - lay.size // 50):]  # lateral part: under the dome, never beside the heart
    bottom = np.nonzero(band.any(axis=1))[0].max() / lay.size if band.any() else lay.lung_box[3]
    cx = cx_px / lay.size
    r = 0.03 * rng.uniform(0.7, 1.3)
    e = _ellipse(X, Y, cx, bottom + 0.02 + 0.8 * r, r * 1.4, r)
    dome = np.sqrt(np.clip(1 - e, 0, 1)) * (Y < bottom + 0.02 + 1.2 * r)
    return dome.astype(np.float32)


def trachea_layer(lay: Layout, X, Y) -> np.ndarray:
    """Air column in the midline down to the carina, then the two main bronchi."""
    carina = lay.hilum_right[1] - 0.02
    w = 0.016
    col = np.sqrt(np.clip(1 - ((X - lay.xm) / w) ** 2, 0, 1)) * (Y < carina)
    out = col.astype(np.float32)
    for (hx, hy) in (lay.hilum_right, lay.hilum_left):
        t = np.clip(((X - lay.xm) * (hx - lay.xm) + (Y - carina) * (hy - carina)) / ((hx - lay.xm) ** 2 + (hy - carina) ** 2), 0, 1)
        px, py = lay.xm + t * (hx - lay.xm), carina + t * (hy - carina)
        dist = np.sqrt((X - px) ** 2 + (Y - py) ** 2)
        out = np.maximum(out, np.sqrt(np.clip(1 - (dist / (0.8 * w)) ** 2, 0, 1)) * (t < 0.7))
    return out * (Y > lay.lung_box[1] - 0.12)

"""Abnormal findings drawn where a radiologist expects them, on the side and at the size the text says.

Each ``draw_*`` function changes the :class:`Scene` (air lost from the lung, tissue or metal added,
lung markings removed) and returns a truth record with the side, size, location and bounding box.
Sizes are in the chest's own scale: the inner thoracic width is taken as 28 cm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from radscribe.cxr.render.anatomy import Layout
from radscribe.cxr.render.draw import blur, curve_points, disc, draw_path, soft_noise
from radscribe.cxr.render.vessels import rasterize, vessel_tree

THORAX_CM = 28.0


@dataclass
class FindingSpec:
    """One finding to draw: ``kind`` is the drawing (``effusion``, ``nodule``, ``ett``...)."""

    observation: str
    kind: str
    side: str = "right"  # right / left / bilateral (the PATIENT's side)
    size: str = "moderate"
    location: str | None = None
    subtle: bool = False  # uncertain (-1) findings are drawn faint


@dataclass
class Scene:
    lay: Layout
    X: np.ndarray
    Y: np.ndarray
    rng: np.random.Generator
    air_gate: np.ndarray  # 1 = normal lung air, 0 = airless (fluid, consolidation)
    vessel_gate: np.ndarray  # 1 = lung markings visible, 0 = none (pneumothorax space)
    extra: np.ndarray  # attenuation added (tissue, calcium, metal)
    extra_air: np.ndarray  # attenuation removed (pneumothorax, extra air)
    rib_breaks: list = field(default_factory=list)
    masks: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.lay.size

    def cm(self, value: float) -> float:
        """A length in cm as a fraction of the image side."""
        return value * self.lay.thorax_width / THORAX_CM


def _sides(spec: FindingSpec) -> list[str]:
    return ["right", "left"] if spec.side == "bilateral" else [spec.side]


def _lung(scene: Scene, side: str) -> np.ndarray:
    return scene.lay.masks["lung_right" if side == "right" else "lung_left"]


def _bbox(mask: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return [0.0, 0.0, 0.0, 0.0]
    s = mask.shape[0]
    return [round(xs.min() / s, 4), round(ys.min() / s, 4), round((xs.max() + 1) / s, 4), round((ys.max() + 1) / s, 4)]


def _record(spec: FindingSpec, mask: np.ndarray | None = None, **more) -> dict:
    rec = {"observation": spec.observation, "kind": spec.kind, "side": spec.side, "size": spec.size,
           "location": spec.location, "subtle": spec.subtle}
    if mask is not None:
        rec["bbox"] = _bbox(mask)
    rec.update(more)
    return rec


def _strength(spec: FindingSpec) -> float:
    return 0.5 if spec.subtle else 1.0


def _zone_point(scene: Scene, side: str, location: str | None) -> tuple[float, float]:
    """A point inside the named lung zone (upper/middle/lower, perihilar, retrocardiac...)."""
    lung = _lung(scene, side)
    ys, xs = np.nonzero(lung)
    top, bottom = ys.min(), ys.max()
    h = bottom - top
    frac = {"apex": 0.12, "upper lobe": 0.28, "upper zone": 0.28, "mid lung": 0.5, "hilar": 0.45, "perihilar": 0.45,
            "middle lobe": 0.62, "lingula": 0.62, "lower lobe": 0.78, "lower zone": 0.78, "base": 0.8,
            "retrocardiac": 0.8, "costophrenic angle": 0.88}.get(location or "", None)
    if frac is None:
        frac = float(scene.rng.choice([0.3, 0.55, 0.78]))
    row = int(top + frac * h)
    cols = np.nonzero(lung[row])[0]
    if len(cols) == 0:
        cols = xs
    medial = location in ("hilar", "perihilar", "middle lobe", "lingula", "retrocardiac")
    lateral_first = cols.max() if side == "left" else cols.min()
    medial_first = cols.min() if side == "left" else cols.max()
    t = 0.25 if medial else scene.rng.uniform(0.35, 0.6)
    col = medial_first + t * (lateral_first - medial_first)
    if location == "retrocardiac":
        col = scene.lay.xm * scene.size + 0.08 * scene.size
    s = scene.size
    return float(col / s), float(row / s)


# ---------------------------------------------------------------- pleura
def draw_effusion(scene: Scene, spec: FindingSpec) -> dict:
    """Fluid fills the costophrenic angle with a meniscus that climbs the lateral chest wall."""
    height = {"small": 0.13, "moderate": 0.26, "large": 0.45}[spec.size]
    total = np.zeros_like(scene.air_gate)
    for side in _sides(spec):
        lung = _lung(scene, side)
        ys, xs = np.nonzero(lung)
        lung_h = (ys.max() - ys.min()) / scene.size
        x_med, x_lat = (xs.max(), xs.min()) if side == "right" else (xs.min(), xs.max())
        lat = np.clip((scene.X * scene.size - x_med) / (x_lat - x_med), 0, 1)
        base = ys.max() / scene.size  # the lowest point, the costophrenic angle
        top = base - height * lung_h * (0.5 + 0.5 * lat ** 1.6) - 0.035 * lat ** 2
        fluid = np.clip((scene.Y - top) / (0.035 * lung_h + 0.01), 0, 1) * lung
        fluid = ndimage.gaussian_filter(fluid.astype(np.float32), scene.size / 400) * _strength(spec)
        total = np.maximum(total, fluid)
    scene.air_gate *= 1 - 0.92 * total
    scene.vessel_gate *= 1 - total
    scene.extra += 0.06 * total  # fluid is a little denser than the tissue it displaces
    scene.masks[f"effusion_{spec.side}"] = total > 0.3
    return _record(spec, total > 0.3, height_fraction=height)


def draw_pneumothorax(scene: Scene, spec: FindingSpec) -> dict:
    """The lung shrinks towards its hilum; the rim of air has no markings; a thin visceral pleural line."""
    rim = {"small": 0.12, "moderate": 0.24, "large": 0.4}[spec.size]
    spaces = np.zeros_like(scene.air_gate, dtype=bool)
    for side in _sides(spec):
        lung = _lung(scene, side)
        ys, xs = np.nonzero(lung)
        ax = (xs.max() if side == "right" else xs.min())  # medial edge
        ay = ys.min() + 0.8 * (ys.max() - ys.min())  # low: collapse is apical and lateral (upright patient)
        s = 1.0 - rim
        collapsed = ndimage.affine_transform(lung.astype(np.float32), np.array([1 / s, 1 / s]),
                                             offset=np.array([ay - ay / s, ax - ax / s]), order=1) > 0.5
        collapsed &= lung
        space = lung & ~collapsed
        spaces |= space
        edge = collapsed & ~ndimage.binary_erosion(collapsed, iterations=max(1, scene.size // 512))
        edge &= ndimage.binary_dilation(space, iterations=2)
        line = ndimage.gaussian_filter(edge.astype(np.float32), max(0.5, scene.size / 900))
        line /= max(float(line.max()), 1e-6)
        scene.extra += 0.07 * line * _strength(spec)
        scene.extra += 0.035 * blur(collapsed.astype(np.float32), scene.size / 100) * collapsed
    sp = ndimage.gaussian_filter(spaces.astype(np.float32), scene.size / 600)
    scene.vessel_gate *= 1 - sp
    scene.extra_air += 0.07 * sp * _strength(spec)  # no lung tissue at all in the rim
    scene.masks[f"pneumothorax_{spec.side}"] = spaces
    return _record(spec, spaces, rim_fraction=rim)


def draw_pleural_thickening(scene: Scene, spec: FindingSpec) -> dict:
    """An apical cap / lateral pleural thickening: a band of tissue along the wall."""
    total = np.zeros_like(scene.air_gate)
    for side in _sides(spec):
        lung = _lung(scene, side)
        inner = ndimage.binary_erosion(lung, iterations=max(2, int(scene.cm(0.5) * scene.size)))
        band = lung & ~inner
        ys = np.nonzero(lung)[0]
        apical = scene.Y < ys.min() / scene.size + 0.25 * (ys.max() - ys.min()) / scene.size
        total = np.maximum(total, (band & apical).astype(np.float32))
    total = ndimage.gaussian_filter(total, scene.size / 500) * _strength(spec)
    scene.air_gate *= 1 - 0.8 * total
    return _record(spec, total > 0.3)


# ---------------------------------------------------------------- parenchyma
def _patch(scene: Scene, cx: float, cy: float, radius: float, side_lung: np.ndarray, dense: float, bronchograms: bool) -> np.ndarray:
    env = np.exp(-(((scene.X - cx) / radius) ** 2 + ((scene.Y - cy) / (0.85 * radius)) ** 2) ** 1.5)
    blotch = np.clip(0.55 + 0.9 * soft_noise(scene.rng, scene.size, 0.012), 0, 1)
    patch = np.clip(env * (0.55 + 0.6 * blotch), 0, 1) * side_lung
    patch = ndimage.gaussian_filter(patch.astype(np.float32), scene.size / 400) * dense
    if bronchograms:
        segs = []
        for _ in range(2):
            segs += vessel_tree(scene.rng, (cx, cy), 1 if scene.rng.random() < 0.5 else -1, n_trunks=3)
        airways = rasterize([s for s in segs if s[4] <= 3], scene.size)
        airways = np.clip(airways / (airways.max() + 1e-6), 0, 1) * env * side_lung
        patch = patch * (1 - 0.3 * airways)
    return patch


def draw_consolidation(scene: Scene, spec: FindingSpec) -> dict:
    """Patchy airless lung in the named zone; consolidation/pneumonia get air bronchograms, opacity is hazier."""
    radius = scene.cm({"small": 3.0, "moderate": 4.5, "large": 6.5}[spec.size])
    dense = {"consolidation": 0.85, "pneumonia": 0.85, "opacity": 0.6}.get(spec.kind, 0.7) * _strength(spec)
    total = np.zeros_like(scene.air_gate)
    for side in _sides(spec):
        cx, cy = _zone_point(scene, side, spec.location)
        lung = _lung(scene, side) | (scene.lay.masks["lung_hull"] & scene.lay.masks["heart"] if spec.location == "retrocardiac" else _lung(scene, side))
        total = np.maximum(total, _patch(scene, cx, cy, radius, lung, dense, spec.kind != "opacity"))
    scene.air_gate *= 1 - total
    scene.vessel_gate *= 1 - 0.6 * total
    return _record(spec, total > 0.25)


def draw_edema(scene: Scene, spec: FindingSpec) -> dict:
    """Bilateral perihilar (bat-wing) haze and Kerley B lines at the lateral bases."""
    lungs = scene.lay.masks["lung_right"] | scene.lay.masks["lung_left"]
    strength = {"small": 0.45, "moderate": 0.65, "large": 0.85}[spec.size] * _strength(spec)
    haze = np.zeros_like(scene.air_gate)
    for hx, hy in (scene.lay.hilum_right, scene.lay.hilum_left):
        haze = np.maximum(haze, np.exp(-(((scene.X - hx) / 0.13) ** 2 + ((scene.Y - hy - 0.03) / 0.16) ** 2)))
    haze *= 0.8 + 0.4 * soft_noise(scene.rng, scene.size, 0.01)
    haze = np.clip(haze, 0, 1) * lungs * strength
    scene.air_gate *= 1 - haze
    kerley = np.zeros_like(haze)
    for side in ("right", "left"):
        lung = _lung(scene, side)
        ys, xs = np.nonzero(lung)
        for _ in range(7):
            row = int(ys.min() + scene.rng.uniform(0.65, 0.9) * (ys.max() - ys.min()))
            cols = np.nonzero(lung[row])[0]
            if len(cols) == 0:
                continue
            outer = cols.min() if side == "right" else cols.max()
            inward = 1 if side == "right" else -1
            x0 = outer / scene.size
            x1 = x0 + inward * scene.cm(1.6)
            kerley = np.maximum(kerley, draw_path(np.array([[x0, row / scene.size], [x1, row / scene.size]]), scene.size, scene.cm(0.12), 1.0))
    scene.extra += 0.05 * kerley * lungs * _strength(spec)
    return _record(spec, haze > 0.25, side="bilateral")


def draw_atelectasis(scene: Scene, spec: FindingSpec) -> dict:
    """Plate-like (discoid) band: a thin near-horizontal line of airless lung at a base."""
    total = np.zeros_like(scene.air_gate)
    for side in _sides(spec):
        lung = _lung(scene, side)
        loc = spec.location if spec.location in ("upper lobe", "upper zone", "mid lung", "middle lobe", "lingula") else "base"
        cx, cy = _zone_point(scene, side, loc)
        length = scene.cm({"small": 4.0, "moderate": 6.0, "large": 8.0}[spec.size])
        tilt = scene.rng.uniform(-0.15, 0.15)
        pts = curve_points([(cx - length / 2, cy - tilt * length / 2), (cx, cy + 0.01), (cx + length / 2, cy + tilt * length / 2)], 50)
        band = draw_path(pts, scene.size, scene.cm(0.9), 1.0) * lung
        total = np.maximum(total, band)
    total *= _strength(spec)
    scene.air_gate *= 1 - 0.7 * total
    return _record(spec, total > 0.3)


def draw_lesion(scene: Scene, spec: FindingSpec) -> dict:
    """Nodule (~1 cm), mass (> 3 cm, lobulated) or calcified granuloma (small and bone-dense)."""
    side = spec.side if spec.side != "bilateral" else str(scene.rng.choice(["right", "left"]))
    lung = _lung(scene, side)
    if spec.kind == "mass":
        d_cm = {"small": 3.5, "moderate": 4.5, "large": 6.0}[spec.size]
    elif spec.kind == "granuloma":
        d_cm = 0.8
    else:
        d_cm = {"small": 0.9, "moderate": 1.3, "large": 2.0}[spec.size]
    r = scene.cm(d_cm) / 2
    depth = ndimage.distance_transform_edt(lung) / scene.size
    cx, cy = _zone_point(scene, side, spec.location)
    if depth[int(cy * scene.size), int(cx * scene.size)] < r * 1.1:
        ok = np.argwhere(depth > r * 1.2)
        if len(ok):
            yy, xx = ok[scene.rng.integers(len(ok))]
            cx, cy = xx / scene.size, yy / scene.size
    blob = disc(scene.X, scene.Y, cx, cy, r)
    if spec.kind == "mass":  # lobulated edge: a few overlapping spheres
        for _ in range(3):
            a = scene.rng.uniform(0, 2 * np.pi)
            blob = np.maximum(blob, disc(scene.X, scene.Y, cx + 0.45 * r * np.cos(a), cy + 0.45 * r * np.sin(a), 0.7 * r))
    weight = {"mass": 0.8, "granuloma": 0.9, "nodule": 0.6}.get(spec.kind, 0.6) * _strength(spec)
    if spec.kind == "granuloma":
        scene.extra += 0.45 * blob * weight  # calcium: dense and sharp
    else:
        scene.air_gate *= 1 - np.clip(blob * 1.5, 0, 1) * weight  # solid tissue replaces the air in its path
    return _record(spec, blob > 0.05, side=side, diameter_cm=d_cm, center=[round(cx, 4), round(cy, 4)])


# ---------------------------------------------------------------- heart, mediastinum, bones
def draw_rib_fracture(scene: Scene, spec: FindingSpec) -> dict:
    """A gap across one posterior rib, laterally, with the lateral fragment stepped down (drawn in the rib layer)."""
    side = spec.side if spec.side != "bilateral" else str(scene.rng.choice(["right", "left"]))
    rib = int(scene.rng.integers(4, 8))
    d = float(scene.rng.uniform(0.55, 0.8))
    record = _record(spec, None, side=side, rib_index=rib + 1, bbox=None)
    scene.rib_breaks.append((side, rib, d, record))  # the rib layer fills in the bbox where it cuts the rib
    return record


# ---------------------------------------------------------------- support devices
def _add_metal(scene: Scene, image: np.ndarray, weight: float) -> None:
    scene.extra += weight * image


def draw_device(scene: Scene, spec: FindingSpec) -> dict:
    lay, s = scene.lay, scene.size
    x0, y0, x1, y1 = lay.lung_box
    carina_y = lay.hilum_right[1] - 0.02
    layer = np.zeros_like(scene.extra)
    if spec.kind == "ett":
        tip = carina_y - scene.cm(4.5)
        for off in (-0.008, 0.008):
            layer += draw_path(curve_points([(lay.xm + off, 0.0), (lay.xm + off, tip)], 20), s, 0.003, 0.25)
        layer += draw_path(curve_points([(lay.xm - 0.004, 0.0), (lay.xm - 0.004, tip)], 20), s, 0.003, 0.9)
    elif spec.kind == "ng":
        gx = lay.xm + 0.16
        below = y1 + 0.04
        pts = curve_points([(lay.xm + 0.012, 0.0), (lay.xm + 0.016, carina_y), (lay.xm + 0.03, lay.heart_equator),
                            (lay.xm + 0.08, below - 0.01), (gx, below + 0.03)], 120)
        layer += draw_path(pts, s, 0.004, 0.45)
    elif spec.kind == "central_line":
        start = (x0 - 0.03, y0 - 0.06) if scene.rng.random() < 0.5 else (lay.xm - 0.07, 0.0)
        pts = curve_points([start, (lay.xm - 0.08, y0 + 0.01), (lay.xm - 0.03, carina_y - 0.02), (lay.xm - 0.028, carina_y + 0.07)], 120)
        layer += draw_path(pts, s, 0.0035, 0.85)
    elif spec.kind == "picc":
        pts = curve_points([(0.0, y0 + 0.05), (x0 - 0.02, y0 - 0.03), (lay.xm - 0.09, y0 + 0.0), (lay.xm - 0.03, carina_y - 0.02),
                            (lay.xm - 0.028, carina_y + 0.06)], 160)
        layer += draw_path(pts, s, 0.003, 0.8)
    elif spec.kind == "pacemaker":
        gx, gy = lay.xm + 0.23, y0 + 0.06
        box = (np.abs(scene.X - gx) < 0.045) & (np.abs(scene.Y - gy) < 0.03)
        gen = np.asarray(box, np.float32)
        gen = ndimage.gaussian_filter(gen, s / 400)
        layer += 3.0 * gen
        layer -= 1.0 * ((np.abs(scene.X - gx - 0.012) < 0.018) & (np.abs(scene.Y - gy + 0.004) < 0.012)) * gen
        ra = (lay.xm - 0.03, lay.heart_equator - 0.06)
        rv = (lay.xm + 0.18 * lay.heart_width, lay.heart_equator + 0.03)
        for end in (ra, rv):
            pts = curve_points([(gx - 0.04, gy), (lay.xm + 0.02, y0 + 0.02), (lay.xm - 0.035, carina_y), end], 160)
            layer += draw_path(pts, s, 0.0035, 1.1)
    elif spec.kind == "sternotomy":
        for i in range(5):
            cy = y0 + 0.12 + i * 0.06
            ring = np.abs(np.sqrt(((scene.X - lay.xm) / 0.014) ** 2 + ((scene.Y - cy) / 0.008) ** 2) - 1) < 0.25
            layer += 1.2 * ndimage.gaussian_filter(ring.astype(np.float32), s / 700)
    elif spec.kind == "stent":  # coronary stents: short dense mesh tubes over the heart
        for _ in range(int(scene.rng.integers(1, 3))):
            cx = lay.xm + scene.rng.uniform(0.0, 0.4) * lay.heart_width
            cy = lay.heart_equator + scene.rng.uniform(-0.08, 0.0)
            a = scene.rng.uniform(0.6, 1.4)
            length = scene.cm(2.0)
            pts = np.array([[cx, cy], [cx + length * np.cos(a), cy + length * np.sin(a)]])
            layer += draw_path(pts, s, scene.cm(0.3), 0.9)
    _add_metal(scene, layer, _strength(spec))
    return _record(spec, layer > 0.2)


DRAWERS = {
    "effusion": draw_effusion, "pneumothorax": draw_pneumothorax, "pleural_thickening": draw_pleural_thickening,
    "consolidation": draw_consolidation, "pneumonia": draw_consolidation, "opacity": draw_consolidation,
    "edema": draw_edema, "atelectasis": draw_atelectasis, "nodule": draw_lesion, "mass": draw_lesion,
    "granuloma": draw_lesion, "fracture": draw_rib_fracture,
    "ett": draw_device, "ng": draw_device, "central_line": draw_device, "picc": draw_device,
    "pacemaker": draw_device, "sternotomy": draw_device, "stent": draw_device,
}

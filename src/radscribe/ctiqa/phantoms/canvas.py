"""The painter's canvas every phantom is drawn on: HU image + label map, in patient millimetres.

Anatomy is painted back to front (body, then organs, then vessels and lesions). Each paint
call writes one (organ, tissue) label, so region masks come for free at the end, and only
touches the bounding window of its shape, which keeps a 512 x 512 phantom fast to draw.
A small rotation and shift of the whole patient is folded into the coordinate transform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from scipy import ndimage

from radscribe.ctiqa.phantoms.shapes import Ellipse
from radscribe.ctiqa.phantoms.tissues import tissue

OUTSIDE = ("outside", "air")
NOT_PATIENT = {"outside", "table"}  # organs that are not inside the body mask

Value = float | Callable[[np.ndarray, np.ndarray], np.ndarray] | None


class Canvas:
    """A square HU image of ``size`` pixels of ``spacing_mm``, centred on the patient frame origin."""

    def __init__(
        self,
        size: int,
        spacing_mm: float,
        rng: np.random.Generator,
        *,
        phase: str = "native",
        angle_deg: float = 0.0,
        shift_mm: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.n, self.spacing, self.rng, self.phase = size, float(spacing_mm), rng, phase
        self.hu = np.full((size, size), -1000.0, np.float32)
        self.label = np.zeros((size, size), np.uint16)
        self.keys: list[tuple[str, str]] = [OUTSIDE]
        self._ids: dict[tuple[str, str], int] = {OUTSIDE: 0}
        self.values: dict[str, float] = {}
        self._allowed_cache: dict[tuple, np.ndarray] = {}
        self._cos, self._sin = float(np.cos(np.radians(angle_deg))), float(np.sin(np.radians(angle_deg)))
        self._shift = (float(shift_mm[0]), float(shift_mm[1]))
        self._c0 = (size - 1) / 2.0
        axis = (np.arange(size, dtype=np.float32) - np.float32(self._c0)) * np.float32(self.spacing)
        self._xs, self._ys = axis - np.float32(self._shift[0]), axis - np.float32(self._shift[1])

    # ---- coordinates -------------------------------------------------------------------
    def to_pixel(self, x: float, y: float) -> tuple[float, float]:
        """Patient-frame mm to (row, col) pixel coordinates."""
        xi = self._cos * x - self._sin * y + self._shift[0]
        yi = self._sin * x + self._cos * y + self._shift[1]
        return yi / self.spacing + self._c0, xi / self.spacing + self._c0

    def window(self, bound: tuple[float, float, float]) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray] | None:
        """The pixel window covering a bounding circle, with patient-frame coordinates of its pixels."""
        cx, cy, r = bound
        row, col = self.to_pixel(cx, cy)
        half = r / self.spacing + 1
        r0, r1 = max(int(row - half), 0), min(int(row + half) + 2, self.n)
        c0, c1 = max(int(col - half), 0), min(int(col + half) + 2, self.n)
        if r0 >= r1 or c0 >= c1:
            return None
        xi, yi = self._xs[None, c0:c1], self._ys[r0:r1, None]
        c, s = np.float32(self._cos), np.float32(self._sin)
        return (slice(r0, r1), slice(c0, c1)), c * xi + s * yi, c * yi - s * xi

    def organ_at(self, x: float, y: float) -> str:
        row, col = self.to_pixel(x, y)
        r, c = int(round(row)), int(round(col))
        if not (0 <= r < self.n and 0 <= c < self.n):
            return "outside"
        return self.keys[int(self.label[r, c])][0]

    # ---- painting ----------------------------------------------------------------------
    def hu_of(self, tissue_name: str) -> float:
        """This patient's value for a tissue: drawn once from its literature range for the phase."""
        if tissue_name not in self.values:
            lo, hi = tissue(tissue_name).hu_range(self.phase)
            self.values[tissue_name] = float(self.rng.uniform(lo, hi))
        return self.values[tissue_name]

    def label_id(self, organ: str, tissue_name: str) -> int:
        """The label number of an (organ, tissue) pair, created if new."""
        return self._id(organ, tissue_name)

    def _id(self, organ: str, tissue_name: str) -> int:
        key = (organ, tissue_name)
        if key not in self._ids:
            tissue(tissue_name)  # validate the name early
            self._ids[key] = len(self.keys)
            self.keys.append(key)
        return self._ids[key]

    def _allowed(self, only: Iterable[str]) -> np.ndarray:
        """Which labels (by organ or tissue name) may be painted over; cached per label count."""
        key = (tuple(only), len(self.keys))
        lut = self._allowed_cache.get(key)
        if lut is None:
            names = set(key[0])
            lut = np.array([o in names or t in names for o, t in self.keys], dtype=bool)
            self._allowed_cache[key] = lut
        return lut

    def paint(
        self,
        organ: str,
        tissue_name: str,
        shape: Any,
        *,
        value: Value = None,
        offset: float = 0.0,
        clip: Iterable[Any] = (),
        exclude: Iterable[Any] = (),
        only: Iterable[str] | None = None,
        alpha: bool = False,
    ) -> int:
        """Paint ``shape`` (intersected with ``clip``, minus ``exclude``, only over ``only`` labels).

        ``value`` defaults to this patient's value of the tissue (+ ``offset``); a callable gets
        patient-frame (x, y) and returns HU. With ``alpha`` the shape's fractional coverage is
        blended in (thin vessels). Returns the number of pixels labelled.
        """
        win = self.window(shape.bound())
        if win is None:
            return 0
        sl, x, y = win
        cover = shape.alpha(x, y, self.spacing) if alpha else None
        keep = cover > 0 if cover is not None else shape.mask(x, y)
        for c in clip:
            keep &= c.mask(x, y)
        for e in exclude:
            keep &= ~e.mask(x, y)
        if only is not None:
            keep &= np.take(self._allowed(only), self.label[sl])
        if value is None:
            v: Any = np.float32(self.hu_of(tissue_name) + offset)
        elif callable(value):
            v = value(x, y)[keep]
        else:
            v = np.float32(value)
        hu, lab = self.hu[sl], self.label[sl]
        if cover is not None:
            cover = cover[keep]
            hu[keep] += cover * (v - hu[keep])
            labelled = keep.copy()
            labelled[keep] = cover >= 0.5
        else:
            hu[keep] = v
            labelled = keep
        lab[labelled] = self._id(organ, tissue_name)
        return int(np.count_nonzero(labelled))

    def paint_layers(self, layers: list[tuple[str, str, Ellipse]]) -> None:
        """Nested outlines sharing one centre and angle (skin, fat, muscle...), painted outside-in.

        Shares the coordinate and harmonic work between layers: the trunk outlines cover
        most of the image, so this is where a phantom spends its time otherwise.
        """
        outer = layers[0][2]
        win = self.window(outer.bound())
        if win is None:
            return
        sl, x, y = win
        u, v = outer.local(x, y)
        neg = v < 0
        # Polar angle from the outermost outline's normalisation, reused by the inner ones.
        un, vn = u / np.float32(outer.a), v / np.float32(outer.b)
        inv = 1.0 / np.maximum(np.sqrt(un * un + vn * vn), np.float32(1e-6))
        c1, s1 = un * inv, vn * inv
        kmax = max([k for _, _, e in layers for k, _, _ in e.wobble] + [4 if any(e.square for *_, e in layers) else 1])
        harmonics = {1: (c1, s1)}
        for k in range(2, kmax + 1):
            ck, sk = harmonics[k - 1]
            harmonics[k] = (ck * c1 - sk * s1, sk * c1 + ck * s1)
        # Layers are nested, so the innermost layer containing a pixel is the count of layers containing it.
        depth = np.zeros(u.shape, np.uint8)
        for _, _, e in layers:
            bb = np.where(neg, np.float32(1.0 / e.b), np.float32(1.0 / (e.b_post or e.b)))
            uu, vv = u * np.float32(1.0 / e.a), v * bb
            edge = np.ones_like(uu)
            for k, amp, ph in e.wobble:
                ck, sk = harmonics[k]
                edge += np.float32(amp * np.cos(ph)) * ck - np.float32(amp * np.sin(ph)) * sk
            if e.square:
                edge -= np.float32(e.square) * harmonics[4][0]
            depth += uu * uu + vv * vv <= edge * edge
        ids = np.array([0] + [self._id(o, t) for o, t, _ in layers], np.uint16)
        values = np.array([0.0] + [self.hu_of(t) for _, t, _ in layers], np.float32)
        inside = depth > 0
        self.hu[sl] = np.where(inside, np.take(values, depth), self.hu[sl])
        self.label[sl] = np.where(inside, np.take(ids, depth), self.label[sl])

    def paint_discs(
        self,
        organ: str,
        tissue_name: str,
        centres_mm: np.ndarray,
        radii_mm: np.ndarray,
        *,
        stretch: np.ndarray | None = None,
        angles_deg: np.ndarray | None = None,
        only: Iterable[str] | None = None,
    ) -> int:
        """Many small anti-aliased discs (or ellipses ``stretch`` x longer) in one vectorised pass.

        For the hundreds of vessels a slice cuts across; painting them one by one would cost
        more than the rest of the phantom. Returns the number of pixels labelled.
        """
        k = len(radii_mm)
        if k == 0:
            return 0
        rows, cols = np.array([self.to_pixel(float(x), float(y)) for x, y in centres_mm], np.float32).T
        r_px = np.asarray(radii_mm, np.float32) / np.float32(self.spacing)
        stretch = np.ones(k, np.float32) if stretch is None else np.asarray(stretch, np.float32)
        half = int(np.ceil(float((r_px * stretch).max()))) + 1
        off = np.arange(-half, half + 1, dtype=np.int64)
        rr = np.rint(rows).astype(np.int64)[:, None, None] + off[None, :, None]
        cc = np.rint(cols).astype(np.int64)[:, None, None] + off[None, None, :]
        dy, dx = (rr - rows[:, None, None]).astype(np.float32), (cc - cols[:, None, None]).astype(np.float32)
        if angles_deg is not None:  # distance in each ellipse's own frame, long axis shrunk by its stretch
            t = np.radians(np.asarray(angles_deg, np.float32))[:, None, None]
            along, across = dx * np.cos(t) + dy * np.sin(t), -dx * np.sin(t) + dy * np.cos(t)
            dist = np.sqrt((along / stretch[:, None, None]) ** 2 + across**2)
        else:
            dist = np.sqrt(dx * dx + dy * dy)
        alpha = np.clip(0.5 + r_px[:, None, None] - dist, 0.0, 1.0)
        ok = (alpha > 0) & (rr >= 0) & (rr < self.n) & (cc >= 0) & (cc < self.n)
        flat, alpha = (rr * self.n + cc)[ok], alpha[ok]
        cover = np.zeros(self.n * self.n, np.float32)
        np.maximum.at(cover, flat, alpha)  # overlapping discs: the larger coverage wins
        idx = np.flatnonzero(cover)
        if only is not None:
            idx = idx[np.take(self._allowed(only), self.label.ravel()[idx])]
        a = cover[idx]
        hu, lab = self.hu.ravel(), self.label.ravel()
        hu[idx] += a * (np.float32(self.hu_of(tissue_name)) - hu[idx])
        done = idx[a >= 0.5]
        lab[done] = self._id(organ, tissue_name)
        return int(done.size)

    def paint_mask(
        self, organ: str, tissue_name: str, sl: tuple[slice, slice], mask: np.ndarray, value: float | np.ndarray | None = None
    ) -> None:
        """Paint an explicit boolean mask over the pixel window ``sl`` (``value``: scalar or one per True pixel)."""
        self.hu[sl][mask] = self.hu_of(tissue_name) if value is None else value
        self.label[sl][mask] = self._id(organ, tissue_name)

    def image_rows(self, y0_mm: float, y1_mm: float) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray] | None:
        """Image-frame (not patient-frame) mm coordinates of the rows between y0 and y1: for the couch."""
        r0 = max(int(y0_mm / self.spacing + self._c0), 0)
        r1 = min(int(y1_mm / self.spacing + self._c0) + 2, self.n)
        if r0 >= r1:
            return None
        xi = (np.arange(self.n, dtype=np.float32) - self._c0) * self.spacing
        yi = (np.arange(r0, r1, dtype=np.float32) - self._c0) * self.spacing
        return (slice(r0, r1), slice(0, self.n)), xi[None, :], yi[:, None]

    # ---- finishing -----------------------------------------------------------------------
    def finish(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Add per-tissue correlated texture, a slight partial-volume blur; build masks."""
        fine_sd = np.array([tissue(t).fine_sd for _, t in self.keys], np.float32)
        coarse_sd = np.array([tissue(t).coarse_sd for _, t in self.keys], np.float32)
        fine, coarse = self._noise_fields()
        hu = self.hu + fine * np.take(fine_sd, self.label) + coarse * np.take(coarse_sd, self.label)
        # Partial-volume smoothing (~0.7 pixel): sharp analytic edges look drawn, not scanned.
        hu = _smooth121(hu)
        hu = np.maximum(hu, -1000.0, out=hu)
        outside = np.array([o in NOT_PATIENT for o, _ in self.keys], bool)
        body = ~outside[self.label]
        return hu.astype(np.float32), body, self._regions()

    def _noise_fields(self) -> tuple[np.ndarray, np.ndarray]:
        n, rng = self.n, self.rng
        # Grain of about a pixel: uniform white noise smoothed twice by [1 2 1]/4 ([1 4 6 4 1]/16,
        # sigma 1 px) is close to Gaussian and several times cheaper than normal draws + gaussian_filter.
        fine = _smooth121(_smooth121(rng.random((n, n), dtype=np.float32) - np.float32(0.5)))
        fine *= np.float32(1.0 / np.sqrt(1.0 / 12.0 * (70.0 / 256.0) ** 2))  # unit SD away from the edges
        m = max(4, int(round(n * self.spacing / 12.0)))  # one coarse node per ~12 mm
        low = ndimage.gaussian_filter(rng.standard_normal((m, m), dtype=np.float32), 1.0, mode="wrap")
        # Linear interpolation as two small matrix products: much cheaper than ndimage.zoom.
        w = _interp_matrix(n, m)
        coarse = w @ low @ w.T
        coarse /= np.float32(max(float(coarse.std()), 1e-6))
        return fine, coarse

    def _regions(self) -> dict[str, np.ndarray]:
        members: dict[str, list[int]] = {}
        for i, (organ, tissue_name) in enumerate(self.keys):
            if organ == "outside":
                continue
            members.setdefault(organ, []).append(i)
            group = tissue(tissue_name).group
            if group and group != organ:
                members.setdefault(group, []).append(i)
        regions: dict[str, np.ndarray] = {}
        for name, ids in members.items():
            mask = self.label == ids[0]
            for i in ids[1:]:  # equality tests are ~50x cheaper than a lookup table on uint16 labels
                mask |= self.label == i
            if mask.any():
                regions[name] = mask
        return regions


def _smooth121(a: np.ndarray) -> np.ndarray:
    """Separable [1, 2, 1] / 4 smoothing along both axes (edges keep their values)."""
    out = a.copy()
    out[:, 1:-1] = (a[:, :-2] + a[:, 2:]) * np.float32(0.25) + a[:, 1:-1] * np.float32(0.5)
    b = out.copy()
    b[1:-1, :] = (out[:-2, :] + out[2:, :]) * np.float32(0.25) + out[1:-1, :] * np.float32(0.5)
    return b


def _interp_matrix(n: int, m: int) -> np.ndarray:
    """(n, m) weights of linear interpolation from m nodes spread over n pixels."""
    pos = np.linspace(0, m - 1, n)
    lo = np.minimum(np.floor(pos).astype(int), m - 2)
    frac = (pos - lo).astype(np.float32)
    w = np.zeros((n, m), np.float32)
    w[np.arange(n), lo] = 1 - frac
    w[np.arange(n), lo + 1] = frac
    return w


def patient_canvas(
    rng: np.random.Generator, size: int, fov_mm: float, *, phase: str = "native", centre_mm: tuple[float, float] = (0.0, 0.0)
) -> Canvas:
    """A canvas with the patient rotated by a few degrees and off-centre by a few millimetres.

    ``centre_mm`` is where the patient-frame origin lands relative to the image centre
    (e.g. a trunk sits a little above centre so the couch fits underneath).
    """
    angle = float(rng.normal(0.0, 2.0))
    angle = float(np.clip(angle, -5.0, 5.0))
    jitter = rng.normal(0.0, 0.015 * fov_mm, 2)
    shift = (centre_mm[0] + float(jitter[0]), centre_mm[1] + float(jitter[1]))
    return Canvas(size, fov_mm / size, rng, phase=phase, angle_deg=angle, shift_mm=shift)

"""One dataset slice end to end: phantom -> sampled acquisition -> simulate -> annotate -> describe.

The annotation protocol (``radscribe.ctiqa.annotate``), the acquisition sampler
(``radscribe.ctiqa.sample_params``) and the caption writer (``radscribe.ctiqa.text.describe``)
are owned by the protocol module; this file only strings them together, so the dataset and
any other caller use the very same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np

from radscribe.ctiqa.phantoms import Phantom, make_phantom
from radscribe.ctiqa.physics import SimResult, simulate


@dataclass
class SliceResult:
    sim: SimResult
    annotation: Any  # radscribe.ctiqa.Annotation
    caption: str


@lru_cache(maxsize=2)
def cached_phantom(anatomy: str, seed: int, size: int, arms_down: bool = False) -> Phantom:
    """Consecutive slices of one patient reuse its phantom (several degradations per patient)."""
    return make_phantom(anatomy, seed, size, arms_down=arms_down)


def run_slice(phantom: Phantom, seed: int, params=None, soft_kernel: float = 0.0,
              kinds: tuple[str, ...] = ()) -> SliceResult:
    """Sample an acquisition for ``phantom`` (unless ``params`` is given), scan, annotate and caption it."""
    annotate_simulation, sample_params, describe = _protocol()

    rng = np.random.default_rng(seed)
    if params is None:
        params = sample_params(rng, phantom, soft_kernel=soft_kernel, kinds=kinds)
    sim = simulate(phantom.hu, phantom.pixel_spacing_mm, params, body_mask=phantom.body_mask)
    annotation = annotate_simulation(sim, phantom)  # annotate() with the simulator's exact noise/artefact split
    caption = describe(annotation, anatomy=phantom.anatomy, seed=seed)
    return SliceResult(sim, annotation, caption)


def crop_phantom(full: Phantom, size: int) -> tuple[Phantom, int]:
    """The central ``size`` x ``size`` field of ``full`` (masks, implant sites and lesions inside it) and its offset."""
    n = full.hu.shape[0]
    offset = (n - size) // 2
    window = np.s_[offset:offset + size, offset:offset + size]

    def inside(rc) -> bool:
        return offset <= rc[0] < offset + size and offset <= rc[1] < offset + size

    def shift(rc) -> tuple[float, float]:
        return (float(rc[0]) - offset, float(rc[1]) - offset)

    field = replace(
        full, hu=full.hu[window].copy(), body_mask=full.body_mask[window].copy(),
        regions={name: mask[window].copy() for name, mask in full.regions.items()},
        metal_sites={name: shift(rc) for name, rc in full.metal_sites.items() if inside(rc)},
        lesions=[{**lesion, "center_rc": shift(lesion["center_rc"])} for lesion in full.lesions
                 if "center_rc" in lesion and inside(lesion["center_rc"])],
        info={**full.info, "targeted_fov_mm": round(size * full.pixel_spacing_mm, 1), "full_fov_mm": round(full.fov_mm, 1)})
    return field, offset


def widen_phantom(phantom: Phantom, factor: float) -> Phantom:
    """The same patient reconstructed on a ``factor`` times wider field (factor > 1), same matrix size.

    A scanner's display field is the technologist's choice (a 250 mm head holder, a 500 mm field for a
    small patient), so the body fills less of the image than our phantoms' snug fields. The truth map
    is padded with air and resampled to the matrix exactly as a real slice is (``_regrid``).
    """
    n = phantom.hu.shape[0]
    pad = int(round(n * (factor - 1.0) / 2.0))
    wide = _regrid(phantom, pad, n / (n + 2 * pad))
    return replace(wide, info={**phantom.info, "wide_fov_mm": round(wide.fov_mm, 1),
                               "snug_fov_mm": round(phantom.fov_mm, 1)})


def refine_phantom(phantom: Phantom, fraction: float) -> Phantom:
    """The same patient on a grid ``fraction`` (< 1) times as fine, same field: a real slice's targeted field.

    A drawn phantom is drawn on any grid; a real slice exists only on its own, so it is resampled
    (``_regrid``). Detail finer than the source scan cannot come back, but a standard kernel resolves
    about 0.7 mm (10% MTF), coarser than both grids.
    """
    n = phantom.hu.shape[0]
    return _regrid(phantom, 0, int(round(n / fraction)) / n)


def _regrid(phantom: Phantom, pad: int, zoom: float) -> Phantom:
    """Pad ``phantom`` with ``pad`` pixels of air a side, then resample by ``zoom``: HU linear (as
    ``phantoms.real.slice_to_phantom``), masks nearest neighbour, implant and lesion centres moved."""
    from scipy import ndimage

    n = phantom.hu.shape[0]
    m = n + 2 * pad

    def grid(a: np.ndarray, fill, order: int) -> np.ndarray:
        if a.dtype == bool:
            return grid(a.astype(np.uint8), 0, 0) > 0
        out = np.full((m, m), fill, a.dtype)
        out[pad:pad + n, pad:pad + n] = a
        return ndimage.zoom(out, zoom, order=order, mode="nearest", grid_mode=True)

    def move(rc) -> tuple[float, float]:
        return (round((float(rc[0]) + pad + 0.5) * zoom - 0.5, 2), round((float(rc[1]) + pad + 0.5) * zoom - 0.5, 2))

    hu = grid(phantom.hu, np.float32(-1000.0), 1)
    return replace(
        phantom, hu=hu, pixel_spacing_mm=phantom.pixel_spacing_mm * m / hu.shape[0],
        body_mask=grid(phantom.body_mask, False, 0),
        regions={name: grid(mask, False, 0) for name, mask in phantom.regions.items()},
        metal_sites={name: move(rc) for name, rc in phantom.metal_sites.items()},
        lesions=[{**lesion, "center_rc": move(lesion["center_rc"])} if "center_rc" in lesion else lesion
                 for lesion in phantom.lesions])


def run_targeted_slice(full: Phantom, size: int, seed: int, soft_kernel: float = 0.0,
                       kinds: tuple[str, ...] = ()) -> tuple[SliceResult, Phantom]:
    """A targeted reconstruction: the whole patient is scanned (``full``, on a fine grid) and the central
    ``size`` pixels are kept, as a scanner reconstructs a smaller field of view from complete projections.

    The acquisition is sampled for the visible field (implants only where they show); the annotation
    and caption describe that field. Returns the result and the field's phantom.
    """
    annotate_simulation, sample_params, describe = _protocol()
    field, offset = crop_phantom(full, size)
    params = sample_params(np.random.default_rng(seed), field, soft_kernel=soft_kernel, kinds=kinds)
    scan = replace(params, metal=[replace(m, center_rc=(m.center_rc[0] + offset, m.center_rc[1] + offset))
                                  for m in params.metal])
    sim = simulate(full.hu, full.pixel_spacing_mm, scan, body_mask=full.body_mask)
    n, window = full.hu.shape[0], np.s_[offset:offset + size, offset:offset + size]
    info = {k: (v[window].copy() if isinstance(v, np.ndarray) and v.shape == (n, n) else v) for k, v in sim.info.items()}
    sim = SimResult(sim.reference_hu[window].copy(), sim.degraded_hu[window].copy(), params, info)
    annotation = annotate_simulation(sim, field)
    return SliceResult(sim, annotation, describe(annotation, anatomy=field.anatomy, seed=seed)), field


def _protocol():
    """The protocol's functions, imported late so `import radscribe.ctiqa.dataset` stays light."""
    from radscribe.ctiqa import annotate_simulation, sample_params
    from radscribe.ctiqa.text import describe

    return annotate_simulation, sample_params, describe

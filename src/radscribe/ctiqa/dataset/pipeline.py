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
def cached_phantom(anatomy: str, seed: int, size: int) -> Phantom:
    """Consecutive slices of one patient reuse its phantom (several degradations per patient)."""
    return make_phantom(anatomy, seed, size)


def run_slice(phantom: Phantom, seed: int, params=None) -> SliceResult:
    """Sample an acquisition for ``phantom`` (unless ``params`` is given), scan, annotate and caption it."""
    annotate_simulation, sample_params, describe = _protocol()

    rng = np.random.default_rng(seed)
    if params is None:
        params = sample_params(rng, phantom)
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


def run_targeted_slice(full: Phantom, size: int, seed: int) -> tuple[SliceResult, Phantom]:
    """A targeted reconstruction: the whole patient is scanned (``full``, on a fine grid) and the central
    ``size`` pixels are kept, as a scanner reconstructs a smaller field of view from complete projections.

    The acquisition is sampled for the visible field (implants only where they show); the annotation
    and caption describe that field. Returns the result and the field's phantom.
    """
    annotate_simulation, sample_params, describe = _protocol()
    field, offset = crop_phantom(full, size)
    params = sample_params(np.random.default_rng(seed), field)
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

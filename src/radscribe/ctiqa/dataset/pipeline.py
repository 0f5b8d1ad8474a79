"""One dataset slice end to end: phantom -> sampled acquisition -> simulate -> annotate -> describe.

The annotation protocol (``radscribe.ctiqa.annotate``), the acquisition sampler
(``radscribe.ctiqa.sample_params``) and the caption writer (``radscribe.ctiqa.text.describe``)
are owned by the protocol module; this file only strings them together, so the dataset and
any other caller use the very same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def _protocol():
    """The protocol's functions, imported late so `import radscribe.ctiqa.dataset` stays light."""
    from radscribe.ctiqa import annotate_simulation, sample_params
    from radscribe.ctiqa.text import describe

    return annotate_simulation, sample_params, describe

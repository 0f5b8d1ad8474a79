"""Shared 256-px phantoms and a simulate+annotate helper (small so the area stays under 60 s)."""

from __future__ import annotations

import pytest
import torch

from radscribe.ctiqa.annotation import annotate_simulation
from radscribe.ctiqa.phantoms import make_phantom
from radscribe.ctiqa.physics import AcquisitionParams, simulate


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def abdomen():
    return make_phantom("abdomen", 3, size=256)


@pytest.fixture(scope="session")
def pelvis():
    return make_phantom("pelvis", 5, size=256)


@pytest.fixture(scope="session")
def run():
    """run(phantom, **params) -> Annotation of one simulated scan (seed fixed)."""

    def _run(phantom, **params):
        params.setdefault("seed", 11)
        sim = simulate(phantom.hu, phantom.pixel_spacing_mm, AcquisitionParams(**params), body_mask=phantom.body_mask)
        return annotate_simulation(sim, phantom)

    return _run

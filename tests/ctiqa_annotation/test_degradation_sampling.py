"""sample_params(): deterministic, valid, covers every degradation kind, metal only at the phantom's sites."""

from __future__ import annotations

import numpy as np
import pytest

from radscribe.ctiqa import sample_params
from radscribe.ctiqa.phantoms import METAL_SITE_INFO, make_phantom
from radscribe.ctiqa.physics import FULL_VIEWS, AcquisitionParams
from radscribe.ctiqa.sampling import MIXTURE


def test_same_rng_state_same_params(abdomen):
    a = [sample_params(np.random.default_rng(9), abdomen).to_dict() for _ in range(2)]
    assert a[0] == a[1]
    b = sample_params(np.random.default_rng(10), abdomen).to_dict()
    assert b != a[0]


def test_draws_are_valid_and_cover_every_kind(abdomen):
    rng = np.random.default_rng(0)
    draws = [sample_params(rng, abdomen) for _ in range(400)]
    for p in draws:
        AcquisitionParams.from_dict(p.to_dict())  # validates and round-trips
        assert all(m.site in abdomen.metal_sites for m in p.metal)
        for m in p.metal:
            nominal = METAL_SITE_INFO[m.site]
            assert m.material == nominal["material"] and 0.5 <= m.radius_mm / nominal["radius_mm"] <= 1.5
    size = abdomen.hu.shape[0]
    seen = {
        "clean": sum(p == AcquisitionParams(dose_fraction=p.dose_fraction, seed=p.seed) and p.dose_fraction >= 0.6
                     for p in draws),
        "low_dose": sum(p.dose_fraction < 0.4 for p in draws),
        "sparse_view": sum(p.n_views < FULL_VIEWS * size // 512 for p in draws),
        "limited_angle": sum(p.angular_range_deg < 360 for p in draws),
        "metal": sum(bool(p.metal) for p in draws),
        "motion": sum(p.motion_mm > 0 for p in draws),
        "ring": sum(p.ring_gain_sd > 0 for p in draws),
        "blur": sum(p.blur_fwhm_mm > 0 for p in draws),
        "combo": sum(sum([p.dose_fraction < 0.4, p.n_views < 1000, bool(p.metal), p.motion_mm > 0,
                          p.ring_gain_sd > 0, p.blur_fwhm_mm > 0]) >= 2 for p in draws),
    }
    for kind, count in seen.items():
        assert count >= 0.5 * MIXTURE[kind] / sum(MIXTURE.values()) * len(draws), (kind, count)


def test_views_scale_with_matrix_size():
    small, large = make_phantom("chest", 2, size=128), make_phantom("chest", 2, size=512)
    views_small = [sample_params(np.random.default_rng(s), small).n_views for s in range(300)]
    views_large = [sample_params(np.random.default_rng(s), large).n_views for s in range(300)]
    sparse_small = [v for v in views_small if v < 1000]
    sparse_large = [v for v in views_large if v < 1000]
    assert sparse_small and max(sparse_small) <= FULL_VIEWS * 128 / 512 * 0.4 + 1
    assert np.median(sparse_large) > 3 * np.median(sparse_small)


def test_kinds_keep_only_those_kinds_and_all_kinds_draw_as_before(abdomen):
    """``kinds`` (make-ctiqa --kinds) renormalises the mixture; naming every kind is the default draw exactly."""
    every = tuple(MIXTURE)
    for seed in range(40):
        assert (sample_params(np.random.default_rng(seed), abdomen, kinds=every)
                == sample_params(np.random.default_rng(seed), abdomen))
    rng = np.random.default_rng(1)
    draws = [sample_params(rng, abdomen, kinds=("motion", "blur")) for _ in range(200)]
    motion = [p for p in draws if p.motion_mm > 0]
    blur = [p for p in draws if p.blur_fwhm_mm > 0]
    assert len(motion) + len(blur) == len(draws) and min(len(motion), len(blur)) > 60
    assert not any(p.metal or p.ring_gain_sd > 0 or p.dose_fraction < 0.5 for p in draws)
    with pytest.raises(ValueError, match="unknown degradation kind wobble"):
        sample_params(rng, abdomen, kinds=("motion", "wobble"))

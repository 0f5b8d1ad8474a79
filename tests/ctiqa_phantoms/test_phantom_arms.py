"""Arms down at the sides: the same patient on a wider field, two arms beside the trunk, trunk anatomies only."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from radscribe.ctiqa.phantoms import make_phantom
from radscribe.ctiqa.phantoms.arms import MAX_FOV_MM
from radscribe.errors import ConfigError


@pytest.mark.parametrize("anatomy", ["abdomen", "chest"])
def test_arms_down_is_the_same_patient_on_a_wider_field(anatomy):
    plain, arms = make_phantom(anatomy, 5, 256), make_phantom(anatomy, 5, 256, arms_down=True)
    assert arms.info["arms_down"] is True and "arms_down" not in plain.info
    assert plain.fov_mm < arms.fov_mm <= MAX_FOV_MM
    # the trunk comes from the same random stream: the same body, to rasterisation on the coarser grid
    trunk = arms.body_mask & ~(arms.regions["arm"] | arms.regions["humerus"])
    width = [np.ptp(np.nonzero(mask)[1]) * p.pixel_spacing_mm for mask, p in ((plain.body_mask, plain), (trunk, arms))]
    assert width[1] == pytest.approx(width[0], rel=0.03)
    assert arms.anatomy_id == plain.anatomy_id  # one patient, for the by-patient splits


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_two_arms_lie_beside_the_trunk_inside_the_field(seed):
    ph = make_phantom("abdomen", seed, 256, arms_down=True)
    arms, n = ndimage.label(ph.regions["arm"] | ph.regions["humerus"])
    assert n == 2
    trunk_cols = np.nonzero(ph.body_mask & ~(arms > 0))[1]
    centres = [np.nonzero(arms == k)[1].mean() for k in (1, 2)]
    assert min(centres) < trunk_cols.min() + 5 and max(centres) > trunk_cols.max() - 5  # one on each side
    assert not (arms[0].any() or arms[-1].any() or arms[:, 0].any() or arms[:, -1].any())  # not cut by the field
    bone = ph.hu[ph.regions["humerus"]]
    assert bone.max() > 700 and (bone < 0).any()  # a cortical tube around fatty marrow
    assert ph.body_mask[arms > 0].all()


def test_arms_down_is_for_the_trunk_only():
    with pytest.raises(ConfigError, match="arms down"):
        make_phantom("head", 1, 128, arms_down=True)

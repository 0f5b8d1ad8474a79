"""Real lung shapes from torchxrayvision's wheel data (read with zipfile, never imported)."""

import numpy as np

from radscribe.cxr.dataset import split_for
from radscribe.cxr.render.lungmasks import WORK_SIZE, load_lung_mask, mask_names


def test_masks_are_two_lungs_on_their_own_sides():
    names = mask_names()
    assert len(names) > 500
    usable = [m for m in (load_lung_mask(n) for n in names[:40]) if m is not None]
    assert len(usable) >= 20
    for mask in usable:
        assert mask.right.shape == (WORK_SIZE, WORK_SIZE)
        assert np.nonzero(mask.right)[1].mean() < WORK_SIZE / 2 < np.nonzero(mask.left)[1].mean()
        assert not (mask.right & mask.left).any()


def test_split_is_stable_and_about_80_10_10():
    ids = [f"CXR{i}" for i in range(1, 4000)]
    splits = [split_for(i) for i in ids]
    assert splits == [split_for(i) for i in ids]
    share = {s: splits.count(s) / len(ids) for s in ("train", "val", "test")}
    assert 0.77 < share["train"] < 0.83 and 0.08 < share["val"] < 0.12 and 0.08 < share["test"] < 0.12

"""The captioner's and baselines' training augmentation: label-preserving views of a slice."""

from __future__ import annotations

import numpy as np
import torch

from radscribe.iqagpt.preprocess import AIR_HU, preprocess_uint8, to_model_input
from radscribe.iqagpt.train import TrainConfig, augment, mirror_ok


def _slice() -> torch.Tensor:
    """An asymmetric body (an L of soft tissue) in air, as the model sees it (both windows)."""
    hu = np.full((256, 256), AIR_HU, np.float32)
    hu[60:200, 70:110] = 40.0
    hu[160:200, 70:190] = 40.0
    return to_model_input(preprocess_uint8(hu)[None])


def test_views_are_the_eight_turns_and_flips_and_the_shift_fills_with_air():
    image = _slice().expand(64, -1, -1, -1).contiguous()
    cfg = TrainConfig(shift_px=0, transposes=True)
    views = augment(image, cfg, torch.Generator().manual_seed(0))
    turns = [torch.rot90(image[0], k, (-2, -1)) for k in range(4)]
    group = turns + [t.flip(-1) for t in turns]
    seen = {next(i for i, g in enumerate(group) if torch.equal(v, g)) for v in views}  # each view is one of the 8
    assert seen == set(range(8))

    no_turns = augment(image, TrainConfig(shift_px=0, transposes=False), torch.Generator().manual_seed(0))
    assert {next(i for i, g in enumerate(group) if torch.equal(v, g)) for v in no_turns} == {0, 2, 4, 6}

    shifted = augment(image[:8], TrainConfig(shift_px=8, flips=False), torch.Generator().manual_seed(1))
    air = image[0, :, 0, 0]  # what padding air is in each window (the wide window's air is not 0)
    assert air[1] > 0.1
    for view in shifted:  # borders uncovered by the shift hold air, never black in the wide window
        assert torch.equal(view[:, 0, 0], air) and torch.equal(view[:, -1, -1], air)


def test_a_side_naming_caption_is_never_mirrored_or_turned():
    image = _slice().expand(32, -1, -1, -1).contiguous()
    keep = mirror_ok(["Metal artefact around the left hip prosthesis."] * 32)
    views = augment(image, TrainConfig(shift_px=0, transposes=True), torch.Generator().manual_seed(0), keep)
    for view in views:  # only the up-down flip is allowed
        assert torch.equal(view, image[0]) or torch.equal(view, image[0].flip(-2))


def test_benchmark_baselines_are_augmented_as_the_captioner_was():
    from radscribe.iqagpt.baselines.train import BaselineConfig
    from radscribe.iqagpt.benchmark import same_augmentation

    turned = same_augmentation(BaselineConfig(), {"shift_px": 4, "flips": True, "transposes": True, "lr": 1.0})
    assert (turned.shift_px, turned.flips, turned.transposes, turned.lr) == (4, True, True, BaselineConfig().lr)
    older = same_augmentation(BaselineConfig(transposes=True), {"shift_px": 8, "flips": True})  # before transposes
    assert older.transposes is False
    ringed = same_augmentation(BaselineConfig(), {"shift_px": 8, "flips": True, "ring_channel": True})
    assert ringed.ring_channel is True and older.ring_channel is False  # fed as the captioner was, too
    assert same_augmentation(BaselineConfig(transposes=True), {}) == BaselineConfig(transposes=True)
    manifest = {"shift_px": 8, "flips": True, "epochs": 16}
    assert same_augmentation(BaselineConfig(epochs=20), manifest).epochs == 20  # an explicit --baseline-epochs stays
    assert same_augmentation(BaselineConfig(epochs=20), manifest, epochs=True).epochs == 16  # default: as long

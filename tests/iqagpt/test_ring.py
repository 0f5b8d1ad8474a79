"""The fixed ring map: a faint ring invisible per pixel stands out; no ring, no signal; it moves with the image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from radscribe.ctiqa.phantoms import make_phantom
from radscribe.iqagpt.models.encoder import CNNEncoder, EncoderConfig
from radscribe.iqagpt.models.ring import NEUTRAL, ring_map, with_ring
from radscribe.iqagpt.preprocess import preprocess_uint8, to_model_input
from radscribe.iqagpt.train import TrainConfig, augment


def _slice(ring_hu: float, radius: int = 60, noise_hu: float = 10.0) -> torch.Tensor:
    """A SYNTHETIC abdomen with quantum-like noise and, optionally, one thin ring about the centre."""
    hu = make_phantom("abdomen", 3, 256).hu.astype(np.float32)
    hu = hu + np.random.default_rng(0).normal(0.0, noise_hu, hu.shape).astype(np.float32)
    yy, xx = np.mgrid[:256, :256]
    r = np.hypot(yy - 127.5, xx - 127.5)
    hu[np.abs(r - radius) < 0.75] += ring_hu
    return to_model_input(preprocess_uint8(hu)[None])


def _radial_rms(m: np.ndarray) -> np.ndarray:
    yy, xx = np.mgrid[:256, :256]
    r = np.round(np.hypot(yy - 127.5, xx - 127.5)).astype(int)
    return np.array([np.sqrt((m[r == k] ** 2).mean()) if (r == k).any() else 0.0 for k in range(128)])


def test_a_faint_ring_under_noise_stands_out_at_its_radius_and_grows_with_it():
    plain = ring_map(_slice(0.0))
    assert float(((plain - NEUTRAL) ** 2).mean().sqrt()) < 0.05  # anatomy and noise alone leave little
    peaks = []
    for ring_hu in (2.0, 5.0, 12.0):  # mild, moderate, severe; 5 HU is under 4 grey levels of the window
        response = _radial_rms((ring_map(_slice(ring_hu)) - plain)[0, 0].numpy())
        assert int(np.argmax(response)) == 60
        assert (response[57:64] ** 2).sum() > 0.8 * (response ** 2).sum()  # the response sits at the ring
        peaks.append(response[60])
    assert peaks[0] < peaks[1] < peaks[2]


def test_the_map_is_added_once_and_moves_with_the_image_when_shifted():
    x = _slice(5.0)
    three = with_ring(x, True)
    assert three.shape[1] == 3 and torch.equal(with_ring(three, True), three) and with_ring(x, False) is x
    cfg = TrainConfig(shift_px=8, flips=False)
    shifted = augment(three, cfg, torch.Generator().manual_seed(1))
    moved = [(dy, dx) for dy in range(-8, 9) for dx in range(-8, 9)
             if torch.equal(shifted[0, 0, 20:-20, 20:-20], three[0, 0].roll((dy, dx), (0, 1))[20:-20, 20:-20])]
    assert len(moved) == 1
    dy, dx = moved[0]
    assert torch.equal(shifted[0, 2, 20:-20, 20:-20], three[0, 2].roll((dy, dx), (0, 1))[20:-20, 20:-20])
    border = shifted[0, 2][:abs(dy)] if dy > 0 else shifted[0, 2][dy:] if dy < 0 else None
    if border is not None:
        assert torch.all(border == NEUTRAL)  # shifted-in pixels carry no ring


def test_encoder_with_ring_channel_takes_raw_or_ringed_input_alike():
    torch.manual_seed(0)
    enc = CNNEncoder(EncoderConfig(widths=(8, 16), stem_stride=4, ring_channel=True)).eval()
    x = _slice(5.0)
    with torch.no_grad():
        raw, ringed = enc(x)[0], enc(with_ring(x, True))[0]
    assert raw.shape == (1, 32 * 32, 16)
    assert torch.allclose(raw, ringed)
    with pytest.raises(RuntimeError):
        CNNEncoder(EncoderConfig(widths=(8, 16), stem_stride=4))(with_ring(x, True))  # a 2-channel encoder refuses 3


def test_ring_maps_of_a_set_equal_the_maps_made_one_by_one():
    from radscribe.iqagpt.models.ring import ring_maps

    images = np.concatenate([preprocess_uint8(make_phantom(a, 1, 256).hu)[None] for a in ("head", "chest", "pelvis")])
    together = ring_maps(images, batch_size=2)
    alone = torch.cat([ring_map(to_model_input(images[i:i + 1])) for i in range(3)])
    assert together.shape == (3, 1, 256, 256) and torch.allclose(together, alone, atol=1e-6)


def test_captioner_and_baseline_train_and_assess_with_the_ring_channel(tiny_data, tmp_path):
    import json

    from typer.testing import CliRunner

    from radscribe.cli.main import app
    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.baselines.train import BASELINES, BaselineConfig, fit, predict
    from radscribe.iqagpt.data import load_splits
    from radscribe.io import read_image

    out = tmp_path / "ringed"
    result = CliRunner().invoke(app, ["train", "captioner", "--data", str(tiny_data), "--out", str(out), "--config",
                                      "tiny", "--epochs", "1", "--threads", "1", "--ring-channel"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["model"]["encoder"]["ring_channel"] is True
    record = json.loads((tiny_data / "annotations.jsonl").read_text().splitlines()[0])
    [row] = load_assessor(out).assess(read_image(tiny_data / record["image"]))  # the map is made inside
    assert row["caption"] and (row["score"] is None or 0.0 <= row["score"] <= 4.0)  # 1 tiny epoch may write no score
    cfg = BaselineConfig(epochs=1, widths=(8, 16, 16), stem_stride=4, ring_channel=True)
    model = BASELINES["multitask_classification"](EncoderConfig(widths=cfg.widths, stem_stride=4, ring_channel=True), None)
    train = load_splits(tiny_data, ["train"])
    fit(model, train, cfg)
    scores, _ = predict(model, train.images[:4])
    assert scores.shape == (4,) and np.isfinite(scores).all()


def test_the_high_pass_gaussian_is_scipys_with_nearest_borders():
    """The shifted-copies Gaussian (kept for speed) equals scipy's separable filter, edges included."""
    from scipy.ndimage import gaussian_filter

    from radscribe.iqagpt.models.ring import _gaussian

    x = torch.rand(2, 1, 40, 40, generator=torch.Generator().manual_seed(0))
    ours = _gaussian(x, 1.5).numpy()
    theirs = np.stack([gaussian_filter(x[i, 0].numpy().astype(np.float64), 1.5, mode="nearest", truncate=3.0)
                       for i in range(2)])[:, None]
    np.testing.assert_allclose(ours, theirs, atol=1e-6)

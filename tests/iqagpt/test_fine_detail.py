"""Fine-detail input channels (``WINDOW:hv`` / ``WINDOW:d``): what the 2 x 2 block mean of a 512 slice throws
away, kept as Haar magnitudes. They must see noise grain and lose it under blur, be zero where no finer
detail exists, commute with the training flips and turns, and reach every consumer like any window."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy import ndimage

from radscribe.errors import ConfigError
from radscribe.iqagpt.preprocess import AIR_HU, preprocess_uint8, resolve_windows

DETAIL = ("ldct", "lung", "ldct:hv", "ldct:d", "lung:hv", "lung:d")


def body(size: int = 512, noise: float = 20.0, seed: int = 0) -> np.ndarray:
    """Soft tissue with a bone insert in air, with white noise of ``noise`` HU."""
    rng = np.random.default_rng(seed)
    hu = np.full((size, size), AIR_HU, np.float32)
    lo, hi = size // 5, size - size // 5
    hu[lo:hi, lo:hi] = 40.0
    hu[size // 2:size // 2 + size // 8, lo + 20:lo + 20 + size // 8] = 900.0
    hu[lo:hi, lo:hi] += rng.normal(0.0, noise, (hi - lo, hi - lo)).astype(np.float32)
    return hu


def test_detail_sees_noise_grain_and_loses_it_under_blur_while_the_block_means_barely_change():
    sharp = body()
    blurred = sharp.copy()
    blurred[102:410, 102:410] = ndimage.gaussian_filter(sharp[102:410, 102:410], 1.0)  # 1.6 px FWHM extra
    a, b = preprocess_uint8(sharp, windows=DETAIL).astype(float), preprocess_uint8(blurred, windows=DETAIL).astype(float)
    tissue = np.s_[60:120, 60:200]  # homogeneous soft tissue in the 256 grid
    assert abs(a[0][tissue].mean() - b[0][tissue].mean()) < 1.0  # the ordinary channel: same mean grey
    assert a[2][tissue].mean() > 4 * b[2][tissue].mean() and a[3][tissue].mean() > 4 * b[3][tissue].mean()
    quieter = preprocess_uint8(body(noise=5.0), windows=DETAIL).astype(float)
    assert a[3][tissue].mean() > 2.5 * quieter[3][tissue].mean()  # the grain scales with the noise


def test_adding_detail_channels_leaves_the_ordinary_channels_byte_identical():
    hu = body()
    assert np.array_equal(preprocess_uint8(hu, windows=DETAIL)[:2], preprocess_uint8(hu, windows=("ldct", "lung")))
    assert np.array_equal(preprocess_uint8(hu, windows=("ldct:d",)), preprocess_uint8(hu, windows=DETAIL)[3:4])


def test_no_finer_detail_than_the_input_grid_means_zero_and_air_is_zero():
    assert not preprocess_uint8(body(size=256), windows=DETAIL)[2:].any()  # a 256 slice: nothing finer
    assert not preprocess_uint8(body(size=128), windows=DETAIL)[2:].any()
    assert not preprocess_uint8(np.full((512, 512), AIR_HU, np.float32), windows=DETAIL)[2:].any()
    assert preprocess_uint8(body(size=768), windows=DETAIL)[3].any()  # larger slices are brought to 512 first

    from radscribe.iqagpt.train import air_like

    air = air_like(torch.zeros(1, 7, 4, 4), DETAIL)[0, :, 0, 0]  # + the ring map's channel
    assert air[0] == 0.0 and air[1] > 0.1 and (air[2:6] == 0).all() and air[6] == 0.5


@pytest.mark.parametrize("turn", ["up-down", "left-right", "transpose"])
def test_detail_of_a_flipped_or_turned_slice_is_the_flipped_detail(turn):
    """Training flips and transposes the preprocessed channels; magnitudes make that the truth."""
    hu = body(noise=30.0)
    op = {"up-down": np.flipud, "left-right": np.fliplr, "transpose": np.transpose}[turn]
    direct = preprocess_uint8(np.ascontiguousarray(op(hu)), windows=DETAIL)
    turned = np.stack([op(c) for c in preprocess_uint8(hu, windows=DETAIL)])
    assert np.abs(direct.astype(int) - turned.astype(int)).max() <= 1  # float rounding at most


def test_detail_specs_resolve_to_values_and_a_bad_band_is_refused():
    assert resolve_windows(["ldct:hv", "W1500/L-600:D"]) == ("W350/L40:hv", "W1500/L-600:d")
    with pytest.raises(ConfigError, match="detail band"):
        resolve_windows(["ldct:sharp"])
    with pytest.raises(ConfigError, match="unknown window"):
        resolve_windows(["shiny:hv"])


def test_a_detail_channel_captioner_trains_and_assesses_real_ct(tiny_data, tmp_path):
    from typer.testing import CliRunner

    from radscribe import resources
    from radscribe.cli.main import app
    from radscribe.io import read_image
    from radscribe.iqagpt.assess import load_assessor

    out = tmp_path / "detail"
    windows = "ldct,lung,ldct:hv,ldct:d"
    result = CliRunner().invoke(app, ["train", "captioner", "--data", str(tiny_data), "--out", str(out), "--config",
                                      "tiny", "--epochs", "1", "--threads", "1", "--windows", windows])
    assert result.exit_code == 0, result.output
    stored = json.loads((out / "config.json").read_text())["model"]["encoder"]
    assert stored["windows"] == ["W350/L40", "W1500/L-600", "W350/L40:hv", "W350/L40:d"] and stored["in_channels"] == 4
    assessor = load_assessor(out)
    real_ct = resources.pydicom_data_dir() / "693_UNCI.dcm"  # a 512 x 512 clinical CT slice: real detail
    image = read_image(real_ct)[0]
    x = assessor.preprocess([image])
    assert x.shape == (1, 4, 256, 256) and x[0, 3].any()
    [row] = assessor.assess([image])
    assert row["caption"] and (row["score"] is None or 0.0 <= row["score"] <= 4.0)  # 1 tiny epoch may write no score

    bad = CliRunner().invoke(app, ["train", "captioner", "--data", str(tiny_data), "--out", str(tmp_path / "x"),
                                   "--config", "tiny", "--windows", "ldct,ldct:sharp"])
    assert bad.exit_code != 0 and "ldct:sharp" in bad.output and not (tmp_path / "x").exists()

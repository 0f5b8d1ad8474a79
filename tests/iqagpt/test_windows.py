"""Input windows as a model setting: the metal window, configs that name their windows, and every consumer
(training, assess, baselines, the benchmark's like-for-like copy) feeding the channels the encoder was made for."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from radscribe.errors import ConfigError
from radscribe.iqagpt.models.encoder import EncoderConfig
from radscribe.iqagpt.preprocess import AIR_HU, WINDOWS, preprocess_uint8, resolve_windows

THREE = ("ldct", "lung", "metal")
THREE_VALUES = ("W350/L40", "W1500/L-600", "W1000/L2500")  # what a checkpoint stores


def test_only_the_metal_window_tells_an_implant_from_bone():
    hu = np.full((256, 256), AIR_HU, np.float32)
    hu[40:216, 40:216] = 40.0  # soft tissue
    hu[60:100, 60:100] = 1500.0  # cortical bone
    hu[150:190, 150:190] = 6000.0  # titanium at 70 keV
    x = preprocess_uint8(hu, windows=THREE).astype(int)
    bone, metal = np.s_[70:90, 70:90], np.s_[160:180, 160:180]
    for channel in (0, 1):  # soft-tissue and lung windows: both saturate, the same white
        assert (x[channel][bone] == 255).all() and (x[channel][metal] == 255).all()
    assert (x[2][metal] == 255).all() and x[2][bone].max() == 0  # metal window: bone is black, the implant white
    assert (preprocess_uint8(np.full((8, 8), 3071.0, np.float32), windows=("metal",)) == 255).all()  # 12-bit clip
    assert np.array_equal(x[:2], preprocess_uint8(hu))  # the default two channels are unchanged


def test_encoder_config_counts_its_windows_and_refuses_what_cannot_work():
    assert EncoderConfig().in_channels == len(WINDOWS) == 2
    three = EncoderConfig(windows=list(THREE))
    assert three.in_channels == 3 and three.windows == THREE_VALUES == resolve_windows(THREE)
    assert EncoderConfig(windows=("W350/L40", "lung")).windows == THREE_VALUES[:2]  # names and values alike
    with pytest.raises(ConfigError, match="does not match"):
        EncoderConfig(in_channels=2, windows=THREE)
    with pytest.raises(ConfigError, match="ldct"):
        EncoderConfig(windows=("lung", "ldct"), ring_channel=True)  # the ring map reads channel 0


def test_a_config_saved_before_windows_were_a_setting_loads_with_the_two_default_windows():
    from radscribe.iqagpt.models.captioner import CaptionerConfig

    saved = {"vocab_size": 40, "encoder": {"in_channels": 2, "widths": [8, 16, 16], "stem_stride": 4,
                                           "res_from": 1, "input_size": 256, "ring_channel": True}}
    cfg = CaptionerConfig.from_dict(saved)
    assert cfg.encoder.windows == resolve_windows(WINDOWS) and cfg.encoder.widths == (8, 16, 16)
    again = CaptionerConfig.from_dict(json.loads(json.dumps(CaptionerConfig(encoder=EncoderConfig(windows=THREE)).to_dict())))
    assert again.encoder.windows == THREE_VALUES and again.encoder.in_channels == 3


def test_shift_padding_is_air_in_every_window():
    from radscribe.iqagpt.train import air_like

    air = air_like(torch.zeros(1, 4, 8, 8), THREE)[0, :, 0, 0]  # 3 windows + the ring map's channel
    assert air[0] == 0.0 and air[1] > 0.1 and air[2] == 0.0 and air[3] == 0.5


def test_a_three_window_captioner_trains_assesses_real_ct_and_its_baselines_see_the_same_channels(tiny_data, tmp_path):
    from typer.testing import CliRunner

    from radscribe import resources
    from radscribe.cli.main import app
    from radscribe.io import read_image
    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.baselines.train import BASELINES, BaselineConfig, fit, predict
    from radscribe.iqagpt.benchmark import same_augmentation
    from radscribe.iqagpt.data import load_splits

    out = tmp_path / "metal"
    result = CliRunner().invoke(app, ["train", "captioner", "--data", str(tiny_data), "--out", str(out), "--config",
                                      "tiny", "--epochs", "1", "--threads", "1", "--windows", "ldct, lung, metal"])
    assert result.exit_code == 0, result.output
    # the checkpoint keeps the values, so a preset changed later cannot change this model's input
    assert json.loads((out / "config.json").read_text())["model"]["encoder"]["windows"] == list(THREE_VALUES)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["train_config"]["windows"] == list(THREE)

    assessor = load_assessor(out)
    assert assessor.windows == THREE_VALUES
    real_ct = resources.pydicom_test_files_dir() / "CT_small.dcm"
    [row] = assessor.assess(read_image(real_ct))
    assert row["caption"] and (row["score"] is None or 0.0 <= row["score"] <= 4.0)  # 1 tiny epoch may write no score

    train = load_splits(tiny_data, ["train"], windows=THREE)
    assert train.images.shape[1] == 3 and load_splits(tiny_data, ["train"]).images.shape[1] == 2  # separate caches
    cfg = same_augmentation(BaselineConfig(epochs=1, widths=(8, 16, 16), stem_stride=4), manifest["train_config"])
    assert cfg.windows == THREE  # the manifest's names; the encoder resolves them
    model = BASELINES["multitask_regression"](EncoderConfig(widths=cfg.widths, stem_stride=4, windows=cfg.windows), None)
    fit(model, train, cfg)
    scores, _ = predict(model, train.images[:3])
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_an_unknown_window_is_refused_before_training(tiny_data, tmp_path):
    from typer.testing import CliRunner

    from radscribe.cli.main import app

    result = CliRunner().invoke(app, ["train", "captioner", "--data", str(tiny_data), "--out", str(tmp_path / "x"),
                                      "--config", "tiny", "--windows", "ldct,shiny"])
    assert result.exit_code != 0 and "shiny" in result.output and not (tmp_path / "x").exists()


def test_population_batchnorm_statistics_make_eval_match_the_batch_the_model_normalises():
    """After recalibrating on a set, eval mode on that set equals train-mode normalisation by the set's own
    statistics; the exponential running average a run ends on need not (docs/iqagpt-experiments.md, metal window)."""
    from radscribe.iqagpt.baselines.heads import MultitaskRegressor
    from radscribe.iqagpt.models.batchnorm import recalibrate_batchnorm
    from radscribe.iqagpt.preprocess import to_model_input

    torch.manual_seed(0)
    model = MultitaskRegressor(EncoderConfig(widths=(8, 16, 16), stem_stride=4, windows=THREE))
    images = np.random.default_rng(0).integers(0, 120, (48, 3, 256, 256), dtype=np.uint8)
    images[:6, 2, 100:140, 100:140] = 255  # a few implants in the metal window: a heavy-tailed channel
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for bn in bns:  # a running average that ended on unrepresentative batches
        bn.running_var.fill_(50.0)
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k}
    model.eval()
    x = to_model_input(images)
    with torch.no_grad():
        stale = model(x)
        model.train()
        own_stats = model(x)  # normalised by this set's statistics
        model.eval()
    assert recalibrate_batchnorm(model, images, n=48, batch_size=48) == 48
    with torch.no_grad():
        fresh = model(x)
    assert not model.training and all(bn.momentum == 0.1 for bn in bns)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights.items())  # only the statistics changed
    assert torch.allclose(fresh, own_stats, atol=1e-3) and not torch.allclose(stale, own_stats, atol=1e-1)

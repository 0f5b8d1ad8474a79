"""Training arithmetic: bf16 autocast (where native) and fp32 both train, the manifest says which ran,
a run does not resume in the other, and the baselines of a benchmark train as the captioner did."""

from __future__ import annotations

import json

import pytest
import torch

from radscribe.errors import ConfigError
from radscribe.iqagpt.baselines.train import BaselineConfig
from radscribe.iqagpt.benchmark import same_augmentation
from radscribe.iqagpt.precision import autocast, native_bf16, resolve_precision
from radscribe.iqagpt.train import STATE, get_config, train_captioner


def test_auto_follows_the_cpu_and_unknown_names_are_refused():
    assert resolve_precision("auto") == ("bf16" if native_bf16() else "fp32")
    assert resolve_precision("fp32") == "fp32" and resolve_precision("bf16") == "bf16"
    with pytest.raises(ConfigError, match="fp16"):
        resolve_precision("fp16")


def test_bf16_autocast_runs_convolutions_in_bfloat16_and_fp32_does_not():
    conv = torch.nn.Conv2d(2, 4, 3)
    x = torch.rand(1, 2, 8, 8)
    with autocast("bf16"):
        assert conv(x).dtype == torch.bfloat16
    with autocast("fp32"):
        assert conv(x).dtype == torch.float32


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_training_records_its_precision_and_does_not_resume_in_another(tiny_data, tmp_path, precision):
    out = tmp_path / precision
    summary = train_captioner(tiny_data, out, get_config("tiny", epochs=1, threads=1, precision=precision))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["train_config"]["precision"] == precision
    assert torch.load(out / STATE, weights_only=False)["precision"] == precision
    assert all(torch.isfinite(torch.tensor(h["val_loss"])) for h in summary["history"])
    other = "fp32" if precision == "bf16" else "bf16"
    with pytest.raises(ConfigError, match="another config"):
        train_captioner(tiny_data, out, get_config("tiny", epochs=2, threads=1, precision=other))


def test_baselines_train_in_the_captioners_precision():
    assert same_augmentation(BaselineConfig(), {"flips": True, "precision": "bf16"}).precision == "bf16"
    # a manifest from before bf16 training existed was trained in fp32
    assert same_augmentation(BaselineConfig(), {"flips": True}).precision == "fp32"

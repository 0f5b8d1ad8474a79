"""Weight averaging: the arithmetic, tied weights, and a training run that validates, saves and resumes it."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from radscribe.iqagpt.ema import WeightEMA


def test_ema_averages_weights_and_batchnorm_statistics_and_copies_counters():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ema = WeightEMA(model, decay=0.9)
    model.train()
    model(torch.randn(8, 3)).sum().backward()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema.update(model)
    d = 2 / 11  # warm-up: min(0.9, (1 + 1) / (10 + 1))
    after, shadow = model.state_dict(), ema.shadow.state_dict()
    for name in ("0.weight", "0.bias", "1.weight", "1.running_mean", "1.running_var"):
        assert torch.allclose(shadow[name], d * before[name] + (1 - d) * after[name]), name
    assert int(shadow["1.num_batches_tracked"]) == 1
    assert not any(p.requires_grad for p in ema.shadow.parameters())


def test_ema_updates_a_tied_weight_once():
    embed = torch.nn.Embedding(5, 3)
    head = torch.nn.Linear(3, 5, bias=False)
    head.weight = embed.weight
    model = torch.nn.ModuleDict({"embed": embed, "head": head})
    ema = WeightEMA(model, decay=0.5)
    start = embed.weight.detach().clone()
    with torch.no_grad():
        embed.weight.add_(1.0)
    ema.update(model)
    d = 2 / 11
    assert ema.shadow["head"].weight is ema.shadow["embed"].weight
    assert torch.allclose(ema.shadow["embed"].weight, start + (1 - d))


def test_ema_rejects_a_decay_outside_zero_one():
    with pytest.raises(ValueError, match="decay"):
        WeightEMA(torch.nn.Linear(2, 2), decay=1.0)


def test_training_with_ema_saves_the_average_and_resumes_to_the_same_weights(tiny_data, tmp_path):
    from radscribe.iqagpt.train import STATE, get_config, train_captioner

    cfg = get_config("tiny", epochs=2, threads=1, ema_decay=0.9)
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train_captioner(tiny_data, straight, cfg)

    def stop_at_epoch_2(items, total, desc):
        if desc.startswith("epoch 2"):
            raise KeyboardInterrupt  # a user's Ctrl-C after the first epoch was saved
        return items

    with pytest.raises(KeyboardInterrupt):
        train_captioner(tiny_data, resumed, cfg, progress=stop_at_epoch_2)
    # after one epoch that epoch is the best: the file holds the average, not the weights as trained
    first = torch.load(resumed / STATE, weights_only=False)
    kept = load_file(str(resumed / "model.safetensors"))
    assert all(torch.equal(tensor, first["ema"]["shadow"][name]) for name, tensor in kept.items())
    assert not all(torch.equal(tensor, first["model"][name]) for name, tensor in kept.items())
    train_captioner(tiny_data, resumed, cfg)

    state = torch.load(straight / STATE, weights_only=False)
    history = state["history"]
    assert all("val_loss_live_weights" in h for h in history)
    untimed = lambda hs: [{k: v for k, v in h.items() if k != "seconds"} for h in hs]  # noqa: E731
    assert untimed(history) == untimed(torch.load(resumed / STATE, weights_only=False)["history"])
    saved = load_file(str(straight / "model.safetensors"))
    for name, tensor in load_file(str(resumed / "model.safetensors")).items():
        assert torch.equal(tensor, saved[name]), name


def test_a_run_with_ema_does_not_resume_one_without(tiny_data, tmp_path):
    from radscribe.errors import ConfigError
    from radscribe.iqagpt.train import get_config, train_captioner

    out = tmp_path / "run"
    train_captioner(tiny_data, out, get_config("tiny", epochs=1, threads=1))
    with pytest.raises(ConfigError, match="another config"):
        train_captioner(tiny_data, out, get_config("tiny", epochs=2, threads=1, ema_decay=0.9))

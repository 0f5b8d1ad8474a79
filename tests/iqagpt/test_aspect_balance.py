"""Balanced auxiliary aspect head (`--aspect-balance`): each artefact severity weighs (commonest / its count) ** p
in the encoder's auxiliary cross-entropy; with equal weights it is the plain cross-entropy it replaces."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from radscribe.iqagpt.models.captioner import aspect_loss
from radscribe.iqagpt.train import aspect_class_weights

# two aspects: the first mostly "none" with one "mild" and one "severe"; the second one unknown label (-1)
LABELS = np.array([[0, 0], [0, 0], [0, 1], [1, 0], [3, -1], [0, 0]])


def test_a_rare_severity_weighs_more_and_the_commonest_weighs_one():
    weights = aspect_class_weights(LABELS, 0.5)
    assert weights.shape == (2, 4)
    # first aspect: none 4, mild 1, severe 1 -> sqrt(4 / 1) = 2; second: none 4, mild 1; unknown not counted
    assert weights[0, 0] == 1 and weights[0, 1] == pytest.approx(2.0) and weights[0, 3] == pytest.approx(2.0)
    assert weights[1, 0] == 1 and weights[1, 1] == pytest.approx(2.0)
    assert aspect_class_weights(LABELS, None) is None and aspect_class_weights(LABELS, 0.0) is None


def test_equal_weights_give_the_plain_cross_entropy_and_unknown_labels_are_ignored():
    torch.manual_seed(0)
    logits, labels = torch.randn(len(LABELS), 2 * 4), torch.tensor(LABELS)
    plain = F.cross_entropy(logits.reshape(-1, 4), labels.reshape(-1), ignore_index=-1)
    assert torch.allclose(aspect_loss(logits, labels), plain)
    assert torch.allclose(aspect_loss(logits, labels, torch.full((2, 4), 3.0)), plain, atol=1e-6)


def test_a_miss_on_the_rare_severity_costs_more_when_balanced():
    labels = torch.tensor(LABELS)
    says_none = torch.full((len(LABELS), 2, 4), -5.0)
    says_none[..., 0] = 5.0  # every aspect read "none": right on the common rows, wrong on the rare ones
    logits = says_none.reshape(len(LABELS), -1)
    weights = aspect_class_weights(LABELS, 0.5)
    assert aspect_loss(logits, labels, weights) > aspect_loss(logits, labels)


def test_the_cli_trains_with_aspect_balance_and_records_it(tiny_data, tmp_path):
    from typer.testing import CliRunner

    from radscribe.cli.main import app

    result = CliRunner().invoke(app, ["train", "captioner", "--data", str(tiny_data), "--out", str(tmp_path), "--config",
                                      "tiny", "--epochs", "1", "--threads", "1", "--aspect-balance", "0.5"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["train_config"]["aspect_balance"] == 0.5
    assert np.isfinite(manifest["history"][-1]["val_loss"])

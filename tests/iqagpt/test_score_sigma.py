"""Ordinal score targets (`--score-sigma`): the score number is learnt against a Gaussian over neighbouring
values; every other word keeps its one-hot target, and without sigma the loss is plain cross-entropy."""

from __future__ import annotations

import json

import torch

from radscribe.iqagpt.models.captioner import Captioner, CaptionerConfig
from radscribe.iqagpt.models.encoder import EncoderConfig
from radscribe.iqagpt.score import score_number_tokens
from radscribe.iqagpt.tokenizer import WordTokenizer
from radscribe.iqagpt.train import encode_captions, get_config, score_soft_targets, train_captioner

CAPTIONS = ["Mild noise. Overall quality: good (score 2.8 of 4).", "No noise. Score 4.0 of 4.",
            "Severe streaks. Score 0.4 of 4.", "Score 3.0 or 3.2 or 2.6."]


def test_score_words_spread_over_their_neighbours_and_other_words_stay_one_hot():
    tok = WordTokenizer.build(CAPTIONS)
    targets = score_soft_targets(tok, 0.3)
    assert torch.allclose(targets.sum(1), torch.ones(len(tok)))
    ids, values = score_number_tokens(tok)
    assert sorted(round(v, 3) for v in values.tolist()) == [0.4, 2.6, 2.8, 3.0, 3.2, 4.0]
    row = targets[tok.index["2.8"]]
    # nearest values get most, 0.4 almost nothing, words outside the score numbers nothing
    assert row[tok.index["2.8"]] > row[tok.index["2.6"]] > row[tok.index["3.2"]] > row[tok.index["4.0"]] > 0
    assert row[tok.index["0.4"]] < 1e-6
    assert row[tok.index["noise"]] == 0 and row[tok.index["4"]] == 0  # "of 4" is the scale, not a score
    assert targets[tok.index["noise"]][tok.index["noise"]] == 1
    assert score_soft_targets(tok, None) is None and score_soft_targets(tok, 0.0) is None


def test_one_hot_targets_give_the_plain_cross_entropy():
    tok = WordTokenizer.build(CAPTIONS)
    torch.manual_seed(0)
    model = Captioner(CaptionerConfig(vocab_size=len(tok), encoder=EncoderConfig(in_channels=2, widths=(8, 16), input_size=32, windows=("ldct", "lung")),
                                      n_layers=1, n_heads=2, max_len=24)).eval()
    images, tokens = torch.rand(4, 2, 32, 32), encode_captions(tok, CAPTIONS, 24)
    plain = model.loss(images, tokens)
    assert torch.allclose(model.loss(images, tokens, soft_targets=torch.eye(len(tok))), plain, atol=1e-5)
    assert not torch.allclose(model.loss(images, tokens, soft_targets=score_soft_targets(tok, 0.3)), plain)


def test_training_with_score_sigma_records_it(tiny_data, tmp_path):
    summary = train_captioner(tiny_data, tmp_path, get_config("tiny", epochs=1, threads=1, score_sigma=0.3))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["train_config"]["score_sigma"] == 0.3
    assert torch.isfinite(torch.tensor(summary["history"][-1]["val_loss"]))


def test_the_ordinal_classifier_baseline_gets_the_captioners_target():
    from radscribe.iqagpt.baselines.heads import SCORE_BINS, ordinal_targets

    tok = WordTokenizer.build(["Score 0.0 0.2 0.4 0.6 0.8 1.0 1.2 1.4 1.6 1.8 2.0 2.2 2.4 2.6 2.8 3.0 3.2 3.4 3.6 3.8 4.0."])
    ids, values = score_number_tokens(tok)
    captioner = score_soft_targets(tok, 0.3)[ids][:, ids]  # rows and columns in value order (sorted words)
    assert torch.allclose(values, SCORE_BINS)
    assert torch.allclose(ordinal_targets(torch.arange(21), 0.3), captioner, atol=1e-6)

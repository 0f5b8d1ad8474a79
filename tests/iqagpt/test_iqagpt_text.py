"""Tokenizer, caption metrics and score-agreement metrics on known values."""

import math

import numpy as np
import pytest

from radscribe.iqagpt.metrics import aspect_accuracy, caption_metrics, confusion, correlations
from radscribe.iqagpt.tokenizer import WordTokenizer, join_words, split_words


def test_split_join_round_trip_keeps_numbers_and_punctuation():
    text = "Moderate noise throughout the liver. Overall quality: fair (score 2.2 of 4)."
    words = split_words(text)
    assert "2.2" in words and ":" in words and "(" in words
    assert join_words(words) == text


def test_tokenizer_encode_decode_and_cut_keeps_eos():
    tok = WordTokenizer.build(["Mild noise.", "Severe streaks, mild noise."])
    ids = tok.encode("Severe noise.")
    assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id
    assert tok.decode(ids[1:]) == "Severe noise."
    assert tok.encode("unseen words", max_len=3)[-1] == tok.eos_id
    assert tok.encode("qwerty")[1] == tok.unk_id
    assert WordTokenizer.from_dict(tok.to_dict()).words == tok.words


def test_correlations_known_values():
    perfect = correlations([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0])
    assert perfect["sum_abs"] == pytest.approx(3.0) and perfect["mae"] == 0.0
    reversed_ = correlations([3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0])
    assert reversed_["plcc"] == pytest.approx(-1.0) and reversed_["sum_abs"] == pytest.approx(3.0)
    # one swap in 4 items: Kendall tau = (5 - 1) / 6
    swapped = correlations([0.0, 2.0, 1.0, 3.0], [0.0, 1.0, 2.0, 3.0])
    assert swapped["krocc"] == pytest.approx(4 / 6) and swapped["srocc"] == pytest.approx(0.8)
    missing = correlations([None, 1.0, 2.0, 3.0, 4.0], [0, 1, 2, 3, 5])
    assert missing["n"] == 4 and missing["missing"] == 1


def test_aspect_accuracy_and_confusion_skip_unknown_truth():
    pred = np.array([[0, 1], [2, 2], [3, -1]])
    true = np.array([[0, -1], [1, 2], [3, 2]])
    acc = aspect_accuracy(pred, true)
    assert acc[0] == pytest.approx(2 / 3) and acc[1] == pytest.approx(0.5)
    m = confusion(pred[:, 0], true[:, 0], 4)
    assert m.sum() == 3 and m[1, 2] == 1


def test_caption_metrics_known_values():
    same = caption_metrics(["mild noise in the liver"], [["mild noise in the liver"]], meteor=False)
    assert same["bleu4"] == pytest.approx(1.0, abs=1e-6) and same["rouge_l"] == pytest.approx(1.0)
    # ROUGE-L: LCS("a b c d", "a c d e") = 3 -> P = R = 0.75 -> F = 0.75 for any beta
    rouge = caption_metrics(["a b c d"], [["a c d e"]], meteor=False)
    assert rouge["rouge_l"] == pytest.approx(0.75)
    # no 4-gram in common -> BLEU-4 ~ 0; CIDEr rewards the matching caption over the other
    two = caption_metrics(["severe streaks near the metal", "mild noise"], [["severe streaks near the metal"], ["no rings"]],
                          meteor=False)
    assert two["cider"] > 0 and math.isfinite(two["bleu4"])

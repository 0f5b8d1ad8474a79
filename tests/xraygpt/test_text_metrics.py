"""Caption metrics against hand-computed values (tolerance 1e-9 unless stated)."""

import math

import pytest

from radscribe.xraygpt.text_metrics import bleu4, caption_scores, cider, lcs_length, meteor, rouge_l, rouge_n, tokenize


def test_tokenize_lowercases_and_drops_punctuation():
    assert tokenize("No acute, cardiopulmonary Disease.") == ["no", "acute", "cardiopulmonary", "disease"]


def test_rouge_by_hand():
    pred, ref = tokenize("the heart is normal"), tokenize("the heart size is normal")
    assert rouge_n(pred, ref, 1) == pytest.approx(2 * 1.0 * 0.8 / 1.8)  # 4/4 precision, 4/5 recall
    assert rouge_n(pred, ref, 2) == pytest.approx(2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4))  # "the heart", "is normal"
    assert lcs_length(pred, ref) == 4
    assert rouge_l(pred, ref) == pytest.approx(2 * 1.0 * 0.8 / 1.8)
    assert rouge_n([], ref, 1) == 0.0


def test_identical_and_disjoint_corpora():
    refs = ["the lungs are clear without effusion", "mild cardiomegaly with small left effusion"]
    same = caption_scores(refs, refs)
    assert same["rouge1"] == same["rouge2"] == same["rougeL"] == pytest.approx(1.0)
    assert same["bleu4"] == pytest.approx(1.0)
    assert same["meteor"] == pytest.approx(1 - 0.5 * (1 / 6) ** 3)  # one chunk of 6 matches
    assert same["cider"] > 5
    other = caption_scores(["xx yy zz ww"] * 2, refs)
    assert other["rouge1"] == other["bleu4"] == other["meteor"] == other["cider"] == 0.0


def test_bleu_brevity_penalty():
    ref = [tokenize("a b c d e f g h")]
    pred = [tokenize("a b c d")]  # all n-grams match; 4 of 8 words
    assert bleu4(pred, ref) == pytest.approx(math.exp(1 - 8 / 4))


def test_meteor_fragmentation():
    ref = tokenize("a b c d")
    swapped = tokenize("c d a b")  # 4 matches in 2 chunks
    f_mean = 1.0
    assert meteor(swapped, ref) == pytest.approx(f_mean * (1 - 0.5 * (2 / 4) ** 3))


def test_cider_weights_words_every_reference_has_at_zero():
    refs = [tokenize("no effusion"), tokenize("no effusion"), tokenize("no pneumothorax")]
    rare = cider([tokenize("x"), tokenize("x"), tokenize("pneumothorax")], refs)
    common = cider([tokenize("x"), tokenize("x"), tokenize("no")], refs)
    assert common == 0.0  # "no" is in every reference: idf log(3/3) = 0
    assert rare == pytest.approx(10 * (1 / 4) / 3)  # unigram cosine 1 on one of three examples

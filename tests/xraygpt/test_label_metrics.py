"""Finding F1 and hallucination rate on hand-made label sets."""

import pytest

from radscribe.xraygpt.label_metrics import hallucination_rate, label_scores, per_observation_f1


def test_f1_and_hallucination_by_hand():
    ref = [{"Cardiomegaly": 1}, {"Cardiomegaly": 1, "Edema": 1}, {"No Finding": 1}]
    gen = [{"Cardiomegaly": 1}, {"Cardiomegaly": 1, "Pneumothorax": 1}, {"No Finding": 1, "Edema": 0}]
    per = per_observation_f1(gen, ref)
    assert per["Cardiomegaly"]["f1"] == 1.0
    assert per["Edema"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0}
    assert "Pneumothorax" not in per  # no positive reference: F1 undefined, left out of the macro mean
    scores = label_scores(gen, ref)
    assert scores["finding_macro_f1"] == pytest.approx((1.0 + 0.0 + 1.0) / 3)
    # asserted findings: Cardiomegaly, Cardiomegaly, Pneumothorax ("No Finding" is not a finding)
    assert hallucination_rate(gen, ref) == pytest.approx(1 / 3)
    assert scores["exact_findings_match"] == pytest.approx(2 / 3)


def test_uncertain_is_not_asserted_and_nothing_asserted_is_none():
    assert hallucination_rate([{"Edema": -1}], [{}]) is None

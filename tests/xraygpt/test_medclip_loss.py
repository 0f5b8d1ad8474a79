"""The semantic matching loss: soft targets from label similarity."""

import torch

from radscribe.cxr.labeler import OBSERVATIONS
from radscribe.xraygpt.medclip_loss import label_matrix, label_vector, semantic_matching_loss, soft_targets


def test_label_vector_order_and_values():
    v = label_vector({"Cardiomegaly": 1, "Edema": -1, "Pneumothorax": 0})
    assert len(v) == len(OBSERVATIONS) == 14
    assert v[OBSERVATIONS.index("Cardiomegaly")] == 1.0
    assert v[OBSERVATIONS.index("Edema")] == 0.5
    assert sum(v) == 1.5


def test_same_findings_are_not_negatives():
    labels = label_matrix([{"No Finding": 1}, {"No Finding": 1}, {"Pleural Effusion": 1}])
    t = soft_targets(labels, temperature=0.1)
    assert torch.allclose(t.sum(1), torch.ones(3))
    assert torch.isclose(t[0, 0], t[0, 1])  # two normal studies: equal targets
    assert t[0, 2] < 1e-3 and t[2, 2] > 0.99  # an effusion is a negative of a normal study


def test_study_without_labels_matches_only_itself():
    labels = label_matrix([{}, {"No Finding": 1}, {}])
    t = soft_targets(labels)
    assert t[0].argmax() == 0 and t[2].argmax() == 2 and t[0, 2] < 1e-3


def test_loss_prefers_embeddings_that_follow_the_labels():
    labels = label_matrix([{"No Finding": 1}, {"No Finding": 1}, {"Pleural Effusion": 1}, {"Cardiomegaly": 1}])
    good_img = torch.nn.functional.normalize(torch.tensor([[1.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]), dim=1)
    bad_img = good_img[[2, 3, 0, 1]]
    text = good_img.clone()
    good = semantic_matching_loss(good_img, text, labels, 10.0)
    bad = semantic_matching_loss(bad_img, text, labels, 10.0)
    assert good < bad
    emb = good_img.clone().requires_grad_(True)
    semantic_matching_loss(emb, text, labels, 10.0).backward()
    assert emb.grad is not None and torch.isfinite(emb.grad).all()

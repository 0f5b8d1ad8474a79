"""MedCLIP's semantic matching loss: contrastive image-text training with soft targets from labels.

Plain CLIP treats every other report in the batch as a negative, yet two reports that both say
"no acute cardiopulmonary abnormality" describe the same picture. MedCLIP replaces the one-hot
targets with a softmax over the cosine similarity of the two studies' label vectors, so studies
with the same findings are (partly) positives.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F

from radscribe.cxr.labeler import OBSERVATIONS


def label_vector(labels: Mapping[str, int]) -> list[float]:
    """14 values in CheXpert order: positive 1, uncertain 0.5, negative or unmentioned 0."""
    weights = {1: 1.0, -1: 0.5}
    return [weights.get(labels.get(name), 0.0) for name in OBSERVATIONS]


def label_matrix(batch_labels: Sequence[Mapping[str, int]]) -> torch.Tensor:
    return torch.tensor([label_vector(labels) for labels in batch_labels], dtype=torch.float32)


def soft_targets(labels: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Row-stochastic (B, B) targets: softmax over label cosine similarity.

    A study with no label at all matches only itself (its cosine row is set to the identity).
    """
    norms = labels.norm(dim=1, keepdim=True)
    unit = labels / norms.clamp_min(1e-8)
    cosine = unit @ unit.T
    empty = (norms.squeeze(1) == 0)
    eye = torch.eye(len(labels), dtype=cosine.dtype, device=cosine.device)
    cosine = torch.where(empty[:, None] | empty[None, :], eye, cosine)
    return torch.softmax(cosine / temperature, dim=1)


def semantic_matching_loss(image_embed: torch.Tensor, text_embed: torch.Tensor, labels: torch.Tensor,
                           logit_scale: torch.Tensor | float, target_temperature: float = 0.1) -> torch.Tensor:
    """Mean of image->text and text->image cross-entropy against the soft targets.

    ``image_embed`` and ``text_embed`` are L2-normalised (B, D); ``labels`` is (B, 14).
    """
    logits = logit_scale * image_embed @ text_embed.T
    targets = soft_targets(labels, target_temperature)
    loss_i2t = -(targets * F.log_softmax(logits, dim=1)).sum(1).mean()
    loss_t2i = -(targets.T * F.log_softmax(logits.T, dim=1)).sum(1).mean()
    return (loss_i2t + loss_t2i) / 2

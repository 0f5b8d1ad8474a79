"""Image-only baselines IQAGPT compares against: multitask classification and multitask regression.

Both use the captioner's CNN encoder architecture (trained from scratch, same preprocessing, same
data) with heads on the pooled feature, so the comparison isolates "write a caption" vs "predict numbers".

* ``classify``: per-aspect severity heads (4 classes each) + a score head over the 21 score values
  0.0, 0.2, ... 4.0 (cross-entropy); predicted score = expected value of that distribution.
* ``classify`` with ``score_sigma`` (the ``multitask_classification_ordinal`` baseline): the score head
  learns a Gaussian over neighbouring score values instead of one-hot, the target the captioner gets
  for its score word with ``--score-sigma``; it shows how much of that gain any classifier would get.
* ``regress``: score regression (smooth L1 on the 0-4 score) + per-aspect ordinal regression
  (one output per aspect predicting the severity index 0-3, rounded for accuracy).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from radscribe.iqagpt.data import ASPECTS, SEVERITIES
from radscribe.iqagpt.models.encoder import CNNEncoder, EncoderConfig
from radscribe.iqagpt.score import gaussian_rows

SCORE_BINS = torch.linspace(0.0, 4.0, 21)


def ordinal_targets(bins: torch.Tensor, sigma: float) -> torch.Tensor:
    """(N, 21) Gaussians of SD ``sigma`` (score units) centred on each score bin: the captioner's score-word
    target with ``--score-sigma``, given to a classifier."""
    return gaussian_rows(SCORE_BINS[bins], SCORE_BINS, sigma)


class MultitaskClassifier(nn.Module):
    kind = "classify"

    def __init__(self, enc: EncoderConfig, score_sigma: float | None = None):
        super().__init__()
        self.score_sigma = score_sigma
        self.encoder = CNNEncoder(enc)
        self.aspects = nn.Linear(enc.dim, len(ASPECTS) * len(SEVERITIES))
        self.score = nn.Linear(enc.dim, len(SCORE_BINS))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.encoder(x)[1]
        return self.score(pooled), self.aspects(pooled).view(-1, len(ASPECTS), len(SEVERITIES))

    def loss(self, x, scores, aspects) -> torch.Tensor:
        score_logits, aspect_logits = self(x)
        target = torch.bucketize(scores.clamp(0, 4), (SCORE_BINS[1:] + SCORE_BINS[:-1]) / 2)
        if self.score_sigma:
            loss = F.cross_entropy(score_logits.float(), ordinal_targets(target, self.score_sigma))
        else:
            loss = F.cross_entropy(score_logits, target)
        if (aspects >= 0).any():
            loss = loss + F.cross_entropy(aspect_logits.reshape(-1, len(SEVERITIES)), aspects.reshape(-1), ignore_index=-1)
        return loss

    @torch.no_grad()
    def predict(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        score_logits, aspect_logits = self(x)
        return score_logits.softmax(-1) @ SCORE_BINS, aspect_logits.argmax(-1)


class MultitaskRegressor(nn.Module):
    kind = "regress"

    def __init__(self, enc: EncoderConfig):
        super().__init__()
        self.encoder = CNNEncoder(enc)
        self.head = nn.Linear(enc.dim, 1 + len(ASPECTS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x)[1])

    def loss(self, x, scores, aspects) -> torch.Tensor:
        out = self(x)
        loss = F.smooth_l1_loss(out[:, 0], scores)
        known = aspects >= 0
        if known.any():
            loss = loss + F.smooth_l1_loss(out[:, 1:][known], aspects[known].float())
        return loss

    @torch.no_grad()
    def predict(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        out = self(x)
        return out[:, 0].clamp(0, 4), out[:, 1:].round().clamp(0, len(SEVERITIES) - 1).long()

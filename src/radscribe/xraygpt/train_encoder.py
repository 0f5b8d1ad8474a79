"""Stage 0: train the visual encoder MedCLIP-style against frozen MiniLM report embeddings.

Loss: the semantic matching loss (soft targets from label similarity), plus, by default, a small
auxiliary multi-label head on the pooled image feature (our addition, not MedCLIP's: it speeds up
learning which findings are present on a CPU budget; ``label_loss_weight=0`` turns it off).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from radscribe.cxr.labeler import OBSERVATIONS
from radscribe.xraygpt.data import CxrExample, load_image_batch
from radscribe.xraygpt.encoder import EncoderConfig, VisualEncoder, augment
from radscribe.xraygpt.finding_tokens import macro_auc
from radscribe.xraygpt.medclip_loss import label_matrix, semantic_matching_loss
from radscribe.xraygpt.text_tower import TextHead, sentence_embeddings
from radscribe.xraygpt.training import Dist, init_distributed, run_loop, smoothed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncoderTrainConfig:
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    steps: int = 300
    batch_size: int = 32
    lr: float = 2e-3
    final_lr: float = 2e-5
    warmup: int = 20
    weight_decay: float = 1e-4
    target_temperature: float = 0.1
    init_logit_scale: float = 1 / 0.07
    label_loss_weight: float = 0.5
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class ContrastivePair(nn.Module):
    """What trains in stage 0: the image encoder, the text head, the temperature and the label head."""

    def __init__(self, config: EncoderTrainConfig):
        super().__init__()
        self.encoder = VisualEncoder(config.encoder)
        self.text_head = TextHead(config.encoder.embed_dim)
        self.log_scale = nn.Parameter(torch.tensor(float(config.init_logit_scale)).log())
        self.label_head = nn.Linear(config.encoder.token_dim, len(OBSERVATIONS))


@torch.no_grad()
def recalibrate_batchnorm(encoder: VisualEncoder, images: torch.Tensor, batch_size: int = 64) -> None:
    """Recompute BatchNorm statistics as an exact average over the clean (unaugmented) training images.

    Training saw augmented crops; the frozen encoder then only sees clean images, so their statistics
    are the right ones (a "precise BN" pass; forward only, cheap).
    """
    norms = [m for m in encoder.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the pass
    encoder.train()
    for i in range(0, len(images), batch_size):
        encoder(images[i:i + batch_size])
    for m in norms:
        m.momentum = 0.1
    encoder.eval()


@torch.no_grad()
def embed_images(encoder: VisualEncoder, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    encoder.eval()
    return torch.cat([encoder(images[i:i + batch_size])[1] for i in range(0, len(images), batch_size)]) \
        if len(images) else torch.zeros(0, encoder.config.embed_dim)


def label_match_at_1(query: torch.Tensor, query_labels: torch.Tensor, keys: torch.Tensor, key_labels: torch.Tensor) -> float:
    """Share of queries whose nearest key has exactly the same positive findings."""
    if not len(query) or not len(keys):
        return float("nan")
    nearest = (query @ keys.T).argmax(1)
    same = ((query_labels > 0.75) == (key_labels[nearest] > 0.75)).all(1)
    return float(same.float().mean())


def train_encoder(train: Sequence[CxrExample], val: Sequence[CxrExample], config: EncoderTrainConfig,
                  out_dir: Path, *, resume: bool = True, d: Dist | None = None,
                  device: torch.device | None = None) -> tuple[ContrastivePair, dict]:
    """Train and return the pair (encoder in eval mode, on the CPU) and its metrics (loss, val retrieval label match).

    With a GPU ``device`` only the training steps run there; images are augmented on the CPU and the
    evaluation after training runs on the CPU, so its numbers do not depend on where it trained.
    """
    d = d or init_distributed()
    device = device or torch.device("cpu")
    torch.manual_seed(config.seed)
    size = config.encoder.image_size
    images = load_image_batch(train, size)
    text = sentence_embeddings([e.summary for e in train])
    labels = label_matrix([e.labels for e in train])
    pair = ContrastivePair(config).to(device)
    text_d, labels_d = text.to(device), labels.to(device)
    params = [p for p in pair.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)

    def step_fn(idx: list[int], step: int) -> torch.Tensor:
        pair.train()
        gen = torch.Generator().manual_seed(config.seed * 100003 + step)
        batch = augment(images[idx], gen).to(device)
        tokens, img_embed = pair.encoder(batch)
        txt_embed = pair.text_head(text_d[idx])
        scale = pair.log_scale.exp().clamp(max=100.0)
        loss = semantic_matching_loss(img_embed.float(), txt_embed.float(), labels_d[idx], scale, config.target_temperature)
        if config.label_loss_weight > 0:
            logits = pair.label_head(tokens.mean(1)).float()
            loss = loss + config.label_loss_weight * F.binary_cross_entropy_with_logits(logits, labels_d[idx])
        return loss

    result = run_loop(name="encoder", steps=config.steps, step_fn=step_fn, params=params, optimizer=optimizer,
                      lr=(config.lr, config.final_lr), warmup=config.warmup, batch_size=min(config.batch_size, len(train)),
                      n_examples=len(train), seed=config.seed, out_dir=out_dir, modules={"pair": pair}, d=d,
                      resume=resume, device=device)
    pair.cpu()
    recalibrate_batchnorm(pair.encoder, images)
    pair.eval()
    metrics = {"steps": result.steps, "train_seconds": round(result.seconds, 1), "final_loss": smoothed(result.losses),
               "first_loss": round(result.losses[0], 4) if result.losses else None}
    if val:
        val_images = load_image_batch(val, size)
        val_labels = label_matrix([e.labels for e in val])
        img_val = embed_images(pair.encoder, val_images)
        img_train = embed_images(pair.encoder, images)
        with torch.no_grad():
            txt_train = pair.text_head(text)
        metrics["val_image_to_train_image_label_match@1"] = round(label_match_at_1(img_val, val_labels, img_train, labels), 4)
        metrics["val_image_to_train_text_label_match@1"] = round(label_match_at_1(img_val, val_labels, txt_train, labels), 4)
        metrics["val_label_head_macro_auc"] = _macro_auc(pair, val_images, val_labels)
    metrics["n_train"], metrics["n_val"] = len(train), len(val)
    log.info("encoder metrics %s", metrics)
    return pair, metrics


@torch.no_grad()
def _macro_auc(pair: ContrastivePair, images: torch.Tensor, labels: torch.Tensor) -> float | None:
    """Mean ROC AUC of the auxiliary label head over observations that have both classes in ``labels``."""
    scores = torch.cat([pair.label_head(pair.encoder(images[i:i + 64])[0].mean(1)) for i in range(0, len(images), 64)])
    return macro_auc(scores, labels)[0]

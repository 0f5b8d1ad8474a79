"""The encoder's finding scores as extra visual tokens (an option; our addition to the paper's recipe).

Measured on the shipped encoder (docs/xraygpt.md): a linear probe on its pooled feature reads
cardiomegaly, opacity and consolidation at validation AUC 0.99, yet a projection of the 16 grid tokens
passed almost nothing study-specific to the LLM (answer loss with another study's image only 0.02
worse). With ``visual_tokens = "grid+findings"`` the frozen encoder also emits one token per CheXpert
observation, and the same ONE linear layer maps all tokens into the LLM. Each finding has two input slots,
present and absent:

    grid token g (token_dim)  ->  [g, 0 ... 0]        finding token i  ->  [0 ... 0, p_i * e_i, (1 - p_i) * e_{14+i}]

so finding i enters the LLM as ``p_i * W[:, D + i] + (1 - p_i) * W[:, D + 14 + i] + b``. Those columns start
as the LLM's own embedding of the finding's name and of its negation (``FINDING_WORDS``: "cardiomegaly" /
"normal heart size"), the bias at zero: before any image training, a confident finding token reads
like the word. (Experiments E1-E6 used one slot, ``p_i * W[:, D + i]``; an RMS-normalised LLM sees
``p * w`` and ``w`` alike in its first layer, so absence is hard to tell from presence that way.) The probe is a
logistic regression fitted on the frozen encoder's pooled features of the training split
(standardisation folded into its weights), stored in the checkpoint. The LLM is tuned to read these
tokens from report labels (``train_llm``, grounded tuning).
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

from radscribe.cxr.labeler import OBSERVATIONS

log = logging.getLogger(__name__)

VISUAL_TOKENS = ("grid", "grid+findings")

# (present, absent) phrases per observation: what a radiology summary says either way
FINDING_WORDS: dict[str, tuple[str, str]] = {
    "No Finding": ("normal", "abnormal"),
    "Enlarged Cardiomediastinum": ("enlarged mediastinum", "normal mediastinum"),
    "Cardiomegaly": ("cardiomegaly", "normal heart size"),
    "Lung Lesion": ("nodule", "no nodule"),
    "Lung Opacity": ("opacity", "clear lungs"),
    "Edema": ("edema", "no edema"),
    "Consolidation": ("consolidation", "no consolidation"),
    "Pneumonia": ("pneumonia", "no pneumonia"),
    "Atelectasis": ("atelectasis", "no atelectasis"),
    "Pneumothorax": ("pneumothorax", "no pneumothorax"),
    "Pleural Effusion": ("pleural effusion", "no effusion"),
    "Pleural Other": ("pleural thickening", "no pleural thickening"),
    "Fracture": ("fracture", "no fracture"),
    "Support Devices": ("medical device", "no device"),
}
assert list(FINDING_WORDS) == list(OBSERVATIONS)


def check_visual_tokens(kind: str) -> str:
    if kind not in VISUAL_TOKENS:
        raise ValueError(f"visual_tokens must be one of {', '.join(VISUAL_TOKENS)}, got {kind!r}")
    return kind


def new_finding_head(token_dim: int) -> nn.Linear:
    return nn.Linear(token_dim, len(OBSERVATIONS))


@torch.no_grad()
def pooled_features(encoder: nn.Module, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    encoder.eval()
    return torch.cat([encoder(images[i:i + batch_size])[0].mean(1) for i in range(0, len(images), batch_size)])


def fit_finding_head(features: torch.Tensor, labels: torch.Tensor, l2: float = 1e-3, max_iter: int = 200) -> nn.Linear:
    """Logistic regression per observation (L-BFGS) on standardised features; returns a plain Linear.

    ``labels`` are CheXpert values mapped to [0, 1] (``label_matrix``); positive means > 0.75, so an
    uncertain mention is not taught as a finding.
    """
    y = (labels > 0.75).float()
    mean, std = features.mean(0), features.std(0) + 1e-6
    x = (features - mean) / std
    head = new_finding_head(features.shape[1])
    optimizer = torch.optim.LBFGS(head.parameters(), max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(head(x), y) + l2 * head.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    with torch.no_grad():  # fold the standardisation in: w.(f - m)/s + b = (w/s).f + (b - w.(m/s))
        head.weight.div_(std)
        head.bias.sub_(head.weight @ mean)
    return head.requires_grad_(False)


def finding_slots(probs: torch.Tensor, token_dim: int) -> torch.Tensor:
    """(B, 14) probabilities -> (B, 14, token_dim + 28) finding-token inputs (present and absent slots)."""
    b, n_f = probs.shape
    return torch.cat([probs.new_zeros(b, n_f, token_dim), torch.diag_embed(probs), torch.diag_embed(1 - probs)], -1)


def finding_token_inputs(tokens: torch.Tensor, head: nn.Linear, probs: torch.Tensor | None = None) -> torch.Tensor:
    """(B, n_grid, D) grid tokens -> (B, n_grid + 14, D + 28): zero-padded grid tokens, then the finding slots.

    ``probs`` replaces the head's reading (guidance's null run uses 0.5: "the encoder says nothing").
    """
    b, n, dim = tokens.shape
    if probs is None:
        probs = torch.sigmoid(head(tokens.mean(1)))
    grid = torch.cat([tokens, tokens.new_zeros(b, n, 2 * probs.shape[1])], -1)
    return torch.cat([grid, finding_slots(probs, dim)], 1)


def finding_word_columns(llm: nn.Module, tokenizer) -> torch.Tensor:
    """(hidden, 28): mean input embedding of each finding's present phrase, then of each absent phrase."""
    embed = llm.get_input_embeddings().weight.detach()

    def phrase(text: str) -> torch.Tensor:
        return embed[tokenizer(" " + text, add_special_tokens=False)["input_ids"]].float().mean(0)

    present = [phrase(FINDING_WORDS[o][0]) for o in OBSERVATIONS]
    absent = [phrase(FINDING_WORDS[o][1]) for o in OBSERVATIONS]
    return torch.stack(present + absent, 1)


@torch.no_grad()
def init_projection_from_words(projection: nn.Linear, token_dim: int, columns: torch.Tensor) -> None:
    """Finding columns = the word embeddings, bias = 0; the grid columns keep their random start.

    (Not zero: an all-zero token makes the LLM's RMSNorm gradient NaN, and a tiny one makes it huge.)
    """
    projection.bias.zero_()
    projection.weight[:, token_dim:] = columns.to(projection.weight)


def label_probabilities(labels: list[dict[str, int]], generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 14) finding "probabilities" from report labels: positive 1, uncertain 0.5, else 0.

    With ``generator``, jittered into the range a probe gives (positive 0.7-1.0, negative 0.0-0.3,
    uncertain 0.3-0.7), so an LLM tuned on them also reads an encoder's less certain output.
    """
    p = torch.tensor([[{1: 1.0, -1: 0.5}.get(row.get(o), 0.0) for o in OBSERVATIONS] for row in labels])
    if generator is not None:
        p = (p.clamp(0.1, 0.9) - 0.2 + 0.4 * torch.rand(p.shape, generator=generator)).clamp(0.0, 1.0)
    return p


def macro_auc(scores: torch.Tensor, labels: torch.Tensor) -> tuple[float | None, dict[str, float]]:
    """Mean ROC AUC over observations with both classes, and each one's."""
    from scipy.stats import rankdata

    per = {}
    for j, name in enumerate(OBSERVATIONS[: labels.shape[1]]):
        y = (labels[:, j] > 0.75).numpy()
        n_pos, n_neg = int(y.sum()), int((~y).sum())
        if n_pos and n_neg:
            ranks = rankdata(scores[:, j].numpy())
            per[name] = round(float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)), 4)
    return (round(sum(per.values()) / len(per), 4) if per else None), per


def train_finding_head(encoder: nn.Module, train_images: torch.Tensor, train_labels: torch.Tensor,
                       val_images: torch.Tensor | None = None, val_labels: torch.Tensor | None = None) -> tuple[nn.Linear, dict]:
    """Fit the probe on the frozen encoder; returns it and its validation AUCs (when given validation data)."""
    head = fit_finding_head(pooled_features(encoder, train_images), train_labels)
    metrics: dict = {"n_train": len(train_images)}
    if val_images is not None and len(val_images):
        with torch.no_grad():
            scores = head(pooled_features(encoder, val_images))
        metrics["val_macro_auc"], metrics["val_auc"] = macro_auc(scores, val_labels)
    log.info("finding head: %s", metrics)
    return head, metrics

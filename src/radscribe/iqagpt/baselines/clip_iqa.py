"""A CLIP-IQA-style baseline: an image-text contrastive model trained on our captions, scored zero-shot.

Training: the CNN image encoder and a small transformer text encoder are pulled together for
matching (slice, caption) pairs and apart for the other pairs in the batch (symmetric InfoNCE,
learned temperature), as in CLIP. No score or aspect label is used directly.

Zero-shot read-out (CLIP-IQA, Wang et al. 2023): softmax over the similarities to an antonym
prompt pair, e.g. "overall quality: excellent" vs "overall quality: bad"; the score is 4 x the
probability of the positive prompt, averaged over the pairs. Aspects: argmax over
"no / mild / moderate / severe <aspect>".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from radscribe.iqagpt.data import ASPECTS
from radscribe.iqagpt.models.encoder import CNNEncoder, EncoderConfig
from radscribe.iqagpt.tokenizer import WordTokenizer

QUALITY_PAIRS = (
    ("overall quality: excellent", "overall quality: bad"),
    ("anatomy is shown clearly", "desired features are not shown"),
)
ASPECT_WORDS = {"noise": "noise", "streaks": "streaks", "metal": "metal artefact", "motion": "motion",
                "ring": "rings", "blur": "blurring"}
SEVERITY_WORDS = ("no", "mild", "moderate", "severe")


class TextEncoder(nn.Module):
    def __init__(self, vocab: int, dim: int, max_len: int = 72, layers: int = 1, heads: int = 4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.zeros(1, max_len, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout=0.1, batch_first=True, norm_first=True)
        self.body = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor, pad_id: int = 0) -> torch.Tensor:
        pad = tokens == pad_id
        x = self.body(self.embed(tokens) + self.pos[:, : tokens.shape[1]], src_key_padding_mask=pad)
        x = self.norm(x).masked_fill(pad[..., None], 0.0)
        return x.sum(1) / (~pad).sum(1, keepdim=True).clamp_min(1)  # mean over words


class ClipIQA(nn.Module):
    kind = "clip_iqa"

    def __init__(self, enc: EncoderConfig, tokenizer: WordTokenizer, embed_dim: int = 128, max_len: int = 72):
        super().__init__()
        self.tokenizer = tokenizer
        self.max_len = max_len
        self.image = CNNEncoder(enc)
        self.text = TextEncoder(len(tokenizer), enc.dim, max_len)
        self.image_proj = nn.Linear(enc.dim, embed_dim, bias=False)
        self.text_proj = nn.Linear(enc.dim, embed_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(2.659))  # log(1/0.07), CLIP's start

    def embed_images(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_proj(self.image(x)[1]), dim=-1)

    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        ids = [self.tokenizer.encode(t, self.max_len) for t in texts]
        tokens = torch.zeros(len(ids), max(map(len, ids)), dtype=torch.long)
        for i, seq in enumerate(ids):
            tokens[i, : len(seq)] = torch.tensor(seq)
        return F.normalize(self.text_proj(self.text(tokens)), dim=-1)

    def loss(self, x, captions: list[str]) -> torch.Tensor:
        img, txt = self.embed_images(x), self.embed_texts(captions)
        logits = self.logit_scale.exp().clamp(max=100) * img @ txt.T
        # identical captions in a batch are true matches too: use soft targets over equal captions
        same = torch.tensor([[a == b for b in captions] for a in captions], dtype=torch.float32)
        target = same / same.sum(1, keepdim=True)
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2

    @torch.no_grad()
    def predict(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        img = self.embed_images(x)
        scale = self.logit_scale.exp().clamp(max=100)
        probs = []
        for pos, neg in QUALITY_PAIRS:
            pair = self.embed_texts([pos, neg])
            probs.append((scale * img @ pair.T).softmax(-1)[:, 0])
        score = 4.0 * torch.stack(probs).mean(0)
        aspects = []
        for aspect in ASPECTS:
            prompts = self.embed_texts([f"{s} {ASPECT_WORDS[aspect]}" for s in SEVERITY_WORDS])
            aspects.append((img @ prompts.T).argmax(-1))
        return score, torch.stack(aspects, dim=1)

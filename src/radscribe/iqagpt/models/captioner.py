"""The IQAGPT captioner: CNN image encoder + BLIP-style image-grounded transformer text decoder.

Each decoder layer: causal self-attention over the words so far, cross-attention from the words
to the 16 x 16 image tokens, then an MLP (pre-norm residual blocks). The cross-attention weights
of the last layer, averaged over heads, are the per-word heat maps over the slice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from radscribe.iqagpt.models.encoder import CNNEncoder, EncoderConfig


@dataclass
class CaptionerConfig:
    vocab_size: int = 512
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    n_layers: int = 2
    n_heads: int = 4
    ff_mult: int = 2
    max_len: int = 72  # tokens including <bos>/<eos>
    dropout: float = 0.1
    aux_weight: float = 0.0  # > 0: auxiliary score/aspect heads on the pooled image feature (training signal only)

    @property
    def d_model(self) -> int:
        return self.encoder.dim

    def to_dict(self) -> dict:
        d = asdict(self)
        d["encoder"]["widths"] = list(self.encoder.widths)
        d["encoder"]["windows"] = list(self.encoder.windows)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "CaptionerConfig":
        d = dict(d)
        enc = dict(d.pop("encoder", {}))
        return cls(encoder=EncoderConfig(**enc), **d)


def _heads(x: torch.Tensor, h: int) -> torch.Tensor:
    b, t, d = x.shape
    return x.view(b, t, h, d // h).transpose(1, 2)


def _attend(q, k, v, mask=None, need_weights: bool = False):
    """(B, h, T, dh) attention; ``mask`` True = blocked. Weights (B, T, S) averaged over heads when asked."""
    # One new word against the 256 image tokens (every generation step): two small matmuls are about 5x
    # faster there than the CPU flash-attention kernel, which tiles over queries (measured, torch 2.13).
    one_query = q.shape[-2] == 1 and k.shape[-2] >= 128
    if not need_weights and not one_query:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=None if mask is None else ~mask), None
    w = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
    if mask is not None:
        w = w.masked_fill(mask, float("-inf"))
    w = w.softmax(-1)
    return w @ v, (w.mean(1) if need_weights else None)


class DecoderLayer(nn.Module):
    """Pre-norm: causal self-attention, cross-attention to image tokens, MLP.

    Written out (instead of nn.MultiheadAttention) so generation can cache the image keys/values
    and the past words' keys/values: decoding then costs one token per step.
    """

    def __init__(self, d: int, heads: int, ff_mult: int, dropout: float):
        super().__init__()
        self.h = heads
        self.ln_self, self.ln_cross, self.ln_mlp = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.self_out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.q_cross, self.kv_cross, self.cross_out = nn.Linear(d, d), nn.Linear(d, 2 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, ff_mult * d), nn.GELU(), nn.Linear(ff_mult * d, d))
        self.drop = nn.Dropout(dropout)

    def memory_kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv_cross(memory).chunk(2, dim=-1)
        # contiguous once here: as strided views every generation step copied them again (~10x slower)
        return _heads(k, self.h).contiguous(), _heads(v, self.h).contiguous()

    def forward(self, x, mem_kv, self_mask, cache=None, need_cross: bool = False):
        """``self_mask`` (B or 1, 1, T, S) True = blocked; ``cache`` dict extends past keys/values in place."""
        b, t, d = x.shape
        q, k, v = (_heads(z, self.h) for z in self.qkv(self.ln_self(x)).chunk(3, dim=-1))
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        out, _ = _attend(q, k, v, self_mask)
        x = x + self.drop(self.self_out(out.transpose(1, 2).reshape(b, t, d)))
        q = _heads(self.q_cross(self.ln_cross(x)), self.h)
        out, weights = _attend(q, *mem_kv, need_weights=need_cross)
        x = x + self.drop(self.cross_out(out.transpose(1, 2).reshape(b, t, d)))
        return x + self.drop(self.mlp(self.ln_mlp(x))), weights


def aspect_loss(logits: torch.Tensor, aspects: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy of (B, n_aspects * 4) severity logits against (B, n_aspects) labels (-1 ignored), optionally
    weighted per (aspect, severity) and normalised by the weights used, as ``F.cross_entropy(weight=...)`` is."""
    flat, target = logits.reshape(-1, 4), aspects.reshape(-1)
    if weights is None:
        return F.cross_entropy(flat, target, ignore_index=-1)
    known = target >= 0
    which = torch.arange(aspects.shape[1], device=aspects.device).repeat(aspects.shape[0])[known]
    w = weights.to(flat.device)[which, target[known]]
    per = F.cross_entropy(flat[known].float(), target[known], reduction="none")
    return (w * per).sum() / w.sum()


class Captioner(nn.Module):
    """``forward(images, tokens)`` -> next-word logits; see :mod:`radscribe.iqagpt.decode` for generation."""

    def __init__(self, cfg: CaptionerConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.encoder = CNNEncoder(cfg.encoder)
        self.embed = nn.Embedding(cfg.vocab_size, d)
        self.pos = nn.Parameter(torch.zeros(1, cfg.max_len, d))
        nn.init.normal_(self.pos, std=0.02)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.layers = nn.ModuleList(DecoderLayer(d, cfg.n_heads, cfg.ff_mult, cfg.dropout) for _ in range(cfg.n_layers))
        self.ln_out = nn.LayerNorm(d)
        self.head = nn.Linear(d, cfg.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied input/output embeddings: fewer weights, same vocabulary geometry
        if cfg.aux_weight > 0:
            # Like BLIP's extra objectives, these shape the image encoder faster than the word loss alone;
            # they are never used to produce an output: the score still comes from the caption.
            self.aux = nn.Linear(d, 1 + 6 * 4)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)[0]

    def memory_kv(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per-layer image keys/values: computed once per image, reused at every generation step."""
        return [layer.memory_kv(memory) for layer in self.layers]

    def decode(self, memory: torch.Tensor, tokens: torch.Tensor, pad_mask: torch.Tensor | None = None,
               need_cross: bool = False, mem_kv=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) for tokens (B, T) given image tokens; optional last-layer cross-attention (B, T, N)."""
        t = tokens.shape[1]
        mem_kv = mem_kv if mem_kv is not None else self.memory_kv(memory)
        x = self.embed(tokens) + self.pos[:, :t]
        mask = torch.ones(t, t, dtype=torch.bool, device=tokens.device).triu(1)[None, None]
        if pad_mask is not None:
            mask = mask | pad_mask[:, None, None, :]
        weights = None
        for i, layer in enumerate(self.layers):
            x, w = layer(x, mem_kv[i], mask, need_cross=need_cross and i == len(self.layers) - 1)
            weights = w if w is not None else weights
        return self.head(self.ln_out(x)), weights

    def step(self, token: torch.Tensor, position: int, mem_kv, caches: list[dict]) -> torch.Tensor:
        """Next-word logits (B, V) for one new token per row, using and extending ``caches``."""
        x = self.embed(token[:, None]) + self.pos[:, position:position + 1]
        for layer, kv, cache in zip(self.layers, mem_kv, caches):
            x, _ = layer(x, kv, None, cache=cache)
        return self.head(self.ln_out(x))[:, 0]

    def forward(self, images: torch.Tensor, tokens: torch.Tensor, pad_id: int = 0) -> torch.Tensor:
        return self.decode(self.encode(images), tokens, pad_mask=tokens == pad_id)[0]

    def loss(self, images: torch.Tensor, tokens: torch.Tensor, pad_id: int = 0, scores: torch.Tensor | None = None,
             aspects: torch.Tensor | None = None, soft_targets: torch.Tensor | None = None,
             aspect_weights: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced next-word cross-entropy (padding ignored), plus the auxiliary terms when configured.

        ``soft_targets`` (V, V): row ``t`` is the distribution to learn where the next word is ``t`` (one-hot
        for most words; spread over neighbouring values for score numbers, so 3.4 for 3.6 costs less than 0.0).
        ``aspect_weights`` (n_aspects, 4): the auxiliary aspect head's cross-entropy weight per aspect and severity.
        """
        memory, pooled = self.encoder(images)
        logits = self.decode(memory, tokens[:, :-1], pad_mask=tokens[:, :-1] == pad_id)[0]
        target = tokens[:, 1:]
        if soft_targets is None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=pad_id)
        else:
            flat, words = logits.reshape(-1, logits.shape[-1]), target.reshape(-1)
            per_word = F.cross_entropy(flat, words, reduction="none")
            spread = (soft_targets.diagonal() < 1)[words]  # only score numbers: a few rows, not the whole (B, T, V)
            if spread.any():
                soft = -(soft_targets[words[spread]] * flat[spread].float().log_softmax(-1)).sum(-1)
                per_word = per_word.masked_scatter(spread, soft.to(per_word.dtype))
            loss = per_word[words != pad_id].mean()
        if self.cfg.aux_weight > 0 and scores is not None:
            out = self.aux(pooled)
            aux = F.smooth_l1_loss(out[:, 0], scores)
            if aspects is not None and (aspects >= 0).any():
                aux = aux + aspect_loss(out[:, 1:], aspects, aspect_weights)
            loss = loss + self.cfg.aux_weight * aux
        return loss

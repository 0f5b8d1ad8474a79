"""A small CNN image encoder trained from scratch (no pretrained weights exist offline).

(B, 2, 256, 256) -> (B, 16*16, dim) image tokens with a learned position embedding.
A 4x4-patch stem (every pixel seen once: noise texture survives as per-patch filter responses),
then stride-2 stages with a residual block each. About 110 M multiply-adds per slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from radscribe.iqagpt.models.ring import with_ring


@dataclass
class EncoderConfig:
    in_channels: int = 2
    widths: tuple[int, ...] = (24, 48, 96)  # the stem, then one stride-2 stage per further width
    stem_stride: int = 4  # first layer: non-overlapping 4x4 patches (sees every pixel, 1/16 of the cost of full res)
    res_from: int = 1  # residual blocks from this stage on (earlier, larger maps cost the most)
    input_size: int = 256
    # append the fixed ring map (models/ring.py) as one more input channel: the encoders called 88-100% of
    # mild and moderate rings "none", though the map separates them from the same input (docs/iqagpt.md)
    ring_channel: bool = False

    @property
    def dim(self) -> int:
        return self.widths[-1]

    @property
    def grid(self) -> int:
        return self.input_size // (self.stem_stride * 2 ** (len(self.widths) - 1))


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.GELU(),
            nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch),
        )
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class CNNEncoder(nn.Module):
    """Image -> grid of tokens. ``forward`` returns (tokens (B, N, dim), pooled (B, dim))."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = []
        ch = cfg.in_channels + int(cfg.ring_channel)
        for i, width in enumerate(cfg.widths):
            if i == 0 and cfg.stem_stride != 2:
                conv = nn.Conv2d(ch, width, cfg.stem_stride, stride=cfg.stem_stride, bias=False)
            else:
                conv = nn.Conv2d(ch, width, 3, stride=2, padding=1, bias=False)
            layers += [conv, nn.BatchNorm2d(width), nn.GELU()]
            if i >= cfg.res_from:
                layers.append(ResBlock(width))
            ch = width
        self.stem = nn.Sequential(*layers)
        self.pos = nn.Parameter(torch.zeros(1, cfg.grid * cfg.grid, cfg.dim))
        self.norm = nn.LayerNorm(cfg.dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = with_ring(x, self.cfg.ring_channel, self.cfg.in_channels)  # unless training added it already
        feat = self.stem(x)  # (B, dim, g, g)
        pooled = feat.mean(dim=(2, 3))
        tokens = feat.flatten(2).transpose(1, 2) + self.pos
        return self.norm(tokens), pooled

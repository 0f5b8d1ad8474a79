"""A small CNN image encoder trained from scratch (no pretrained weights exist offline).

(B, C, 256, 256) -> (B, 16*16, dim) image tokens with a learned position embedding.
A 4x4-patch stem (every pixel seen once: noise texture survives as per-patch filter responses),
then stride-2 stages with a residual block each. About 110 M multiply-adds per slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from radscribe.errors import ConfigError
from radscribe.iqagpt.models.ring import with_ring
from radscribe.iqagpt.preprocess import WINDOWS, resolve_windows


@dataclass
class EncoderConfig:
    in_channels: int | None = None  # = len(windows); kept because saved configs name it
    widths: tuple[int, ...] = (24, 48, 96)  # the stem, then one stride-2 stage per further width
    stem_stride: int = 4  # first layer: non-overlapping 4x4 patches (sees every pixel, 1/16 of the cost of full res)
    res_from: int = 1  # residual blocks from this stage on (earlier, larger maps cost the most)
    input_size: int = 256
    # append the fixed ring map (models/ring.py) as one more input channel: the encoders called 88-100% of
    # mild and moderate rings "none", though the map separates them from the same input (docs/iqagpt-experiments.md)
    ring_channel: bool = False
    # the display windows the slice is fed through, one input channel each (iqagpt/preprocess.py), kept as
    # values ("W350/L40"); the first must be the soft-tissue window when the ring map is on (it reads channel 0)
    windows: tuple[str, ...] = WINDOWS

    def __post_init__(self) -> None:
        self.windows = resolve_windows(self.windows)
        self.widths = tuple(self.widths)
        if self.in_channels is None:
            self.in_channels = len(self.windows)
        if self.in_channels != len(self.windows):
            raise ConfigError(f"encoder in_channels {self.in_channels} does not match its windows {list(self.windows)}")
        if self.ring_channel and self.windows[0] != resolve_windows(["ldct"])[0]:
            raise ConfigError(f"the ring map reads the first window, which must be 'ldct', got {self.windows[0]!r}")

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

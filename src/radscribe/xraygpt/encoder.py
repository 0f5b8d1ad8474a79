"""The visual encoder: a small CNN trained here MedCLIP-style, then frozen.

It returns a grid of visual tokens (``tokens``: ``grid*grid`` vectors, what the projection maps
into the LLM) and a pooled, L2-normalised image embedding (``embed``: what the contrastive loss and
nearest-neighbour retrieval use). The preprocessing lives here too, so a checkpoint's encoder and
its input size cannot be mismatched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

PIXEL_MEAN = 0.5
PIXEL_STD = 0.25


@dataclass(frozen=True)
class EncoderConfig:
    """Architecture of the CNN; defaults run on 2 CPU cores."""

    image_size: int = 128
    widths: tuple[int, ...] = (32, 64, 128, 192)
    token_dim: int = 256  # width of each visual token
    grid: int = 4  # tokens = grid * grid
    embed_dim: int = 128  # shared image-text space of the contrastive loss

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "EncoderConfig":
        return cls(**{**data, "widths": tuple(data["widths"])})

    @property
    def n_tokens(self) -> int:
        return self.grid * self.grid


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.GELU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.GELU(),
    )


class VisualEncoder(nn.Module):
    """(B, 1, S, S) in [normalised] -> tokens (B, grid*grid, token_dim) and embed (B, embed_dim)."""

    def __init__(self, config: EncoderConfig = EncoderConfig()):
        super().__init__()
        self.config = config
        chans = (1, *config.widths)
        self.stem = nn.Sequential(*[_block(a, b) for a, b in zip(chans[:-1], chans[1:])])
        self.to_tokens = nn.Conv2d(config.widths[-1], config.token_dim, 1)
        self.pool = nn.AdaptiveAvgPool2d(config.grid)
        self.to_embed = nn.Linear(config.token_dim, config.embed_dim)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fmap = self.to_tokens(self.stem(images))
        tokens = self.pool(fmap).flatten(2).transpose(1, 2)  # (B, grid*grid, token_dim)
        embed = F.normalize(self.to_embed(tokens.mean(1)), dim=-1)
        return tokens, embed


def to_unit_range(pixels: np.ndarray, units: str = "display") -> np.ndarray:
    """Display values stay in [0, 1]; raw values (plain PNG, uncalibrated) are stretched by percentiles."""
    pixels = np.asarray(pixels, dtype=np.float32)
    if units == "display" and pixels.min() >= 0.0 and pixels.max() <= 1.0:
        return pixels
    lo, hi = np.percentile(pixels, [0.5, 99.5])
    if hi <= lo:
        return np.zeros_like(pixels)
    return np.clip((pixels - lo) / (hi - lo), 0.0, 1.0)


def preprocess(pixels: np.ndarray, image_size: int) -> torch.Tensor:
    """A 2-D image in [0, 1] -> normalised (1, S, S) tensor; the image is padded to square, not distorted."""
    image = torch.as_tensor(np.asarray(pixels, dtype=np.float32))
    h, w = image.shape
    side = max(h, w)
    image = F.pad(image, ((side - w) // 2, side - w - (side - w) // 2, (side - h) // 2, side - h - (side - h) // 2))
    image = F.interpolate(image[None, None], size=(image_size, image_size), mode="bilinear", antialias=True,
                          align_corners=False)[0]
    return (image - PIXEL_MEAN) / PIXEL_STD


MIN_CROP_AREA = 0.8


def augment(batch: torch.Tensor, generator: torch.Generator | None = None, min_area: float = MIN_CROP_AREA) -> torch.Tensor:
    """Random resized crop (area ``min_area``-1) and a small brightness/contrast jitter, per image.

    XrayGPT crops down to half the area; we keep at least 80%: a half-area crop can cut away a
    costophrenic angle (effusion) or an apex (pneumothorax) while the report still names it, and
    with a few thousand training images such label noise costs more than the extra views give.
    """
    b, _, s, _ = batch.shape
    out = torch.empty_like(batch)
    for i in range(b):
        scale = min_area + (1.0 - min_area) * float(torch.rand(1, generator=generator))
        side = max(8, int(round(s * scale ** 0.5)))
        top = int(torch.randint(0, s - side + 1, (1,), generator=generator))
        left = int(torch.randint(0, s - side + 1, (1,), generator=generator))
        crop = batch[i:i + 1, :, top:top + side, left:left + side]
        out[i] = F.interpolate(crop, size=(s, s), mode="bilinear", align_corners=False)[0]
    gain = 1.0 + 0.1 * (torch.rand(b, 1, 1, 1, generator=generator) - 0.5)
    bias = 0.1 * (torch.rand(b, 1, 1, 1, generator=generator) - 0.5)
    return out * gain + bias

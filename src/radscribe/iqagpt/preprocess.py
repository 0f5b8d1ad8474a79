"""The one fixed preprocessing every IQAGPT model (captioner and baselines) sees.

HU slice (any size) -> float32 tensor (n_windows, 256, 256) in [0, 1]:

1. pad to a square with air (-1024 HU), centred, so anatomy keeps its aspect ratio;
2. windows as channels, by default two: ``ldct`` W350/L40 (LDCTIQAC's reading window: noise and
   streaks in soft tissue) and ``lung`` W1500/L-600 (wide: rings and motion outside soft tissue).
   A model may add ``metal`` W1000/L2500 (the shipped checkpoint does): in the other two an implant is as
   white as bone, so a model cannot tell a clip from a rib (its encoder config names its windows);
3. area-resize to 256 x 256 (mean of the pixels each output pixel covers; a 512 slice becomes
   2 x 2 block means);
4. 8-bit quantisation (what a reader sees on screen), so cached training data and inference agree.

The windows are applied before resizing so one metal pixel cannot swamp its block mean.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from radscribe.io import apply_window, get_window

PREPROCESS_VERSION = "iqagpt-preprocess/1.0"
INPUT_SIZE = 256
#: The default input windows (every checkpoint made before windows were a model setting has these).
WINDOWS: tuple[str, ...] = ("ldct", "lung")
AIR_HU = -1024.0


def resolve_windows(windows) -> tuple[str, ...]:
    """Window names or specs -> their values as ``W350/L40`` strings: what a checkpoint stores, so a preset
    changed later cannot silently change a trained model's input."""
    return tuple(str(get_window(w)) for w in windows)


def pad_square(hu: np.ndarray, fill: float = AIR_HU) -> np.ndarray:
    """Centre ``hu`` on a square canvas of air."""
    rows, cols = hu.shape
    n = max(rows, cols)
    if rows == cols:
        return hu
    out = np.full((n, n), fill, dtype=np.float32)
    r0, c0 = (n - rows) // 2, (n - cols) // 2
    out[r0:r0 + rows, c0:c0 + cols] = hu
    return out


def preprocess_uint8(hu: np.ndarray, size: int = INPUT_SIZE, windows: tuple[str, ...] = WINDOWS) -> np.ndarray:
    """HU slice -> uint8 array (len(windows), size, size); see the module docstring."""
    square = pad_square(np.asarray(hu, dtype=np.float32))
    channels = np.stack([apply_window(square, w) for w in windows])
    tensor = torch.from_numpy(channels)[None]
    if tensor.shape[-1] != size:
        # "area" = exact block means when the size divides; antialiased bilinear otherwise (and when enlarging).
        if tensor.shape[-1] % size == 0:
            tensor = F.interpolate(tensor, size=(size, size), mode="area")
        else:
            tensor = F.interpolate(tensor, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return (tensor[0].clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).numpy()


def to_model_input(batch_uint8: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float32 in [0, 1], the tensor the encoders take."""
    tensor = torch.as_tensor(batch_uint8)
    return tensor.float().div_(255.0)

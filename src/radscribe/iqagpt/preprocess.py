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

A channel may also be a window's **fine detail**, ``NAME:hv`` or ``NAME:d``: what step 3 throws away. The
windowed slice at twice the input size (a 512 slice as it is) is split into 2 x 2 blocks, a first-level Haar
transform: the block mean is the ordinary channel, and its three detail bands are kept as two magnitudes,
``hv`` = sqrt(LH^2 + HL^2) (edges across rows and columns) and ``d`` = |HH| (diagonal, mostly noise grain).
Magnitudes, not signed bands, so flips and transposes (training augmentation) leave them true. A slice with
no more pixels than the input grid has no finer detail: those channels are 0, as they are for air.

A channel may also be the **pixel size**, constant over the image: ``mm:input`` (millimetres per pixel of the
256 input: the field of view / 256) or ``mm:native`` (the slice's own pixel spacing). Every threshold of the
annotation protocol is physical (noise at a 0.7 mm reference spacing, blur and motion in mm), and the same
edge spans twice the pixels on a field half as wide: without these a model must guess the scale from the
anatomy. Such a model needs each slice's spacing (DICOM and NIfTI carry it; a PNG does not).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from radscribe.errors import ConfigError
from radscribe.io import apply_window, get_window
from radscribe.io.windowing import to_uint8

PREPROCESS_VERSION = "iqagpt-preprocess/1.0"
INPUT_SIZE = 256
#: The default input windows (every checkpoint made before windows were a model setting has these).
WINDOWS: tuple[str, ...] = ("ldct", "lung")
AIR_HU = -1024.0


#: Fine-detail bands a channel may name after its window ("ldct:hv"); see the module docstring.
DETAIL_BANDS: tuple[str, ...] = ("hv", "d")
#: Detail magnitude (window units) -> channel value: 0.25 of a window saturates (87 HU in ldct, 375 in lung);
#: noise grain of 50 HU SD reads about 0.5 in ldct, and one grey level is 0.34 HU there.
DETAIL_GAIN = 4.0


#: Pixel-size channels and the spacing (mm) each maps to the middle grey: value = 0.5 + log2(mm / ref) / 4,
#: so 1/4 to 4 times the reference fills 0..1 (1 grey level = 1.1% in size). Checkpoints store only the names:
#: a different encoding needs a new name, never a changed number here (nor a changed DETAIL_GAIN above).
PIXEL_CHANNELS: dict[str, float] = {"mm:input": 1.4, "mm:native": 0.7}


def pixel_channel_value(spec: str, native_mm: float, native_n: int, size: int) -> float:
    """The constant of a pixel-size channel for a square slice of ``native_n`` pixels of ``native_mm``."""
    mm = native_mm * native_n / size if spec == "mm:input" else native_mm
    return float(np.clip(0.5 + np.log2(mm / PIXEL_CHANNELS[spec]) / 4.0, 0.0, 1.0))


def split_channel(spec: str) -> tuple[str, str | None]:
    """``"ldct:hv"`` -> ("ldct", "hv"); ``"ldct"`` -> ("ldct", None); ``"mm:input"`` -> ("mm:input", "mm").
    An unknown band is a ConfigError."""
    if str(spec).strip().lower() in PIXEL_CHANNELS:
        return str(spec).strip().lower(), "mm"
    window, sep, band = str(spec).partition(":")
    if sep and band.strip().lower() not in DETAIL_BANDS:
        raise ConfigError(f"unknown detail band in {spec!r}: use WINDOW:{' or WINDOW:'.join(DETAIL_BANDS)}")
    return window.strip(), (band.strip().lower() if sep else None)


def resolve_windows(windows) -> tuple[str, ...]:
    """Window names or specs -> their values as ``W350/L40`` strings (``W350/L40:hv`` for a detail channel):
    what a checkpoint stores, so a preset changed later cannot silently change a trained model's input."""
    out = []
    for spec in windows:
        window, band = split_channel(spec)
        out.append(window if band == "mm" else str(get_window(window)) + (f":{band}" if band else ""))
    return tuple(out)


def needs_spacing(windows) -> bool:
    """Does this channel list include a pixel-size channel (so every slice needs its pixel spacing)?"""
    return any(split_channel(w)[1] == "mm" for w in windows)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """(B, C, n, n) -> (B, C, size, size): "area" (exact block means) when ``size`` divides n, antialiased
    bilinear otherwise (and when enlarging)."""
    n = x.shape[-1]
    if n == size:
        return x
    if n % size == 0:
        return F.interpolate(x, size=(size, size), mode="area")
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def fine_detail(windowed: torch.Tensor, size: int) -> torch.Tensor:
    """(C, n, n) windowed slice in [0, 1] -> (C, 2, size, size): the ``hv`` and ``d`` magnitudes of its 2 x 2
    blocks at twice ``size`` (zeros when n <= size: nothing finer than the input grid was recorded)."""
    channels, n = windowed.shape[0], windowed.shape[-1]
    if n <= size:
        return windowed.new_zeros(channels, 2, size, size)
    blocks = resize(windowed[None], 2 * size)[0].reshape(channels, size, 2, size, 2)
    a, b, c, d = blocks[:, :, 0, :, 0], blocks[:, :, 0, :, 1], blocks[:, :, 1, :, 0], blocks[:, :, 1, :, 1]
    lh, hl, hh = (a + b - c - d) / 2, (a - b + c - d) / 2, (a - b - c + d) / 2
    return torch.stack([torch.sqrt(lh * lh + hl * hl), hh.abs()], dim=1)


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


def preprocess_uint8(hu: np.ndarray, size: int = INPUT_SIZE, windows: tuple[str, ...] = WINDOWS,
                     spacing_mm: float | None = None) -> np.ndarray:
    """HU slice -> uint8 array (len(windows), size, size); see the module docstring. ``spacing_mm`` (the
    slice's pixel spacing) is needed only by pixel-size channels."""
    square = pad_square(np.asarray(hu, dtype=np.float32))
    specs = [split_channel(w) for w in windows]
    pixel = {w: pixel_channel_value(w, spacing_mm, square.shape[0], size) for w, band in specs
             if band == "mm" and spacing_mm is not None}
    if any(band == "mm" for _, band in specs) and not pixel:
        raise ConfigError("this model reads the pixel size (mm:input / mm:native channels) and the slice has no "
                          "pixel spacing: PNG and TIFF carry none; pass --pixel-spacing MM")
    names = list(dict.fromkeys(w for w, band in specs if band != "mm"))  # each window once, also for its detail
    coarse = detail = None
    if names:
        windowed = np.stack([apply_window(square, w) for w in names])
        # numpy for a slice already on the input grid: these per-slice operations are too small for torch's
        # threads, which cost 1-8 ms a slice in wake-ups on a busy 2-core machine (measured), more than the work
        coarse = windowed if windowed.shape[-1] == size else resize(torch.from_numpy(windowed)[None], size)[0].numpy()
        if any(band in DETAIL_BANDS for _, band in specs):
            detail = fine_detail(torch.from_numpy(windowed), size).numpy() * np.float32(DETAIL_GAIN)
    out = np.empty((len(specs), size, size), np.uint8)
    for i, (w, band) in enumerate(specs):
        if band == "mm":
            out[i] = to_uint8(np.float32(pixel[w]))  # float32 like the image channels: cache and inference agree
        elif band is None:
            out[i] = to_uint8(coarse[names.index(w)])
        else:
            out[i] = to_uint8(detail[names.index(w), DETAIL_BANDS.index(band)])
    return out


def to_model_input(batch_uint8: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float32 in [0, 1], the tensor the encoders take."""
    tensor = torch.as_tensor(batch_uint8)
    return tensor.float().div_(255.0)

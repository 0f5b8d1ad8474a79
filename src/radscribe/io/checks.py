"""Input validation shared by every reader: size limits and pixel sanity.

The pixel limit is checked from the header, before the pixels are decoded, so a
huge file is refused in bounded memory. Override it with the environment
variable ``RADSCRIBE_MAX_PIXELS`` (pixels per slice).
"""

from __future__ import annotations

import os

import numpy as np

from radscribe.errors import ConfigError, ImageTooLargeError, InvalidPixelDataError

DEFAULT_MAX_PIXELS = 64_000_000  # a 8000x8000 slice; full-field mammograms are ~30 MP
MIN_SIDE = 16


def max_pixels() -> int:
    raw = os.environ.get("RADSCRIBE_MAX_PIXELS")
    if raw is None:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(float(raw))
    except ValueError:
        raise ConfigError(f"RADSCRIBE_MAX_PIXELS={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"RADSCRIBE_MAX_PIXELS={raw!r} must be positive")
    return value


def check_dimensions(path: str, rows: int, cols: int, frames: int = 1) -> None:
    """Refuse degenerate or over-limit images before decoding any pixels."""
    if rows < MIN_SIDE or cols < MIN_SIDE:
        raise InvalidPixelDataError(path, f"image is {cols}x{rows} pixels; at least {MIN_SIDE}x{MIN_SIDE} is needed")
    limit = max_pixels()
    if rows * cols > limit:
        raise ImageTooLargeError(
            path,
            f"image is {cols}x{rows} = {rows * cols / 1e6:.1f} MP per slice, over the limit of {limit / 1e6:.1f} MP "
            "(raise it with RADSCRIBE_MAX_PIXELS if you mean it)",
        )
    if frames > 1 and rows * cols * frames > 16 * limit:
        raise ImageTooLargeError(path, f"{frames} frames of {cols}x{rows} exceed {16 * limit / 1e6:.0f} MP in total")


def check_pixels(path: str, pixels: np.ndarray, what: str = "image") -> None:
    """Refuse NaN/inf values, which would silently poison every downstream number."""
    finite = np.isfinite(pixels)
    if not finite.all():
        bad = int(pixels.size - finite.sum())
        raise InvalidPixelDataError(path, f"{what} has {bad} NaN or infinite pixel values")

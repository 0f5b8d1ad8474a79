"""Atomic writers: a crash never leaves a half-written result behind.

Every output goes to a temporary file in the target folder and is moved into
place with ``os.replace`` (atomic on POSIX within one file system).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

import numpy as np
from PIL import Image, PngImagePlugin

# Our 16-bit PNGs store HU + HU_PNG_OFFSET, and say so in a tEXt chunk the reader honours.
HU_PNG_OFFSET = 1024
HU_PNG_KEY = "radscribe-units"
HU_PNG_VALUE = f"HU+{HU_PNG_OFFSET}"
# ... and may carry the pixel spacing, so a pixel-size model can read our PNGs like DICOM.
HU_PNG_SPACING_KEY = "radscribe-pixel-spacing-mm"


# Read once: os.umask can only be read by setting it.
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary sibling of ``path``; on success it replaces ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results should get the usual permissions
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_json(path: str | Path, obj: object) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def write_png_atomic(path: str | Path, array: np.ndarray, text: dict[str, str] | None = None) -> None:
    """Write an 8-bit (uint8) or 16-bit (uint16) greyscale, or 8-bit RGB, PNG atomically."""
    arr = np.ascontiguousarray(array)
    if arr.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"write_png_atomic needs uint8 or uint16, got {arr.dtype}")
    image = Image.fromarray(arr)
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    with atomic_open(path, "wb") as handle:
        image.save(handle, format="PNG", pnginfo=info)


def write_hu_png(path: str | Path, hu: np.ndarray, pixel_spacing_mm: float | None = None) -> None:
    """Store a HU slice losslessly (to 1 HU) as 16-bit PNG of HU + 1024, tagged so radscribe reads it back as HU
    (and, when given, with its square pixel spacing in mm)."""
    stored = np.clip(np.rint(np.asarray(hu, dtype=np.float64) + HU_PNG_OFFSET), 0, 65535).astype(np.uint16)
    text = {HU_PNG_KEY: HU_PNG_VALUE}
    if pixel_spacing_mm is not None:
        if not (np.isfinite(pixel_spacing_mm) and pixel_spacing_mm > 0):
            raise ValueError(f"pixel spacing must be a positive number of mm, got {pixel_spacing_mm}")
        text[HU_PNG_SPACING_KEY] = f"{float(pixel_spacing_mm):.6g}"
    write_png_atomic(path, stored, text=text)

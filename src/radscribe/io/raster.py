"""PNG, JPEG and TIFF: 8- or 16-bit, grey or RGB, optionally declared as HU.

Pixel values mean nothing physical in these formats unless the user says so
(``HUMapping``) or the file is one of ours (tagged ``radscribe-units: HU+1024``). Only our own PNGs give a
pixel spacing (``radscribe-pixel-spacing-mm``): a PNG's or TIFF's dpi is a screen's, not the scanner's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, UnidentifiedImageError

from radscribe.errors import UnreadableImageError, UnsupportedImageError
from radscribe.io.checks import check_dimensions, check_pixels
from radscribe.io.image import ImageMeta, MedicalImage
from radscribe.io.writers import HU_PNG_KEY, HU_PNG_OFFSET, HU_PNG_SPACING_KEY, HU_PNG_VALUE

TIFF_SUFFIXES = {".tif", ".tiff"}


@dataclass(frozen=True)
class HUMapping:
    """Declares that stored values are HU after ``value * slope + intercept`` (LDCTIQAC TIFFs: slope 1, intercept 0)."""

    slope: float = 1.0
    intercept: float = 0.0


RADSCRIBE_PNG = HUMapping(1.0, -HU_PNG_OFFSET)


def read_raster(path: str | Path, hu: HUMapping | None = None) -> list[MedicalImage]:
    source = str(path)
    spacing = None
    if Path(path).suffix.lower() in TIFF_SUFFIXES:
        pages, tagged = _read_tiff(source), False
    else:
        pages, tagged, spacing = _read_pil(source)
    if hu is None and tagged:
        hu = RADSCRIBE_PNG
    images = []
    for index, stored in enumerate(pages):
        grey = _to_grey(source, stored)
        pixels = grey * np.float32(hu.slope) + np.float32(hu.intercept) if hu else grey
        check_pixels(source, pixels)
        meta = ImageMeta(
            source=source,
            format="raster",
            units="HU" if hu else "raw",
            modality="CT" if hu else None,
            pixel_spacing=(spacing, spacing) if spacing else None,
            photometric=f"{stored.dtype.name}x{1 if stored.ndim == 2 else stored.shape[-1]}",
            frame=index,
            n_frames=len(pages),
            extra={"stored_dtype": stored.dtype.name},
        )
        images.append(MedicalImage(pixels.astype(np.float32, copy=False), meta))
    return images


def _read_pil(source: str) -> tuple[list[np.ndarray], bool, float | None]:
    # Our own limit (checked from the header) replaces PIL's decompression-bomb guard,
    # which would otherwise refuse with its own message (or allow more than ours).
    saved_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(source) as image:
                check_dimensions(source, image.height, image.width)
                tagged = image.info.get(HU_PNG_KEY) == HU_PNG_VALUE
                spacing = _our_spacing(source, image.info.get(HU_PNG_SPACING_KEY)) if tagged else None
                array = _pil_array(image)
        except (UnidentifiedImageError, Image.DecompressionBombError) as error:
            raise UnreadableImageError(source, f"not a readable PNG/JPEG image ({error})") from None
        except OSError as error:
            raise UnreadableImageError(source, f"corrupt or truncated image ({error})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved_limit
    return [array], tagged, spacing


def _our_spacing(source: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        mm = float(text)
    except ValueError:
        mm = float("nan")
    if not (np.isfinite(mm) and mm > 0):
        raise UnreadableImageError(source, f"{HU_PNG_SPACING_KEY} is {text!r}, not a positive number of mm")
    return mm


def _pil_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L"):
        return np.asarray(image, dtype=np.uint16)
    if image.mode in ("I", "F", "L", "RGB"):
        return np.asarray(image)
    if image.mode in ("LA", "RGBA", "P", "PA", "CMYK", "YCbCr", "1"):
        return np.asarray(image.convert("RGB" if image.mode not in ("LA", "1") else "L"))
    raise UnsupportedImageError(image.filename, f"unsupported PNG/JPEG pixel mode {image.mode}")


def _read_tiff(source: str) -> list[np.ndarray]:
    try:
        with tifffile.TiffFile(source) as tif:
            pages = []
            for page in tif.pages:
                shape = page.shape
                check_dimensions(source, shape[0], shape[1] if len(shape) > 1 else 1)
                pages.append(page.asarray())
            return pages
    except (tifffile.TiffFileError, ValueError, OSError) as error:
        raise UnreadableImageError(source, f"not a readable TIFF ({error})") from None


def _to_grey(source: str, stored: np.ndarray) -> np.ndarray:
    """Grey stays as is; RGB(A) becomes ITU-R BT.601 luma (identical channels pass through exactly)."""
    if stored.ndim == 2:
        return stored.astype(np.float32)
    if stored.ndim == 3 and stored.shape[-1] in (3, 4):
        rgb = stored[..., :3].astype(np.float32)
        if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
            return rgb[..., 0]
        return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    raise UnsupportedImageError(source, f"unsupported pixel array shape {stored.shape}")

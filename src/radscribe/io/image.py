"""The one in-memory image type every part of radscribe passes around."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class ImageMeta:
    """What we know about where a 2-D slice came from.

    ``units`` says what the pixel values mean:
      * ``"HU"``: Hounsfield units (CT after rescale, or a file declared HU).
      * ``"raw"``: stored values after the modality LUT, not calibrated (MR, US, plain PNG).
      * ``"display"``: values already mapped for display (CR/DX after VOI LUT and
        MONOCHROME1 inversion): larger is brighter.
    """

    source: str
    format: str  # "dicom" | "nifti" | "nrrd" | "raster"
    units: str = "raw"
    modality: str | None = None
    body_part: str | None = None
    pixel_spacing: tuple[float, float] | None = None  # (row, column) mm
    slice_thickness: float | None = None
    slice_position: float | None = None  # mm along the slice normal; used to sort series
    kvp: float | None = None
    exposure_mas: float | None = None
    photometric: str | None = None
    transfer_syntax: str | None = None
    frame: int = 0  # index within a multi-frame file or volume
    n_frames: int = 1
    study_uid: str | None = None
    series_uid: str | None = None
    sop_uid: str | None = None
    window: tuple[float, float] | None = None  # (center, width) stored in the file, if any
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MedicalImage:
    """A single 2-D slice: float32 pixels (rows, cols) plus metadata."""

    pixels: np.ndarray
    meta: ImageMeta

    @property
    def shape(self) -> tuple[int, int]:
        return self.pixels.shape  # type: ignore[return-value]

    @property
    def is_hu(self) -> bool:
        return self.meta.units == "HU"

    @property
    def spacing_mm(self) -> float | None:
        """Mean of the row and column pixel spacing in mm, or None when the file carries none (PNG, TIFF)."""
        spacing = self.meta.pixel_spacing
        return float(np.mean(spacing)) if spacing else None

    @property
    def label(self) -> str:
        """``path`` or ``path#frame`` for multi-slice sources, used in messages and outputs."""
        return self.meta.source if self.meta.n_frames == 1 else f"{self.meta.source}#{self.meta.frame}"

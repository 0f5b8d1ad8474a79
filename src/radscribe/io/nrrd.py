"""NRRD volumes (3D Slicer, pyradiomics, ITK) to axial slices, displayed radiologically.

NRRD carries no modality and no rescale: a CT volume stores HU directly (``units="HU"``, the default);
anything else is read with ``units="raw"``. Axis-aligned volumes only (oblique ones are refused).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radscribe.errors import UnreadableImageError, UnsupportedImageError
from radscribe.io.checks import check_dimensions, check_pixels
from radscribe.io.image import ImageMeta, MedicalImage

NRRD_SUFFIXES = (".nrrd",)
# unit vector of each anatomical space's first, second and third axis in LPS (+x left, +y posterior, +z up)
_SPACES = {
    "left-posterior-superior": (1, 1, 1), "LPS": (1, 1, 1),
    "right-anterior-superior": (-1, -1, 1), "RAS": (-1, -1, 1),
    "left-anterior-superior": (1, -1, 1), "LAS": (1, -1, 1),
}


def read_nrrd(path: str | Path, units: str = "HU") -> list[MedicalImage]:
    """Axial slices of a 2-D or 3-D NRRD volume: anterior at the top, the patient's left on the right."""
    import nrrd  # pynrrd

    source = str(path)
    try:
        data, header = nrrd.read(source)
    except Exception as error:
        raise UnreadableImageError(source, f"not a readable NRRD file ({error})") from None
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim != 3:
        raise UnsupportedImageError(source, f"volume shape {data.shape}: radscribe reads 2-D or 3-D volumes")
    check_dimensions(source, data.shape[1], data.shape[0], data.shape[2])
    data = data.astype(np.float32)
    check_pixels(source, data, what="volume")
    spacing, signs = _axes(source, header)
    n = data.shape[2]
    origin = header.get("space origin")
    z0 = float(origin[2]) if origin is not None and len(origin) > 2 and np.isfinite(origin[2]) else 0.0
    positions = z0 + np.arange(n) * spacing[2] * signs[2]  # every supported space's third axis is superior
    # LPS index order (x, y, z) with positive steps: pixel [r, c] = data[c, r] puts posterior at the bottom
    # and the patient's left on the image's right; a negative step flips that axis first.
    data = data[:: signs[0], :: signs[1], :: signs[2]]
    positions = positions[:: signs[2]]
    return [MedicalImage(np.ascontiguousarray(data[:, :, k].T), _meta(source, spacing, k, n, units, positions[k]))
            for k in range(n)]


def _axes(source: str, header: dict) -> tuple[tuple[float, float, float], tuple[int, int, int]]:
    """Voxel spacing (x, y, z) in mm and the sign of each axis against LPS; unit spacing if none is given."""
    directions = header.get("space directions")
    space = _SPACES.get(str(header.get("space", "left-posterior-superior")))
    if space is None:
        raise UnsupportedImageError(source, f"NRRD space {header.get('space')!r} is not supported (use LPS or RAS)")
    if directions is None:
        return (1.0, 1.0, 1.0), (1, 1, 1)
    matrix = np.array([d for d in directions if d is not None and not np.any(np.isnan(d))], dtype=float)
    if matrix.shape[0] == 2:
        matrix = np.vstack([matrix, [0.0, 0.0, 1.0]])
    if matrix.shape != (3, 3):
        raise UnsupportedImageError(source, f"NRRD space directions {directions!r}: need three spatial axes")
    off = np.abs(matrix - np.diag(np.diag(matrix)))
    if off.max() > 1e-3 * np.abs(np.diag(matrix)).max():
        raise UnsupportedImageError(source, "oblique NRRD volume (non-diagonal space directions): reslice it first")
    diag = np.diag(matrix)
    signs = tuple(int(np.sign(d) * s) or 1 for d, s in zip(diag, space))
    return tuple(float(abs(d)) for d in diag), signs


def _meta(source: str, spacing, k: int, n: int, units: str, position: float) -> ImageMeta:
    return ImageMeta(
        source=source,
        format="nrrd",
        units=units,
        modality="CT" if units == "HU" else None,
        pixel_spacing=(spacing[1], spacing[0]),  # (row, column) spacing
        slice_thickness=spacing[2] if n > 1 else None,
        slice_position=float(position),
        frame=k,
        n_frames=n,
    )

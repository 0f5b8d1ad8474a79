"""NIfTI volumes to axial slices (nibabel applies scl_slope/scl_inter, giving HU for CT volumes)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from radscribe.errors import UnreadableImageError, UnsupportedImageError
from radscribe.io.checks import check_dimensions, check_pixels
from radscribe.io.image import ImageMeta, MedicalImage

NIFTI_SUFFIXES = (".nii", ".nii.gz")


def read_nifti(path: str | Path, units: str = "HU") -> list[MedicalImage]:
    """Axial slices of a 3-D volume, reoriented to RAS+ then displayed radiologically.

    ``units`` is "HU" for CT volumes (the usual case) or "raw" for anything else.
    """
    source = str(path)
    try:
        volume = nib.load(source)
    except Exception as error:
        raise UnreadableImageError(source, f"not a readable NIfTI file ({error})") from None
    shape = volume.shape
    if len(shape) < 2 or len(shape) > 4 or (len(shape) == 4 and shape[3] != 1):
        raise UnsupportedImageError(source, f"volume shape {shape}: radscribe reads 2-D or 3-D volumes")
    check_dimensions(source, shape[1], shape[0], shape[2] if len(shape) > 2 else 1)
    canonical = nib.as_closest_canonical(volume)
    try:
        data = np.asarray(canonical.dataobj, dtype=np.float32)
    except Exception as error:
        raise UnreadableImageError(source, f"cannot read voxel data ({error})") from None
    data = data.reshape(data.shape[:3]) if data.ndim > 2 else data[..., None]
    check_pixels(source, data, what="volume")
    zooms = canonical.header.get_zooms()
    n = data.shape[2]
    images = []
    for k in range(n):
        # RAS+ axes: x towards patient right, y towards anterior. Radiological display wants
        # anterior at the top and the patient's left on the image right: P[r, c] = data[X-1-c, Y-1-r].
        pixels = np.ascontiguousarray(data[::-1, ::-1, k].T)
        images.append(MedicalImage(pixels, _meta(source, canonical, k, n, units, zooms)))
    return images


def _meta(source: str, volume, k: int, n: int, units: str, zooms) -> ImageMeta:
    z = float(volume.affine[2, 3] + k * volume.affine[2, 2])
    return ImageMeta(
        source=source,
        format="nifti",
        units=units,
        modality="CT" if units == "HU" else None,
        pixel_spacing=(float(zooms[1]), float(zooms[0])),
        slice_thickness=float(zooms[2]) if len(zooms) > 2 else None,
        slice_position=z,
        frame=k,
        n_frames=n,
    )

"""DICOM reading: CT to Hounsfield units, projection radiographs to display values.

Decoding of compressed transfer syntaxes (JPEG 2000, JPEG lossless/baseline,
JPEG-LS, RLE) is delegated to pydicom's pixel backends with the pylibjpeg
plugins installed as dependencies.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from radscribe.errors import InvalidPixelDataError, UnreadableImageError, UnsupportedImageError
from radscribe.io.checks import check_dimensions, check_pixels
from radscribe.io.image import ImageMeta, MedicalImage

log = logging.getLogger(__name__)

PROJECTION_MODALITIES = {"CR", "DX", "DR", "MG", "RG", "PX", "IO"}


def _dcmread(path: str | Path, **kwargs) -> Dataset:
    # pydicom warns about every off-standard value; real archives are full of them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return pydicom.dcmread(path, **kwargs)


def read_dicom_header(path: str | Path) -> Dataset:
    """Header only (no pixel decoding). Raises UnreadableImageError for non-DICOM files."""
    try:
        return _dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        ds = _read_forced(path, stop_before_pixels=True)
        if ds is None:
            raise UnreadableImageError(path, "not a DICOM file (no 'DICM' marker and no recognisable DICOM header)") from None
        return ds
    except Exception as error:  # pydicom raises many types on truncated or garbled files
        raise UnreadableImageError(path, f"corrupt or truncated DICOM header ({_short(error)})") from None


def _read_forced(path: str | Path, stop_before_pixels: bool = False) -> Dataset | None:
    """Files without the preamble (old ACR-NEMA style) are still DICOM if they carry image attributes."""
    try:
        ds = _dcmread(path, force=True, stop_before_pixels=stop_before_pixels)
    except Exception:
        return None
    if "SOPClassUID" not in ds and "Modality" not in ds:
        return None
    if "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    return ds


def read_dicom(path: str | Path) -> list[MedicalImage]:
    """Read one DICOM file into one MedicalImage per frame."""
    source = str(path)
    # Header first (cheap): refuse oversized or colour images before reading any pixel bytes.
    header = read_dicom_header(path)
    rows, cols = int(header.get("Rows", 0) or 0), int(header.get("Columns", 0) or 0)
    frames = int(header.get("NumberOfFrames", 1) or 1)
    if rows and cols:
        check_dimensions(source, rows, cols, frames)
    if int(header.get("SamplesPerPixel", 1)) != 1:
        raise UnsupportedImageError(
            source,
            f"colour image ({header.get('PhotometricInterpretation', 'RGB')}, {_sop_name(header)}); "
            "radscribe reads greyscale CT and radiographs",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _decode(path, source, header, rows, cols, frames)


def _decode(path: str | Path, source: str, header: Dataset, rows: int, cols: int, frames: int) -> list[MedicalImage]:
    ds = _read_full(path)
    if "PixelData" not in ds or not (rows and cols):
        raise UnsupportedImageError(source, f"no pixel data in {_sop_name(header)}; nothing to show")
    try:
        stored = ds.pixel_array
    except Exception as error:
        raise UnreadableImageError(source, f"cannot decode pixel data ({_transfer_syntax(ds)}): {_short(error)}") from None
    stored = stored.reshape((frames, rows, cols)) if frames > 1 or stored.ndim == 3 else stored[None]
    modality = str(ds.get("Modality", "") or "").upper() or None
    images = []
    for index, frame in enumerate(stored):
        pixels, units = _to_values(ds, frame, index, modality)
        pixels = pixels.astype(np.float32, copy=False)
        check_pixels(source, pixels)
        images.append(MedicalImage(pixels, _meta(ds, source, index, len(stored), units, modality)))
    return images


def _sop_name(ds: Dataset) -> str:
    uid = ds.get("SOPClassUID")
    return getattr(uid, "name", None) or str(uid or "unknown object")


def _read_full(path: str | Path) -> Dataset:
    try:
        return _dcmread(path)
    except InvalidDicomError:
        ds = _read_forced(path)
        if ds is None:
            raise UnreadableImageError(path, "not a DICOM file") from None
        return ds
    except Exception as error:
        raise UnreadableImageError(path, f"corrupt or truncated DICOM ({_short(error)})") from None


def _to_values(ds: Dataset, frame: np.ndarray, index: int, modality: str | None) -> tuple[np.ndarray, str]:
    if modality == "CT":
        return _ct_to_hu(ds, frame, index), "HU"
    if modality in PROJECTION_MODALITIES:
        return _radiograph_to_display(ds, frame, index), "display"
    return apply_modality_lut(frame, ds).astype(np.float32), "raw"


def _ct_to_hu(ds: Dataset, frame: np.ndarray, index: int) -> np.ndarray:
    slope, intercept = _rescale(ds, index)
    return frame.astype(np.float32) * np.float32(slope) + np.float32(intercept)


def _rescale(ds: Dataset, index: int) -> tuple[float, float]:
    """Rescale slope/intercept: top level, or per-frame/shared functional groups (enhanced CT)."""
    if "RescaleSlope" in ds or "RescaleIntercept" in ds:
        return float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)
    for group in _functional_groups(ds, index):
        if "PixelValueTransformationSequence" in group:
            item = group.PixelValueTransformationSequence[0]
            return float(item.get("RescaleSlope", 1)), float(item.get("RescaleIntercept", 0))
    return 1.0, 0.0


def _functional_groups(ds: Dataset, index: int) -> list[Dataset]:
    groups = []
    if "PerFrameFunctionalGroupsSequence" in ds and index < len(ds.PerFrameFunctionalGroupsSequence):
        groups.append(ds.PerFrameFunctionalGroupsSequence[index])
    if "SharedFunctionalGroupsSequence" in ds:
        groups.append(ds.SharedFunctionalGroupsSequence[0])
    return groups


def _radiograph_to_display(ds: Dataset, frame: np.ndarray, index: int) -> np.ndarray:
    """Modality LUT, then VOI LUT or window, then MONOCHROME1 inversion, scaled to [0, 1] (larger = brighter)."""
    values = apply_modality_lut(frame, ds)
    if "VOILUTSequence" in ds or "WindowCenter" in ds:
        values = apply_voi_lut(values, ds, index=min(index, _n_windows(ds) - 1))
    values = np.asarray(values, dtype=np.float32)
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        raise InvalidPixelDataError(str(ds.filename), "radiograph has constant pixel values")
    unit = (values - lo) / (hi - lo)
    if str(ds.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        unit = 1.0 - unit
    return unit


def _n_windows(ds: Dataset) -> int:
    if "VOILUTSequence" in ds:
        return len(ds.VOILUTSequence)
    center = ds.get("WindowCenter")
    return len(center) if isinstance(center, pydicom.multival.MultiValue) else 1


def _meta(ds: Dataset, source: str, index: int, n_frames: int, units: str, modality: str | None) -> ImageMeta:
    spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    thickness = ds.get("SliceThickness")
    position = _slice_position(ds, index)
    for group in _functional_groups(ds, index):
        if "PixelMeasuresSequence" in group:
            measures = group.PixelMeasuresSequence[0]
            spacing = spacing or measures.get("PixelSpacing")
            thickness = thickness or measures.get("SliceThickness")
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    return ImageMeta(
        source=source,
        format="dicom",
        units=units,
        modality=modality,
        body_part=str(ds.get("BodyPartExamined", "") or "") or None,
        pixel_spacing=(float(spacing[0]), float(spacing[1])) if spacing and float(spacing[0]) > 0 else None,
        slice_thickness=float(thickness) if thickness not in (None, "") else None,
        slice_position=position,
        kvp=_float(ds.get("KVP")),
        exposure_mas=_float(ds.get("Exposure")),
        photometric=str(ds.get("PhotometricInterpretation", "")) or None,
        transfer_syntax=_transfer_syntax(ds),
        frame=index,
        n_frames=n_frames,
        study_uid=_str(ds.get("StudyInstanceUID")),
        series_uid=_str(ds.get("SeriesInstanceUID")),
        sop_uid=_str(ds.get("SOPInstanceUID")),
        window=(_first(center), _first(width)) if center is not None and width is not None else None,
        extra={"instance_number": _float(ds.get("InstanceNumber"))},
    )


def _slice_position(ds: Dataset, index: int) -> float | None:
    """Position along the slice normal (IOP row x column direction cosines) in mm."""
    position = ds.get("ImagePositionPatient")
    orientation = ds.get("ImageOrientationPatient")
    for group in _functional_groups(ds, index):
        if position is None and "PlanePositionSequence" in group:
            position = group.PlanePositionSequence[0].get("ImagePositionPatient")
        if orientation is None and "PlaneOrientationSequence" in group:
            orientation = group.PlaneOrientationSequence[0].get("ImageOrientationPatient")
    if position is not None and orientation is not None and len(orientation) == 6:
        normal = np.cross(np.asarray(orientation[:3], float), np.asarray(orientation[3:], float))
        return float(np.dot(normal, np.asarray(position, float)))
    location = ds.get("SliceLocation")
    return _float(location)


def _transfer_syntax(ds: Dataset) -> str | None:
    uid = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    return uid.name if uid is not None else None


def _first(value) -> float:
    return float(value[0]) if isinstance(value, pydicom.multival.MultiValue) else float(value)


def _float(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _str(value) -> str | None:
    return str(value) if value not in (None, "") else None


def _short(error: Exception) -> str:
    """One line from a possibly multi-line library message (pydicom lists each plugin's failure)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = "; ".join(lines) if lines else type(error).__name__
    return text if len(text) <= 240 else text[:237] + "..."

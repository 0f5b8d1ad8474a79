"""Write a SYNTHETIC CT slice as a DICOM file (HU via Rescale Slope/Intercept), deterministic UIDs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from radscribe.io.writers import atomic_open

HU_OFFSET = 1024


def write_ct_dicom(path: str | Path, hu: np.ndarray, pixel_spacing_mm: float, *, uid_key: str,
                   description: str, comments: str) -> None:
    """``uid_key`` (e.g. "seed0/slice12") fixes the UIDs, so a rebuilt dataset has the same files."""
    stored = np.clip(np.rint(np.asarray(hu, np.float64) + HU_OFFSET), 0, 65535).astype(np.uint16)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["radscribe-ctiqa", uid_key, "sop"])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["radscribe-ctiqa", uid_key, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["radscribe-ctiqa", uid_key, "series"])
    ds.Modality = "CT"
    ds.PatientName = "SYNTHETIC^PHANTOM"
    ds.PatientID = uid_key.replace("/", "-")[:64]
    ds.SeriesDescription = f"SYNTHETIC {description}"[:64]
    ds.ImageComments = f"SYNTHETIC image made by radscribe (not a patient). {comments}"[:10240]
    ds.BurnedInAnnotation = "NO"
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.Rows, ds.Columns = stored.shape
    ds.PixelSpacing = [f"{pixel_spacing_mm:.6g}", f"{pixel_spacing_mm:.6g}"]
    ds.SliceThickness = "1.0"
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = str(-HU_OFFSET)
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter, ds.WindowWidth = "40", "350"
    ds.PixelData = stored.tobytes()
    with atomic_open(path, "wb") as handle:
        pydicom.dcmwrite(handle, ds, enforce_file_format=True)

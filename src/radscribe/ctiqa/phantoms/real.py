"""Real CT slices as phantoms, and the held-out real-anatomy test split.

``real_phantoms(paths)`` turns a user's DICOM folder (anything :func:`radscribe.io.iter_images`
reads) into :class:`Phantom` objects on a square N x N grid: slices in Hounsfield units only, with
enough body to judge and no metal of their own inside it; others are skipped with a logged reason.
``heldout_real_ct_paths()`` lists the real CT slices shipped inside ``pydicom-data`` and pydicom's
test files. Those are the HELD-OUT real-anatomy test split of the CT-IQA data: evaluate on them,
never train on them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from scipy import ndimage

from radscribe import resources
from radscribe.ctiqa.phantoms.phantom import Phantom
from radscribe.errors import RadscribeError
from radscribe.io import MedicalImage, iter_images

log = logging.getLogger(__name__)

# Real CT slices shipped with pydicom-data (``data_store``) and pydicom's own test files,
# checked by reading each: modality CT, HU after rescale, at least 128 x 128 pixels.
# Lossy duplicates of the same slice (693_J2KI/693_UNCI, 693_J2KR) are left out.
HELDOUT_FILES: tuple[tuple[str, str], ...] = (
    ("pydicom-data", "693_UNCR.dcm"),  # head, 512 x 512, 0.48 mm
    ("pydicom-data", "explicit_VR-UN.dcm"),  # upper abdomen / pancreas with contrast, 0.86 mm
    ("pydicom-data", "eCT_Supplemental.dcm"),  # enhanced CT, 2 frames of a head, 0.39 mm
    ("pydicom-data", "bad_sequence.dcm"),  # spine and ribs (labelled NECK), 0.29 mm
    ("pydicom-tests", "J2K_pixelrep_mismatch.dcm"),  # head at the skull base, 0.43 mm
    ("pydicom-tests", "CT_small.dcm"),  # 128 x 128 thoracic spine detail
)
MIN_SIZE = 128  # smaller "CT" test files (16 x 16 DICOMDIR samples) are not anatomy
#: a slice with less body than this (the top of a skull, the edge of a scan) is air with a sliver of skin:
#: no quality to judge, and too little tissue to measure noise or streaks in
MIN_BODY_CM2 = 20.0
#: metal or dense contrast (fillings, clips, an undiluted bolus) at least NATIVE_METAL_DEPTH_MM inside the body
#: streaks the slice ITSELF; its own streaks would sit in the reference, which the protocol calls clean.
#: Dense objects on the skin (leads, a necklace) streak little and are kept.
NATIVE_METAL_HU = 2500.0
NATIVE_METAL_DEPTH_MM = 10.0
NATIVE_METAL_MM2 = 5.0


def heldout_real_ct_paths() -> list[Path]:
    """The real CT files that form the held-out real-anatomy TEST split (never train on them)."""
    roots = {"pydicom-data": resources.pydicom_data_dir, "pydicom-tests": resources.pydicom_test_files_dir}
    paths = []
    for root, name in HELDOUT_FILES:
        path = roots[root]() / name
        if path.is_file():
            paths.append(path)
        else:
            log.warning("held-out real CT file missing: %s", path)
    return paths


def real_phantoms(paths: Iterable[str | Path] | str | Path, size: int = 512) -> Iterator[Phantom]:
    """Yield one real (``synthetic=False``) phantom per CT slice found under ``paths``."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for path, result in iter_images(paths):
        if isinstance(result, RadscribeError):
            log.info("skipping %s: %s", path, result)
            continue
        for image in result:
            reason = _unusable(image) or _native_metal(image)
            if reason:
                log.info("skipping %s: %s", image.label, reason)
                continue
            phantom = slice_to_phantom(image, size)
            body_cm2 = float(phantom.body_mask.sum()) * phantom.pixel_spacing_mm**2 / 100.0
            if body_cm2 < MIN_BODY_CM2:
                log.info("skipping %s: only %.1f cm^2 of body (need %g): nothing to judge", image.label, body_cm2,
                         MIN_BODY_CM2)
                continue
            yield phantom


def _unusable(image: MedicalImage) -> str | None:
    if image.meta.units != "HU":
        return f"units are {image.meta.units!r}, not Hounsfield units (only CT in HU can be a phantom)"
    if min(image.shape) < MIN_SIZE:
        return f"only {image.shape[0]} x {image.shape[1]} pixels (need at least {MIN_SIZE})"
    if not np.isfinite(image.pixels).all():
        return "pixel values are not all finite"
    return None


def _native_metal(image: MedicalImage) -> str | None:
    """Why a slice's own metal disqualifies it as a clean reference, or None (measured on its native grid)."""
    hu = np.clip(image.pixels.astype(np.float32), -1000.0, 3071.0)
    dense = hu >= NATIVE_METAL_HU
    if not dense.any():
        return None
    spacing = image.meta.pixel_spacing
    if spacing is None or min(spacing) <= 0:
        spacing = (0.7, 0.7)  # as slice_to_phantom assumes
    depth = max(1, round(NATIVE_METAL_DEPTH_MM / min(spacing)))
    deep = ndimage.binary_erosion(body_mask(hu), iterations=depth)
    mm2 = float((dense & deep).sum()) * spacing[0] * spacing[1]
    if mm2 < NATIVE_METAL_MM2:
        return None
    return (f"{mm2:.0f} mm^2 of its own metal or dense contrast (>= {NATIVE_METAL_HU:g} HU, >= "
            f"{NATIVE_METAL_DEPTH_MM:g} mm inside the body): its own streaks would be labelled clean")


def slice_to_phantom(image: MedicalImage, size: int = 512) -> Phantom:
    """Resample to square pixels covering the larger field of view, pad with air to N x N."""
    hu = np.clip(image.pixels.astype(np.float32), -1000.0, 3071.0)  # padding (-2000, -3024) becomes air
    spacing = image.meta.pixel_spacing
    if spacing is None or min(spacing) <= 0:
        log.info("%s has no pixel spacing; assuming 0.7 mm", image.label)
        spacing = (0.7, 0.7)
    fov = max(hu.shape[0] * spacing[0], hu.shape[1] * spacing[1])
    new = fov / size
    zoom = (spacing[0] / new, spacing[1] / new)
    if abs(zoom[0] - 1) > 1e-3 or abs(zoom[1] - 1) > 1e-3:
        hu = ndimage.zoom(hu, zoom, order=1, mode="nearest", grid_mode=True)
    out = np.full((size, size), -1000.0, np.float32)
    rows, cols = min(hu.shape[0], size), min(hu.shape[1], size)
    r0, c0 = (size - rows) // 2, (size - cols) // 2
    out[r0 : r0 + rows, c0 : c0 + cols] = hu[:rows, :cols]
    body = body_mask(out)
    regions = {"bone": body & (out > 250), "fat": body & (out > -200) & (out < -40), "air": body & (out < -400)}
    return Phantom(
        hu=out,
        pixel_spacing_mm=float(new),
        anatomy="real",
        anatomy_id=_anatomy_id(image),
        body_mask=body,
        regions={k: v for k, v in regions.items() if v.any()},
        metal_sites=_spine_site(out, body, new),
        synthetic=False,
        info={"source": image.label, "body_part": image.meta.body_part, "fov_mm": round(fov, 1)},
    )


def body_mask(hu: np.ndarray, threshold: float = -500.0) -> np.ndarray:
    """Largest connected region above ``threshold`` (after an opening that cuts off the couch), holes filled."""
    solid = ndimage.binary_opening(hu > threshold, structure=np.ones((3, 3), bool), iterations=2)
    labels, n = ndimage.label(solid)
    if n == 0:
        return np.zeros(hu.shape, bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return ndimage.binary_fill_holes(labels == int(np.argmax(sizes)))


def _anatomy_id(image: MedicalImage) -> str:
    """``real-<patient>-f<slice>``: ``patient_of`` (dataset/writer.py) drops the ``-f`` part, so all slices of one
    DICOM study (one file per slice) or of one volume file are one patient and never split across train and test."""
    meta = image.meta
    # DICOM: the study is the patient; a file anonymised down to no study UID counts its folder as one
    patient = meta.study_uid or (f"folder-{_digest(Path(meta.source).resolve().parent)}" if meta.format == "dicom" else None)
    if patient:
        slice_key = _digest(f"{meta.sop_uid or Path(meta.source).name}/{meta.frame}")
        return f"real-{patient}-f{int(slice_key, 16)}"
    base = "sha1-" + hashlib.sha1(str(Path(meta.source).resolve()).encode()).hexdigest()[:16]  # a volume file
    return f"real-{base}" + (f"-f{meta.frame}" if meta.n_frames > 1 else "")


def _digest(value: object) -> str:
    return hashlib.sha1(str(value).encode()).hexdigest()[:12]


def _spine_site(hu: np.ndarray, body: np.ndarray, spacing: float) -> dict[str, tuple[float, float]]:
    """A trunk slice's vertebral body: the largest bone blob near the midline in the body's back half.

    Only for trunks (body at least 250 mm wide) and only when the blob is well inside the body,
    so the skull of a head slice is never called a spine. Empty when unsure.
    """
    cols = np.flatnonzero(body.any(axis=0))
    rows = np.flatnonzero(body.any(axis=1))
    if cols.size == 0 or (cols[-1] - cols[0]) * spacing < 250:
        return {}
    mid_c, mid_r = (cols[0] + cols[-1]) / 2, (rows[0] + rows[-1]) / 2
    bone = body & (hu > 200)
    band = np.zeros_like(bone)
    half = int(0.12 * (cols[-1] - cols[0]))
    band[:, max(int(mid_c) - half, 0) : int(mid_c) + half] = True
    labels, n = ndimage.label(bone & band)
    if n == 0:
        return {}
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    best = int(np.argmax(sizes))
    if sizes[best] * spacing**2 < 300:  # under 3 cm^2: not a vertebral body
        return {}
    r, c = ndimage.center_of_mass(labels == best)
    inner = ndimage.distance_transform_edt(body)[int(r), int(c)] * spacing
    if inner < 20:
        return {}
    # Back half, allowing for prone or flipped scans: just require distance from the body centre.
    if abs(r - mid_r) * spacing < 10:
        return {}
    return {"spine": (round(float(r), 2), round(float(c), 2))}

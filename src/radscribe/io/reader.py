"""One entry point for reading any supported file, and for walking folders of them."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Iterator

from radscribe.errors import NoImagesFoundError, RadscribeError, UnreadableImageError
from radscribe.io.dicom import read_dicom, read_dicom_header
from radscribe.io.image import MedicalImage
from radscribe.io.nifti import NIFTI_SUFFIXES, read_nifti
from radscribe.io.nrrd import NRRD_SUFFIXES, read_nrrd
from radscribe.io.raster import TIFF_SUFFIXES, HUMapping, read_raster

log = logging.getLogger(__name__)

RASTER_SUFFIXES = {".png", ".jpg", ".jpeg"} | TIFF_SUFFIXES
DICOM_SUFFIXES = {".dcm", ".dicom", ".ima", ""}
_MAGIC = {b"\x89PNG": "raster", b"\xff\xd8\xff": "raster", b"II*\x00": "raster", b"MM\x00*": "raster"}


def detect_format(path: str | Path) -> str:
    """'dicom' | 'nifti' | 'nrrd' | 'raster', from the name and the first bytes."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith(NIFTI_SUFFIXES):
        return "nifti"
    if name.endswith(NRRD_SUFFIXES):
        return "nrrd"
    try:
        with open(p, "rb") as handle:
            head = handle.read(132)
    except OSError as error:
        raise UnreadableImageError(p, f"cannot open ({error.strerror})") from None
    if len(head) == 0:
        raise UnreadableImageError(p, "file is empty")
    if head[128:132] == b"DICM":
        return "dicom"
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    if p.suffix.lower() in RASTER_SUFFIXES:
        return "raster"
    return "dicom"  # preamble-less DICOM exists; read_dicom says clearly if it isn't


def read_image(path: str | Path, *, hu: HUMapping | None = None, nifti_units: str = "HU") -> list[MedicalImage]:
    """Read a file into 2-D slices (one per frame or volume slice).

    ``hu`` declares that a PNG/TIFF holds HU (``HUMapping(slope, intercept)``);
    radscribe's own 16-bit PNGs are recognised without it.
    """
    kind = detect_format(path)
    if kind == "dicom":
        return read_dicom(path)
    if kind == "nifti":
        return read_nifti(path, units=nifti_units)
    if kind == "nrrd":
        return read_nrrd(path, units=nifti_units)  # volumes without a modality: same units flag as NIfTI
    return read_raster(path, hu=hu)


def expand_paths(paths: Iterable[str | Path], errors: list[RadscribeError] | None = None) -> list[Path]:
    """Files as given, and folders walked recursively for image-like files, series-ordered.

    A missing path or an empty folder raises, unless ``errors`` is given: then the error is
    appended there and the other paths are still expanded (batch mode).
    """
    files: list[Path] = []
    for raw in paths:
        try:
            files.extend(_expand_one(Path(raw)))
        except RadscribeError as error:
            if errors is None:
                raise
            errors.append(error)
    return files


def _expand_one(p: Path) -> list[Path]:
    if p.is_dir():
        found = [f for f in sorted(p.rglob("*")) if f.is_file() and _looks_like_image(f)]
        if not found:
            raise NoImagesFoundError(p, "folder holds no DICOM, NIfTI, PNG, JPEG or TIFF files")
        return order_series(found)
    if p.exists():
        return [p]
    raise UnreadableImageError(p, "no such file or folder")


def _looks_like_image(path: Path) -> bool:
    name = path.name.lower()
    if name.startswith("."):
        return False
    return name.endswith(NIFTI_SUFFIXES + NRRD_SUFFIXES) or path.suffix.lower() in RASTER_SUFFIXES | DICOM_SUFFIXES


def order_series(files: list[Path]) -> list[Path]:
    """DICOM files grouped by series and sorted by position along the slice normal; others by name.

    Only headers are read. Files whose header can't be read keep their place at the end,
    where reading them reports the error.
    """
    series: dict[str, list[tuple[float, float, Path]]] = defaultdict(list)
    others: list[Path] = []
    for f in files:
        if f.suffix.lower() not in DICOM_SUFFIXES or detect_format_safe(f) != "dicom":
            others.append(f)
            continue
        try:
            ds = read_dicom_header(f)
        except RadscribeError:
            others.append(f)
            continue
        key = str(ds.get("SeriesInstanceUID", "")) or str(f.parent)
        series[key].append((_position(ds), float(ds.get("InstanceNumber", 0) or 0), f))
    ordered = [f for key in sorted(series) for _, _, f in sorted(series[key], key=lambda t: (t[0], t[1], str(t[2])))]
    return ordered + others


def detect_format_safe(path: Path) -> str | None:
    try:
        return detect_format(path)
    except RadscribeError:
        return None


def _position(ds) -> float:
    from radscribe.io.dicom import _slice_position

    position = _slice_position(ds, 0)
    return position if position is not None else float("inf")


def iter_images(
    paths: Iterable[str | Path], *, hu: HUMapping | None = None
) -> Iterator[tuple[Path, list[MedicalImage] | RadscribeError]]:
    """Yield (file, slices) or (file, error) for each file, so a batch goes on past bad files."""
    errors: list[RadscribeError] = []
    files = expand_paths(paths, errors)
    for error in errors:
        yield Path(getattr(error, "path", "") or ""), error
    for f in files:
        try:
            yield f, read_image(f, hu=hu)
        except RadscribeError as error:
            log.debug("skipping %s: %s", f, error)
            yield f, error

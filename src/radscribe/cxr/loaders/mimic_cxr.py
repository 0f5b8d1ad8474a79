"""MIMIC-CXR-JPG as ``CxrStudy`` records.

Expected layout (as PhysioNet distributes it; reports from MIMIC-CXR unpacked into the same tree)::

    ROOT/files/p10/p10000032/s50414267/02aa804e-....jpg     one folder per study, one JPEG per image
    ROOT/files/p10/p10000032/s50414267.txt                  the free-text report of that study
    ROOT/mimic-cxr-2.0.0-split.csv(.gz)                     dicom_id, study_id, subject_id, split
    ROOT/mimic-cxr-2.0.0-chexpert.csv(.gz)                  subject_id, study_id, 14 CheXpert columns
    ROOT/mimic-cxr-2.0.0-metadata.csv(.gz)                  dicom_id, ..., ViewPosition, ...

The CSVs are optional; without them ``split``, ``labels`` and ``view`` are ``None``.
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
from pathlib import Path
from typing import Iterator

from radscribe.cxr.loaders.study import CxrStudy, study_view
from radscribe.cxr.reports import Report, clean_section
from radscribe.errors import InputError, NoImagesFoundError

log = logging.getLogger(__name__)

SOURCE = "mimic-cxr"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_SECTION = re.compile(r"^\s*([A-Z][A-Z /&()-]{2,40}):", re.MULTILINE)
_SECTION_KEYS = {
    "FINDINGS": "findings",
    "IMPRESSION": "impression",
    "CONCLUSION": "impression",
    "COMPARISON": "comparison",
    "INDICATION": "indication",
    "HISTORY": "indication",
    "CLINICAL HISTORY": "indication",
}


def parse_mimic_report(text: str, report_id: str) -> Report:
    """Split a MIMIC-CXR free-text report into its FINDINGS / IMPRESSION / COMPARISON / INDICATION sections."""
    sections = {"findings": "", "impression": "", "comparison": "", "indication": ""}
    headers = list(_SECTION.finditer(text))
    for header, following in zip(headers, headers[1:] + [None]):
        key = _SECTION_KEYS.get(header.group(1).strip())
        end = following.start() if following else len(text)
        if key and not sections[key]:
            sections[key] = clean_section(text[header.end():end])
    return Report(report_id=report_id, source=SOURCE, **sections)


def _find_csv(root: Path, stem: str) -> Path | None:
    for name in (f"{stem}.csv.gz", f"{stem}.csv"):
        if (root / name).is_file():
            return root / name
    return None


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", newline="") as handle:
            return list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read this MIMIC-CXR table ({error})") from None


def _study_key(value: str) -> str:
    """CSV study ids are bare numbers; folder names carry an "s" prefix. Both map to "s<number>"."""
    value = value.strip()
    return value if value.startswith("s") else f"s{int(float(value))}" if value else value


def _label_value(raw: str) -> int | None:
    raw = (raw or "").strip()
    return int(float(raw)) if raw else None


def read_tables(root: Path) -> tuple[dict[str, str], dict[str, dict[str, int]], dict[str, str]]:
    """(split by study, CheXpert labels by study, ViewPosition by dicom id) from whichever CSVs exist."""
    splits: dict[str, str] = {}
    labels: dict[str, dict[str, int]] = {}
    views: dict[str, str] = {}
    if path := _find_csv(root, "mimic-cxr-2.0.0-split"):
        splits = {_study_key(row["study_id"]): row["split"] for row in _read_csv(path)}
    if path := _find_csv(root, "mimic-cxr-2.0.0-chexpert"):
        for row in _read_csv(path):
            values = {k: _label_value(v) for k, v in row.items() if k not in ("subject_id", "study_id")}
            labels[_study_key(row["study_id"])] = {k: v for k, v in values.items() if v is not None}
    if path := _find_csv(root, "mimic-cxr-2.0.0-metadata"):
        views = {row["dicom_id"]: (row.get("ViewPosition") or "").strip() or None for row in _read_csv(path)}
    return splits, labels, views


def iter_mimic_cxr(root: str | Path, *, splits: set[str] | None = None) -> Iterator[CxrStudy]:
    """Every study under ``ROOT/files``, in path order; ``splits`` keeps only those splits ("train", "validate", "test")."""
    root = Path(root)
    files = root / "files"
    if not files.is_dir():
        raise NoImagesFoundError(root, "no 'files/' folder: point at the MIMIC-CXR-JPG root (it holds files/p10/...)")
    split_of, labels_of, view_of = read_tables(root)
    for study_dir in sorted(p for p in files.glob("p*/p*/s*") if p.is_dir()):
        study_id = study_dir.name
        split = split_of.get(study_id)
        if splits is not None and split not in splits:
            continue
        images = tuple(sorted(p for p in study_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        report_path = study_dir.with_suffix(".txt")
        if report_path.is_file():
            report = parse_mimic_report(report_path.read_text(errors="replace"), study_id)
        else:
            log.warning("%s: no report file %s", study_dir, report_path.name)
            report = Report(report_id=study_id, source=SOURCE)
        report = Report(**{**report.to_dict(), "image_ids": tuple(p.stem for p in images)})
        image_views = tuple(view_of.get(p.stem) for p in images)
        yield CxrStudy(study_id, images, report, labels_of.get(study_id), split, study_view(image_views), image_views)


def load_mimic_cxr(root: str | Path, *, splits: set[str] | None = None) -> list[CxrStudy]:
    """All studies of a MIMIC-CXR-JPG tree as a list (see :func:`iter_mimic_cxr`)."""
    return list(iter_mimic_cxr(root, splits=splits))

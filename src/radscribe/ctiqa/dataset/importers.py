"""Import scored CT sets into the annotations.jsonl schema (aspects unknown -> null, ``synthetic: false``).

* LDCTIQAC 2023 layout: a folder of TIFF slices holding HU and one JSON file mapping
  image file name -> mean radiologist score (0-4).
* A generic CSV: ``path,score[,caption]`` (header optional; paths relative to the CSV).

Images are re-written as radscribe 16-bit HU PNGs under ``OUT/images/`` so every dataset,
built or imported, is read the same way. Bad rows are collected, not fatal.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radscribe.ctiqa.dataset.records import ANNOTATIONS_FILE, caption_from_score, encode_record, score_category
from radscribe.errors import InputError, RadscribeError, UnsupportedImageError
from radscribe.io import read_image
from radscribe.io.raster import HUMapping
from radscribe.io.writers import atomic_open, atomic_write_json, write_hu_png

TIFF_SUFFIXES = (".tif", ".tiff")


@dataclass
class ImportItem:
    path: Path
    score: float
    caption: str | None
    key: str  # name in the source listing; becomes the output file stem


def import_ldctiqac(folder: str | Path, out: str | Path, *, scores_json: str | Path | None = None,
                    split: str = "train", hu: HUMapping | None = None,
                    pixel_spacing: float | None = None) -> tuple[int, list[RadscribeError]]:
    """Import an LDCTIQAC-2023-style folder; returns (records written, errors for bad items). ``pixel_spacing``
    (mm) is recorded for images that carry none (TIFF), which models with pixel-size channels need."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "not a folder; give the folder holding the TIFF images and the score JSON")
    mapping_path = Path(scores_json) if scores_json else _find_score_json(folder)
    try:
        mapping = json.loads(mapping_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(mapping_path, f"cannot read the score JSON ({error})") from None
    if not isinstance(mapping, dict) or not mapping:
        raise InputError(mapping_path, "expected a JSON object mapping image file name -> score")
    tiffs = {p.name: p for p in folder.rglob("*") if p.suffix.lower() in TIFF_SUFFIXES}
    items, errors = [], []
    for name, score in sorted(mapping.items()):
        if name not in tiffs:
            errors.append(InputError(folder / name, f"listed in {mapping_path.name} but no such TIFF under {folder}"))
            continue
        items.append(ImportItem(tiffs[name], score, None, Path(name).stem))
    origin = {"dataset": "LDCTIQAC 2023 layout", "scores": str(mapping_path)}
    written, more = _import_items(items, Path(out), split, hu or HUMapping(1.0, 0.0), "ldctiqac-2023", origin,
                                  pixel_spacing)
    return written, errors + more


def import_csv(csv_path: str | Path, out: str | Path, *, split: str = "train", hu: HUMapping | None = None,
               pixel_spacing: float | None = None) -> tuple[int, list[RadscribeError]]:
    """Import ``path,score[,caption]`` rows; returns (records written, errors for bad rows). ``pixel_spacing``
    as for :func:`import_ldctiqac` (a DICOM's own spacing wins)."""
    csv_path = Path(csv_path)
    try:
        rows = list(csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(csv_path, f"cannot read the CSV ({error})") from None
    if rows and rows[0] and rows[0][0].strip().lower() == "path":
        rows = rows[1:]  # header
    items, errors = [], []
    for number, row in enumerate(rows, 1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            errors.append(InputError(csv_path, f"row {number}: expected path,score[,caption], got {row!r}"))
            continue
        path = Path(row[0].strip())
        path = path if path.is_absolute() else csv_path.parent / path
        caption = row[2].strip() if len(row) > 2 and row[2].strip() else None
        items.append(ImportItem(path, row[1].strip(), caption, f"{number:06d}_{path.stem}"))
    written, more = _import_items(items, Path(out), split, hu, "csv-import", {"dataset": "CSV", "csv": str(csv_path)},
                                  pixel_spacing)
    return written, errors + more


def _find_score_json(folder: Path) -> Path:
    candidates = sorted(folder.glob("*.json"))
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "none"
        raise InputError(folder, f"need exactly one score JSON in the folder (found: {found}); pass --scores FILE")
    return candidates[0]


def _parse_score(raw: Any, where: Path) -> float:
    try:
        score = float(raw)
    except (TypeError, ValueError):
        raise InputError(where, f"score {raw!r} is not a number") from None
    if not (math.isfinite(score) and 0.0 <= score <= 4.0):
        raise InputError(where, f"score {score} is outside the 0-4 LDCTIQAC scale")
    return score


def _import_items(items: list[ImportItem], out: Path, split: str, hu: HUMapping | None, tag: str,
                  origin: dict[str, str], pixel_spacing: float | None = None) -> tuple[int, list[RadscribeError]]:
    records, errors = [], []
    for item in items:
        try:
            score = _parse_score(item.score, item.path)
            slices = read_image(item.path, hu=hu)
            for k, image in enumerate(slices):
                if not image.is_hu:
                    raise UnsupportedImageError(item.path, "pixels are not in HU; declare the mapping with "
                                                           "--hu-slope/--hu-intercept")
                stem = item.key if len(slices) == 1 else f"{item.key}_f{k}"
                records.append(_record(len(records), f"images/{stem}.png", item, score, split, tag, image,
                                       pixel_spacing))
                write_hu_png(out / records[-1]["image"], image.pixels, records[-1]["pixel_spacing_mm"])
        except RadscribeError as error:
            errors.append(error)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_open(out / ANNOTATIONS_FILE, "wb") as handle:
        for record in records:
            handle.write(encode_record(record))
    atomic_write_json(out / "dataset.json", {"kind": "imported CT-IQA dataset", "synthetic": False,
                                             "origin": origin, "records": len(records)})
    return len(records), errors


def _record(index: int, image: str, item: ImportItem, score: float, split: str, tag: str, img,
            pixel_spacing: float | None = None) -> dict[str, Any]:
    return {
        "index": index,
        "image": image,
        "reference_image": None,
        "split": split,
        "anatomy": None,
        "anatomy_id": f"{tag}-{item.key}",  # the source gives no patient ids: one id per image
        "params": None,
        "aspects": None,
        "score": round(score, 4),
        "category": score_category(score),
        "caption": item.caption or caption_from_score(score),
        "caption_source": "given" if item.caption else "score-template",
        "protocol_version": tag,
        "measurements": None,
        "metal_sites": None,
        "synthetic": False,
        "synthetic_anatomy": False,
        "seed": None,
        "source": str(item.path),
        "size": int(img.shape[0]),
        "pixel_spacing_mm": img.spacing_mm or pixel_spacing,
    }

"""Read a CT-IQA dataset folder (``annotations.jsonl`` schema of ``radscribe data make-ctiqa``,
``import-ldctiqac`` and ``import-csv``) into preprocessed arrays every IQAGPT model trains on.

A record needs ``image`` (path relative to the folder), ``split`` and ``score``; ``caption``,
``aspects`` and ``category`` are used when present (imported real data has no aspects: their
losses are skipped for it, not invented).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from radscribe.errors import ConfigError, InputError
from radscribe.io import read_image
from radscribe.iqagpt.preprocess import (INPUT_SIZE, PREPROCESS_VERSION, WINDOWS, needs_spacing, preprocess_uint8,
                                         resolve_windows)

log = logging.getLogger(__name__)

ANNOTATIONS_FILE = "annotations.jsonl"
ASPECTS = ("noise", "streaks", "metal", "motion", "ring", "blur")
SEVERITIES = ("none", "mild", "moderate", "severe")
CATEGORIES = ("bad", "poor", "fair", "good", "excellent")  # index = LDCTIQAC integer score
UNKNOWN = -1


def severity_index(value) -> int:
    """'moderate' -> 2, 2 -> 2, None/unknown -> -1 (ignored by losses and metrics)."""
    if value is None:
        return UNKNOWN
    if isinstance(value, (int, np.integer)) and 0 <= int(value) < len(SEVERITIES):
        return int(value)
    if isinstance(value, str) and value.lower() in SEVERITIES:
        return SEVERITIES.index(value.lower())
    return UNKNOWN


def category_of_score(score: float) -> str:
    return CATEGORIES[min(4, max(0, int(float(score) + 0.5)))]


@dataclass
class CTIQAData:
    """One or more splits, preprocessed: ``images`` uint8 (N, n_windows, 256, 256)."""

    images: np.ndarray
    scores: np.ndarray  # float32 (N,)
    aspects: np.ndarray  # int64 (N, len(ASPECTS)), -1 = unknown
    captions: list[str]
    records: list[dict] = field(default_factory=list)
    synthetic: bool = True

    def __len__(self) -> int:
        return len(self.captions)

    def subset(self, idx: Iterable[int]) -> "CTIQAData":
        idx = np.asarray(list(idx), dtype=np.int64)
        return CTIQAData(self.images[idx], self.scores[idx], self.aspects[idx], [self.captions[i] for i in idx],
                         [self.records[i] for i in idx], self.synthetic)


def read_annotations(data_dir: str | Path) -> list[dict]:
    """All records of ``DIR/annotations.jsonl`` (a bad line is an InputError naming its line)."""
    path = Path(data_dir) / ANNOTATIONS_FILE
    if not path.is_file():
        raise InputError(data_dir, f"no {ANNOTATIONS_FILE} here: make one with `radscribe data make-ctiqa --out DIR`")
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(path, f"line {number} is not JSON ({error.msg})") from None
        for key in ("image", "split", "score"):
            if record.get(key) is None:
                raise InputError(path, f"line {number} has no {key!r}")
        records.append(record)
    return records


def splits_present(data_dir: str | Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in read_annotations(data_dir):
        counts[r["split"]] = counts.get(r["split"], 0) + 1
    return counts


def _caption(record: dict) -> str:
    if record.get("caption"):
        return str(record["caption"])
    score = float(record["score"])
    return f"Overall quality: {category_of_score(score)} (score {score:.1f} of 4)."


def canonical_captions(data: CTIQAData, template_seed: int) -> int:
    """Re-write each caption with one fixed template seed (``radscribe.ctiqa.text.describe``), in place.

    The dataset's captions vary their wording by record seed. One wording per annotation lets a small
    captioner spend its capacity on what the image shows instead of on which phrasing was drawn.
    Records the protocol cannot re-describe (imported data without aspects) keep their caption.
    Returns how many captions were rewritten.
    """
    from radscribe.ctiqa import Annotation
    from radscribe.ctiqa.text import describe

    changed = 0
    for i, record in enumerate(data.records):
        try:
            text = describe(Annotation.from_dict(record), anatomy=record.get("anatomy") or "", seed=template_seed)
        except Exception as error:  # not a protocol annotation: keep what the dataset says
            log.debug("keeping stored caption of %s: %s", record.get("image"), error)
            continue
        changed += text != data.captions[i]
        data.captions[i] = text
    return changed


def record_spacing(record: dict, image=None) -> float | None:
    """A slice's pixel spacing in mm: its record's ``pixel_spacing_mm``, else the image file's own (DICOM, NIfTI)."""
    if record.get("pixel_spacing_mm"):
        return float(record["pixel_spacing_mm"])
    return image.spacing_mm if image is not None else None


def _cache_path(data_dir: Path, records: list[dict], size: int, windows: tuple[str, ...] = WINDOWS) -> Path:
    # the default windows add nothing to the key, so caches made before windows were a setting stay valid
    values = resolve_windows(windows)
    tag = "" if values == resolve_windows(WINDOWS) else ",".join(values)  # values, not names
    key = hashlib.sha256((PREPROCESS_VERSION + str(size) + tag + "".join(r["image"] for r in records)).encode()).hexdigest()[:16]
    return data_dir / ".cache" / f"iqagpt-{key}.npy"


def load_splits(data_dir: str | Path, splits: Iterable[str], *, size: int = INPUT_SIZE, cache: bool = True,
                progress: Callable[[Iterable], Iterable] | None = None, limit: int | None = None,
                windows: tuple[str, ...] = WINDOWS) -> CTIQAData:
    """Preprocess the images of ``splits`` through ``windows`` (cached under ``DIR/.cache`` when the folder is writable)."""
    data_dir = Path(data_dir)
    wanted = tuple(splits)
    records = [r for r in read_annotations(data_dir) if r["split"] in wanted]
    if limit is not None:
        records = records[:limit]
    if not records:
        raise ConfigError(f"{data_dir}: no records in split(s) {', '.join(wanted)} (have: {splits_present(data_dir)})")
    cache_file = _cache_path(data_dir, records, size, tuple(windows))
    images = None
    if cache and cache_file.is_file():
        images = np.load(cache_file)
        if images.shape[:2] != (len(records), len(windows)):
            images = None
    if images is None:
        images = np.zeros((len(records), len(windows), size, size), dtype=np.uint8)
        iterator = progress(range(len(records))) if progress else range(len(records))
        spacing = needs_spacing(windows)
        for i in iterator:
            path = data_dir / records[i]["image"]
            slices = read_image(path)
            if not slices[0].is_hu:
                raise InputError(path, "not in Hounsfield units; CT-IQA images must be HU (16-bit PNG HU+1024, DICOM CT, TIFF with HU)")
            mm = record_spacing(records[i], slices[0]) if spacing else None
            if spacing and mm is None:
                raise InputError(path, "no pixel spacing (the model reads the pixel size): add pixel_spacing_mm to its "
                                       "record (importers: --pixel-spacing MM), or train without mm:* windows")
            images[i] = preprocess_uint8(slices[0].pixels, size, tuple(windows), spacing_mm=mm)
        if cache:
            try:
                cache_file.parent.mkdir(exist_ok=True)
                tmp = cache_file.with_suffix(".tmp.npy")
                np.save(tmp, images)
                tmp.replace(cache_file)
            except OSError as error:  # a read-only dataset is fine, just slower next time
                log.info("could not cache preprocessed images: %s", error)
    scores = np.array([float(r["score"]) for r in records], dtype=np.float32)
    aspects = np.array([[severity_index((r.get("aspects") or {}).get(a)) for a in ASPECTS] for r in records], dtype=np.int64)
    return CTIQAData(images, scores, aspects, [_caption(r) for r in records], records,
                     synthetic=all(bool(r.get("synthetic", False)) for r in records))


def load_split_spec(spec: str, windows: tuple[str, ...] = WINDOWS) -> tuple[str, CTIQAData]:
    """``"FOLDER:SPLIT"`` (as the benchmark scripts take it) -> (``"name:split (n=N)"``, that split preprocessed)."""
    folder, _, split = spec.rpartition(":")
    data = load_splits(Path(folder), [split], windows=windows)
    return f"{Path(folder).name}:{split} (n={len(data.scores)})", data

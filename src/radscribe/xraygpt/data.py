"""Training examples for XrayGPT: one frontal image, its summary, its CheXpert labels and its split.

Two sources, one record:

* ``make-cxr`` (default): ``radscribe data make-cxr`` writes ``DIR/annotations.jsonl`` with SYNTHETIC
  images paired with REAL IU-Xray report text (``image, report_id, findings, impression, summary,
  labels, split, synthetic``).
* a user's own data: ``openi`` or ``mimic`` roots read by :mod:`radscribe.cxr.loaders`; summaries come
  from :func:`radscribe.cxr.summaries.summarize_report` and labels from the dataset or the labeler.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from radscribe.errors import InputError, NoImagesFoundError
from radscribe.xraygpt.encoder import preprocess, to_unit_range

log = logging.getLogger(__name__)

SOURCES = ("make-cxr", "openi", "mimic")
ANNOTATIONS = "annotations.jsonl"


@dataclass(frozen=True)
class CxrExample:
    image_path: Path
    summary: str
    labels: dict[str, int]
    split: str
    report_id: str
    synthetic: bool = False
    extra: dict = field(default_factory=dict, compare=False)


def read_annotations(folder: str | Path) -> list[CxrExample]:
    """Examples from ``folder/annotations.jsonl``; image paths are relative to that folder."""
    folder = Path(folder)
    path = folder / ANNOTATIONS if folder.is_dir() else folder
    if not path.is_file():
        raise InputError(folder, f"no {ANNOTATIONS}; make one with: radscribe data make-cxr --out {folder}")
    examples = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                image = Path(row["image"])
                examples.append(CxrExample(
                    image_path=image if image.is_absolute() else path.parent / image,
                    summary=str(row["summary"]),
                    labels={k: int(v) for k, v in (row.get("labels") or {}).items()},
                    split=str(row.get("split") or "train"),
                    report_id=str(row.get("report_id", line_no)),
                    synthetic=bool(row.get("synthetic", False)),
                ))
            except (KeyError, ValueError, TypeError) as error:
                raise InputError(path, f"line {line_no}: bad annotation ({error})") from None
    if not examples:
        raise InputError(path, "no annotations in the file")
    return examples


def hash_split(key: str, val: float = 0.1, test: float = 0.1) -> str:
    """A stable split from the study id when the dataset has none."""
    x = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if x < test else "validate" if x < test + val else "train"


def from_studies(studies: Iterable) -> list[CxrExample]:
    """CxrStudy records (MIMIC-CXR / Open-i) -> examples; reports without a usable summary are skipped."""
    from radscribe.cxr.labeler import label_report
    from radscribe.cxr.summaries import summarize_report

    examples, skipped = [], 0
    for study in studies:
        image = study.frontal_image
        result = summarize_report(study.report)
        if image is None or not result.kept:
            skipped += 1
            continue
        split = {"val": "validate"}.get(study.split, study.split) or hash_split(study.study_id)
        examples.append(CxrExample(image, result.summary, study.labels or label_report(result.summary),
                                   split, study.study_id, synthetic=False))
    log.info("%d studies used, %d skipped (no image or no summary)", len(examples), skipped)
    return examples


def load_examples(data: str | Path, source: str = "make-cxr") -> list[CxrExample]:
    """All examples of a dataset; ``source`` is one of ``SOURCES``."""
    if source == "make-cxr":
        return read_annotations(data)
    if source == "openi":
        from radscribe.cxr.loaders import load_openi

        examples = from_studies(load_openi(data, require_images=True))
    elif source == "mimic":
        from radscribe.cxr.loaders import load_mimic_cxr

        examples = from_studies(load_mimic_cxr(data))
    else:
        raise InputError(data, f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
    if not examples:
        raise NoImagesFoundError(data, f"no {source} study with an image and a usable report")
    return examples


def split_examples(examples: Sequence[CxrExample], split: str) -> list[CxrExample]:
    names = {"val": "validate", "valid": "validate"}
    return [e for e in examples if names.get(e.split, e.split) == names.get(split, split)]


def load_pixels(path: str | Path) -> np.ndarray:
    """The first slice of any image radscribe reads, as a 2-D float32 image in [0, 1]."""
    from radscribe.io import read_image

    image = read_image(path)[0]
    return to_unit_range(image.pixels, image.meta.units)


def image_tensor(path: str | Path, image_size: int) -> torch.Tensor:
    return preprocess(load_pixels(path), image_size)


_BATCH_CACHE: dict[tuple, torch.Tensor] = {}  # the stages of one training run read the same images


def load_image_batch(examples: Sequence[CxrExample], image_size: int) -> torch.Tensor:
    """(N, 1, S, S) preprocessed images; a file that cannot be read raises InputError naming it.

    The last batch is kept in memory (one entry), so the encoder, projection and baseline stages of a
    run decode the training images once.
    """
    if not examples:
        return torch.zeros(0, 1, image_size, image_size)
    key = (image_size, tuple(str(e.image_path) for e in examples))
    if key not in _BATCH_CACHE:
        _BATCH_CACHE.clear()
        _BATCH_CACHE[key] = torch.stack([image_tensor(e.image_path, image_size) for e in examples])
    return _BATCH_CACHE[key]

"""The annotations.jsonl record schema and its crash-safe, append-only file.

One JSON object per image. Keys every record has (importers fill what they know, null otherwise):

``index`` (int), ``image`` and ``reference_image`` (paths relative to the dataset folder;
reference null when there is none), ``split`` ("train" | "val" | "test" | "real" | "test-real"),
``anatomy``, ``anatomy_id`` (the patient: splits never share one), ``params`` (acquisition,
``AcquisitionParams.to_dict()``), ``aspects`` (per-aspect severities, null if unknown),
``score`` (0-4, LDCTIQAC scale), ``category``, ``caption``, ``protocol_version``,
``measurements``, ``synthetic`` (bool), ``seed``, ``source``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from radscribe.errors import InputError

ANNOTATIONS_FILE = "annotations.jsonl"

REQUIRED_KEYS = (
    "index", "image", "reference_image", "split", "anatomy", "anatomy_id", "params", "aspects", "score",
    "category", "caption", "protocol_version", "measurements", "synthetic", "seed", "source",
)

# LDCTIQAC 2023 Likert scale (mean of 5 radiologists, 0-4): name and meaning.
LIKERT = (
    ("bad", "desired features are not shown"),
    ("poor", "diagnostic interpretation is impossible"),
    ("fair", "the image is suitable for limited clinical interpretation"),
    ("good", "the image is suitable for diagnostic interpretation"),
    ("excellent", "anatomical structure is evident"),
)


def score_category(score: float) -> str:
    """Nearest Likert word for a 0-4 score (2.49 -> fair, 2.5 -> good): the protocol's own rule."""
    from radscribe.ctiqa.annotation.protocol import category_of

    return category_of(float(score))


def caption_from_score(score: float) -> str:
    """Template caption for imported data that has a score but no text (aspects unknown)."""
    level = min(4, max(0, int(float(score) + 0.5)))
    name, meaning = LIKERT[level]
    return (f"Overall image quality is {name} (score {float(score):.1f} of 4): {meaning}. "
            "The individual degradations were not annotated.")


def encode_record(record: dict[str, Any]) -> bytes:
    """One JSONL line; NaN is not JSON, so it must have been turned into null before."""
    return (json.dumps(record, sort_keys=True, allow_nan=False, separators=(",", ":")) + "\n").encode()


class RecordLog:
    """Append-only annotations.jsonl: each record is one write() of one full line, then fsync.

    A run killed mid-write leaves at most a partial last line; opening the log cuts it off,
    so every line present is a finished record whose images were written before it.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _drop_partial_tail(self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def append(self, record: dict[str, Any]) -> None:
        os.write(self._fd, encode_record(record))
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> RecordLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drop_partial_tail(path: Path) -> None:
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """All complete records of a dataset folder or annotations.jsonl file (a partial last line is ignored)."""
    path = Path(path)
    if path.is_dir():
        path = path / ANNOTATIONS_FILE
    if not path.is_file():
        raise InputError(path, "no annotations.jsonl here; build one with `radscribe data make-ctiqa`")
    records = []
    for number, line in enumerate(iter_lines(path), 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise InputError(path, f"line {number} is not JSON ({error.msg})") from None
    return records


def iter_lines(path: Path) -> Iterator[str]:
    data = path.read_text(encoding="utf-8")
    complete = data if data.endswith("\n") else data[: data.rfind("\n") + 1]
    yield from (line for line in complete.splitlines() if line.strip())


def json_safe(value: Any) -> Any:
    """Numpy scalars/arrays -> Python, NaN/inf -> None, recursively (JSON has no NaN)."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

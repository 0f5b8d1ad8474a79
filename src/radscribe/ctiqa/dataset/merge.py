"""Merge CT-IQA dataset folders into one (synthetic at several sizes, synthetic + imported real, ...).

The merged folder holds ``annotations.jsonl`` and one symbolic link per source (``sources/<name>``),
so no image is copied; records point through the links. Splits stay by patient: a patient
(``anatomy_id``) found in several sources keeps the split of its first source everywhere. Two
``make-ctiqa`` runs with the same seed share patients (the same phantom at 256 and 512 px), and
their independent split draws would otherwise put one patient in train and test at once.
"""

from __future__ import annotations

import os
from pathlib import Path

from radscribe.ctiqa.dataset.records import ANNOTATIONS_FILE, encode_record, read_records
from radscribe.errors import ConfigError, InputError
from radscribe.io.writers import atomic_open


def _source_name(path: Path, taken: set[str]) -> str:
    name, k = path.resolve().name or "source", 2
    base = name
    while name in taken:
        name, k = f"{base}-{k}", k + 1
    taken.add(name)
    return name


def merge_datasets(out: str | Path, sources: list[str | Path]) -> dict:
    """Write ``out``: every record of ``sources`` (paths re-rooted), patient-consistent splits.

    Returns counts: records per source, per split, and how many records had their split changed.
    """
    out = Path(out)
    if not sources:
        raise ConfigError("merge needs at least one source dataset folder")
    if (out / ANNOTATIONS_FILE).exists():
        raise ConfigError(f"{out}: already holds {ANNOTATIONS_FILE}; merge into a new folder")
    (out / "sources").mkdir(parents=True, exist_ok=True)
    split_of: dict[str, str] = {}
    lines, taken = [], set()
    summary: dict = {"sources": {}, "splits": {}, "split_changed": 0}
    for source in map(Path, sources):
        if not (source / ANNOTATIONS_FILE).is_file():
            raise InputError(source, f"no {ANNOTATIONS_FILE}: not a CT-IQA dataset folder")
        name = _source_name(source, taken)
        link = out / "sources" / name
        if not link.exists():
            os.symlink(os.path.relpath(source.resolve(), link.parent.resolve()), link)
        count = 0
        for record in read_records(source):
            patient = record.get("anatomy_id") or f"{name}:{record.get('index')}"
            split = split_of.setdefault(patient, record["split"])
            summary["split_changed"] += split != record["split"]
            for key in ("image", "reference_image"):
                if record.get(key):
                    record[key] = f"sources/{name}/{record[key]}"
            record.update(split=split, index=len(lines), source_dataset=name)
            lines.append(encode_record(record))
            summary["splits"][split] = summary["splits"].get(split, 0) + 1
            count += 1
        summary["sources"][name] = count
    with atomic_open(out / ANNOTATIONS_FILE, "wb") as handle:
        handle.writelines(lines)
    return summary

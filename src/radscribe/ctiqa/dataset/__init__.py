"""The CT-IQA dataset: build it from phantoms or real CT, import LDCTIQAC/CSV sets, describe it.

>>> from radscribe.ctiqa.dataset import DatasetConfig, make_dataset
>>> make_dataset(DatasetConfig(out="ctiqa", n=200, size=256))   # SYNTHETIC; resumes if interrupted

Each dataset folder holds ``annotations.jsonl`` (one record per image, schema in
``records.py``), ``images/`` and ``reference/`` (16-bit PNG, HU + 1024), a ``README.md``
dataset card with plots and ``preview_grid.png``. See ``docs/ctiqa-dataset.md``.
"""

from radscribe.ctiqa.dataset.records import ANNOTATIONS_FILE, read_records
from radscribe.ctiqa.dataset.writer import DatasetConfig, make_dataset

__all__ = ["ANNOTATIONS_FILE", "DatasetConfig", "make_dataset", "read_records"]

"""IQAGPT-style CT image-quality captioning (issue 4): a captioner writes a quality description of a
CT slice, a score on the LDCTIQAC 0-4 scale follows from it, and baselines are benchmarked against it.

>>> from radscribe.iqagpt import load_assessor
>>> rows = load_assessor().assess(images)     # images: list[radscribe.io.MedicalImage] in HU

See docs/iqagpt.md. Heavy modules (torch) load on first use.
"""

from __future__ import annotations

_LAZY = {
    "load_assessor": "radscribe.iqagpt.assess",
    "Assessor": "radscribe.iqagpt.assess",
    "load_captioner": "radscribe.iqagpt.checkpoint",
    "train_captioner": "radscribe.iqagpt.train",
    "TrainConfig": "radscribe.iqagpt.train",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'radscribe.iqagpt' has no attribute {name!r}")


__all__ = sorted(_LAZY)

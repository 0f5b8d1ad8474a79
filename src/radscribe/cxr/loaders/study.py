"""The record every chest-radiograph loader yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from radscribe.cxr.reports import Report

FRONTAL_VIEWS = ("PA", "AP")


@dataclass(frozen=True)
class CxrStudy:
    """One imaging study: its radiographs, its report and what the dataset says about it.

    ``labels`` are the dataset's own CheXpert labels (1 / 0 / -1, unmentioned left
    out), or ``None`` when it has none. ``view`` is the study's frontal view ("PA"
    before "AP") or else the first image's view; ``image_views`` holds one per image.
    """

    study_id: str
    image_paths: tuple[Path, ...]
    report: Report
    labels: dict[str, int] | None = None
    split: str | None = None
    view: str | None = None
    image_views: tuple[str | None, ...] = field(default_factory=tuple)

    @property
    def frontal_image(self) -> Path | None:
        """The first PA image, else the first AP image, else the first image (``None`` if there are none)."""
        for wanted in FRONTAL_VIEWS:
            for path, view in zip(self.image_paths, self.image_views):
                if view == wanted:
                    return path
        return self.image_paths[0] if self.image_paths else None


def study_view(views: tuple[str | None, ...]) -> str | None:
    """The view that names a study: PA if any image is PA, else AP, else the first known view."""
    for wanted in FRONTAL_VIEWS:
        if wanted in views:
            return wanted
    return next((v for v in views if v), None)

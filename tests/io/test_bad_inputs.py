"""Every bad input gives a typed error naming the file and the reason, and nothing else breaks."""

from __future__ import annotations

import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from radscribe.errors import (
    ImageTooLargeError,
    InvalidPixelDataError,
    NoImagesFoundError,
    UnreadableImageError,
    UnsupportedImageError,
)
from radscribe.io import expand_paths, read_image


def _png_header_only(path, width, height):
    """A valid PNG signature and IHDR claiming a huge size, with a tiny IDAT: decoding it would need GBs."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_truncated_dicom(tmp_path, pydicom_test_dir):
    data = (pydicom_test_dir / "CT_small.dcm").read_bytes()
    (tmp_path / "cut.dcm").write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableImageError, match="cut.dcm") as info:
        read_image(tmp_path / "cut.dcm")
    assert "truncated" in str(info.value) or "less than expected" in str(info.value)


def test_random_bytes_named_dcm(tmp_path):
    (tmp_path / "noise.dcm").write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(UnreadableImageError, match="noise.dcm: not a DICOM file"):
        read_image(tmp_path / "noise.dcm")


def test_empty_file(tmp_path):
    (tmp_path / "empty.dcm").write_bytes(b"")
    with pytest.raises(UnreadableImageError, match="empty"):
        read_image(tmp_path / "empty.dcm")


@pytest.mark.parametrize("name,kind", [("rtplan.dcm", "RT Plan"), ("reportsi.dcm", "SR")])
def test_dicom_without_pixel_data(pydicom_test_dir, name, kind):
    with pytest.raises(UnsupportedImageError, match=f"no pixel data in .*{kind}"):
        read_image(pydicom_test_dir / name)


def test_rgb_secondary_capture(pydicom_data_dir):
    with pytest.raises(UnsupportedImageError, match="SC_rgb.dcm: colour image"):
        read_image(pydicom_data_dir / "SC_rgb.dcm")


def test_undecodable_compressed_dicom(pydicom_test_dir):
    # JPEG-lossy.dcm: 12-bit JPEG Extended with a malformed scan header; no decoder accepts it.
    with pytest.raises(UnreadableImageError, match="cannot decode pixel data .JPEG Extended"):
        read_image(pydicom_test_dir / "JPEG-lossy.dcm")


def test_one_pixel_image(tmp_path):
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(tmp_path / "dot.png")
    with pytest.raises(InvalidPixelDataError, match="dot.png: image is 1x1 pixels"):
        read_image(tmp_path / "dot.png")


def test_huge_png_refused_from_header_in_bounded_memory(tmp_path):
    _png_header_only(tmp_path / "huge.png", 60_000, 60_000)  # 3.6 GP: 3.6 GB if decoded
    tracemalloc.start()
    with pytest.raises(ImageTooLargeError, match="huge.png: image is 60000x60000"):
        read_image(tmp_path / "huge.png")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 2**20


def test_pixel_limit_is_configurable(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((300, 400), np.uint8)).save(tmp_path / "mid.png")
    assert read_image(tmp_path / "mid.png")[0].shape == (300, 400)
    monkeypatch.setenv("RADSCRIBE_MAX_PIXELS", "100000")
    with pytest.raises(ImageTooLargeError, match="RADSCRIBE_MAX_PIXELS"):
        read_image(tmp_path / "mid.png")


def test_nan_in_float_tiff(tmp_path):
    import tifffile

    data = np.zeros((32, 32), np.float32)
    data[5, 5] = np.inf
    tifffile.imwrite(tmp_path / "inf.tif", data)
    with pytest.raises(InvalidPixelDataError, match="inf.tif: image has 1 NaN or infinite"):
        read_image(tmp_path / "inf.tif")


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoImagesFoundError, match="folder holds no"):
        expand_paths([tmp_path / "empty"])


def test_missing_path(tmp_path):
    with pytest.raises(UnreadableImageError, match="no such file"):
        expand_paths([tmp_path / "nope.dcm"])

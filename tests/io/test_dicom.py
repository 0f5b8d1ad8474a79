"""DICOM reading on real files: HU calibration, compressed syntaxes, MONOCHROME1, multi-frame."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from radscribe.io import read_image


def test_ct_abdomen_hu_at_known_pixels(pydicom_data_dir):
    # explicit_VR-UN.dcm: contrast abdomen, JPEG 2000 lossless, signed pixels, intercept 0.
    [ct] = read_image(pydicom_data_dir / "explicit_VR-UN.dcm")
    assert ct.meta.units == "HU" and ct.meta.modality == "CT"
    assert ct.pixels[0, 0] == pytest.approx(-1024.0)  # air outside the scan circle
    assert ct.pixels[256, 256] == pytest.approx(-27.0)
    assert ct.pixels[300, 200] == pytest.approx(34.0)
    assert ct.meta.pixel_spacing == pytest.approx((0.859375, 0.859375))
    assert ct.meta.body_part == "PANCREAS"
    assert ct.meta.sop_uid and ct.meta.study_uid and ct.meta.series_uid


@pytest.mark.parametrize("name,center_hu", [("693_UNCI.dcm", 32.0), ("693_UNCR.dcm", 24.0), ("693_J2KR.dcm", 24.0)])
def test_head_ct_rescale_intercept(pydicom_data_dir, pydicom_test_dir, name, center_hu):
    path = pydicom_data_dir / name
    [ct] = read_image(path)
    raw = pydicom.dcmread(path).pixel_array.astype(np.float32)
    np.testing.assert_array_equal(ct.pixels, raw - 1024.0)  # slope 1, intercept -1024
    assert ct.pixels[256, 256] == pytest.approx(center_hu)  # brain parenchyma
    assert ct.meta.kvp == pytest.approx(140.0)


def test_head_ct_pixel_representation_mismatch(pydicom_test_dir):
    [ct] = read_image(pydicom_test_dir / "J2K_pixelrep_mismatch.dcm")
    brain = np.median(ct.pixels[236:276, 236:276])
    assert 20 <= brain <= 45, brain


@pytest.mark.parametrize(
    "compressed,reference",
    [
        ("693_J2KR.dcm", "693_UNCR.dcm"),  # JPEG 2000 lossless
        ("RG1_J2KR.dcm", "RG1_UNCR.dcm"),  # JPEG 2000 lossless, CR
        ("MR2_J2KR.dcm", "MR2_UNCR.dcm"),
    ],
)
def test_lossless_j2k_equals_uncompressed(pydicom_data_dir, compressed, reference):
    [a] = read_image(pydicom_data_dir / compressed)
    [b] = read_image(pydicom_data_dir / reference)
    np.testing.assert_array_equal(a.pixels, b.pixels)
    assert "JPEG 2000" in a.meta.transfer_syntax


def test_lossy_j2k_chest_close_to_uncompressed(pydicom_data_dir):
    [lossy] = read_image(pydicom_data_dir / "RG1_J2KI.dcm")
    [plain] = read_image(pydicom_data_dir / "RG1_UNCI.dcm")
    assert np.abs(lossy.pixels - plain.pixels).mean() < 0.01  # display units in [0, 1]


@pytest.mark.parametrize("name", ["MR_small_jpeg_ls_lossless.dcm", "MR_small_RLE.dcm"])
def test_jpeg_ls_and_rle_decode(pydicom_test_dir, name):
    [a] = read_image(pydicom_test_dir / name)
    [b] = read_image(pydicom_test_dir / "MR_small.dcm")
    np.testing.assert_array_equal(a.pixels, b.pixels)


def test_jpeg_lossless_ct_bad_sequence(pydicom_data_dir):
    # bad_sequence.dcm: neck CT, JPEG lossless process 14, with a malformed sequence that must not stop us.
    [ct] = read_image(pydicom_data_dir / "bad_sequence.dcm")
    assert ct.meta.units == "HU" and "JPEG Lossless" in ct.meta.transfer_syntax
    assert np.median(ct.pixels[236:276, 236:276]) == pytest.approx(207.0, abs=1.0)
    assert ct.pixels.min() >= -1100


def test_monochrome1_chest_cr_is_inverted(pydicom_data_dir):
    path = pydicom_data_dir / "RG1_UNCI.dcm"
    [cr] = read_image(path)
    assert cr.meta.photometric == "MONOCHROME1" and cr.meta.units == "display"
    raw = pydicom.dcmread(path).pixel_array.astype(np.float64)
    assert np.corrcoef(raw.ravel(), cr.pixels.ravel())[0, 1] < -0.999
    h, w = cr.shape
    lung = cr.pixels[int(0.3 * h) : int(0.5 * h), int(0.15 * w) : int(0.35 * w)].mean()
    spine = cr.pixels[int(0.3 * h) : int(0.5 * h), int(0.47 * w) : int(0.53 * w)].mean()
    assert lung < spine - 0.2  # air-filled lung dark, mediastinum and spine bright
    assert 0.0 <= cr.pixels.min() and cr.pixels.max() <= 1.0


def test_multiframe_enhanced_ct_split_with_positions(pydicom_data_dir):
    frames = read_image(pydicom_data_dir / "eCT_Supplemental.dcm")
    assert len(frames) == 2
    assert [f.meta.frame for f in frames] == [0, 1]
    assert all(f.meta.units == "HU" for f in frames)
    # Rescale from the shared functional groups (intercept -1024): air reads about -1024, not 0.
    assert frames[0].pixels.min() == pytest.approx(-1024.0)
    positions = [f.meta.slice_position for f in frames]
    assert abs(positions[1] - positions[0]) == pytest.approx(10.0)
    assert frames[0].meta.pixel_spacing == pytest.approx((0.388672, 0.388672))

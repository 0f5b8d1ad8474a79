"""Real CT slices as phantoms: the held-out split shipped with pydicom-data, and skipping non-CT input."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from radscribe.ctiqa.phantoms import heldout_real_ct_paths, real_phantoms
from radscribe.ctiqa.phantoms.real import body_mask


@pytest.fixture(scope="module")
def heldout():
    return list(real_phantoms(heldout_real_ct_paths()))


def test_heldout_split_lists_the_shipped_real_ct(pydicom_data_dir, pydicom_test_dir):
    paths = heldout_real_ct_paths()
    names = {p.name for p in paths}
    assert {"explicit_VR-UN.dcm", "693_UNCR.dcm", "bad_sequence.dcm", "J2K_pixelrep_mismatch.dcm", "CT_small.dcm"} <= names
    assert all(p.is_file() for p in paths)
    assert all(p.parent in (pydicom_data_dir, pydicom_test_dir) for p in paths)


def test_heldout_slices_become_real_phantoms(heldout):
    assert len(heldout) == 7  # eCT_Supplemental has two frames
    ids = [p.anatomy_id for p in heldout]
    assert len(set(ids)) == len(ids)
    for p in heldout:
        assert p.anatomy == "real" and p.synthetic is False
        assert p.hu.shape == (512, 512) and p.hu.dtype == np.float32
        assert p.hu.min() >= -1000.0
        assert 0.1 < p.body_mask.mean() < 0.95
        assert abs(p.fov_mm - p.info["fov_mm"]) < 1.0


def test_real_abdomen_keeps_hu_and_geometry(heldout):
    [abdomen] = [p for p in heldout if p.info["source"].endswith("explicit_VR-UN.dcm")]
    assert abs(abdomen.pixel_spacing_mm - 0.859375) < 1e-6  # already 512 x 512: not resampled
    assert abdomen.anatomy_id.startswith("real-1.2.826.0.1.3680043")
    fat = np.median(abdomen.hu[abdomen.regions["fat"]])
    assert -130 < fat < -60
    # The spine is found inside the body of this trunk slice; heads never get one.
    (r, c), = abdomen.metal_sites.values()
    assert abdomen.body_mask[int(r), int(c)] and abdomen.hu[int(r), int(c)] > 150
    heads = [p for p in heldout if "693_UNCR" in p.info["source"] or "J2K_pixelrep" in p.info["source"]]
    assert heads and all(p.metal_sites == {} for p in heads)


def test_small_slice_is_upsampled_to_the_grid(heldout):
    [small] = [p for p in heldout if p.info["source"].endswith("CT_small.dcm")]
    assert abs(small.pixel_spacing_mm - 128 * 0.661468 / 512) < 1e-4


def test_non_ct_inputs_are_skipped_with_a_reason(tmp_path, pydicom_data_dir, caplog):
    Image.fromarray(np.full((200, 200), 128, np.uint8)).save(tmp_path / "photo.png")
    (tmp_path / "notes.dcm").write_bytes(b"not a dicom file")
    inputs = [tmp_path, pydicom_data_dir / "MR2_UNCR.dcm", pydicom_data_dir / "explicit_VR-UN.dcm"]
    with caplog.at_level(logging.INFO, logger="radscribe.ctiqa.phantoms.real"):
        got = list(real_phantoms(inputs))
    assert [p.info["source"].rsplit("/", 1)[-1] for p in got] == ["explicit_VR-UN.dcm"]
    text = caplog.text
    assert "photo.png" in text and "Hounsfield" in text
    assert "MR2_UNCR.dcm" in text
    assert "notes.dcm" in text


def test_body_mask_drops_the_couch_and_fills_holes():
    hu = np.full((128, 128), -1000.0, np.float32)
    yy, xx = np.mgrid[:128, :128]
    hu[(yy - 60) ** 2 / 40**2 + (xx - 64) ** 2 / 50**2 < 1] = 40.0  # body
    hu[(yy - 60) ** 2 + (xx - 64) ** 2 < 15**2] = -900.0  # lung/bowel gas inside
    hu[115:117, 5:123] = 300.0  # thin couch
    mask = body_mask(hu)
    assert mask[60, 64] and not mask[116, 64]
    assert abs(mask.sum() - np.pi * 40 * 50) < 0.05 * np.pi * 40 * 50


def test_a_slice_with_almost_no_body_is_skipped(tmp_path, pydicom_data_dir, caplog):
    import pydicom

    ds = pydicom.dcmread(pydicom_data_dir / "explicit_VR-UN.dcm")
    slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
    raw = np.full(ds.pixel_array.shape, round((-1000.0 - intercept) / slope), ds.pixel_array.dtype)
    raw[250:262, 250:262] = round((40.0 - intercept) / slope)  # 1 cm^2 of tissue: the top of a skull
    ds.PixelData = raw.tobytes()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian  # the source is compressed
    ds.save_as(tmp_path / "vertex.dcm")
    with caplog.at_level(logging.INFO, logger="radscribe.ctiqa.phantoms.real"):
        got = list(real_phantoms([tmp_path / "vertex.dcm", pydicom_data_dir / "explicit_VR-UN.dcm"]))
    assert [p.info["source"].rsplit("/", 1)[-1] for p in got] == ["explicit_VR-UN.dcm"]
    assert "vertex.dcm" in caplog.text and "cm^2 of body" in caplog.text


def _with_block(ds, hu: float, rows: slice, cols: slice):
    """``ds`` (decoded, uncompressed) with a block of ``hu`` painted into its pixels."""
    import pydicom

    slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
    raw = ds.pixel_array.copy()
    raw[rows, cols] = round((hu - intercept) / slope)
    ds.PixelData = raw.tobytes()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian  # the source is compressed
    return ds


def test_a_slice_with_its_own_metal_inside_the_body_is_skipped(tmp_path, pydicom_data_dir, caplog):
    """A filling or clip streaks the real slice itself; as a reference the protocol would call those streaks clean."""
    import pydicom

    source = pydicom_data_dir / "explicit_VR-UN.dcm"
    ds = pydicom.dcmread(source)
    body = body_mask(ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept))
    rows, cols = np.nonzero(body)
    r, c = int(np.median(rows)), int(np.median(cols))  # well inside the abdomen
    _with_block(ds, 3000.0, slice(r, r + 4), slice(c, c + 4)).save_as(tmp_path / "clip.dcm")
    with caplog.at_level(logging.INFO, logger="radscribe.ctiqa.phantoms.real"):
        got = list(real_phantoms([tmp_path / "clip.dcm", source]))
    assert [p.info["source"].rsplit("/", 1)[-1] for p in got] == ["explicit_VR-UN.dcm"]
    assert "clip.dcm" in caplog.text and "its own metal" in caplog.text


def test_dense_objects_on_the_skin_or_outside_do_not_disqualify(tmp_path, pydicom_data_dir):
    """ECG leads and a necklace streak little: a slice with them stays (pyradiomics' neck slices have both)."""
    import pydicom

    source = pydicom_data_dir / "explicit_VR-UN.dcm"
    _with_block(pydicom.dcmread(source), 3000.0, slice(5, 15), slice(5, 15)).save_as(tmp_path / "lead.dcm")
    got = list(real_phantoms([tmp_path / "lead.dcm"]))
    assert len(got) == 1 and got[0].hu.max() > 2500

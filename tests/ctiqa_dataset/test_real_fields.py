"""Targeted and wide fields on real anatomy: a real CT slice resampled to a finer or coarser grid, then scanned."""

from __future__ import annotations

import numpy as np
import pytest

from radscribe.ctiqa.dataset import DatasetConfig, make_dataset, read_records
from radscribe.ctiqa.dataset.pipeline import refine_phantom
from radscribe.ctiqa.phantoms import real_phantoms
from radscribe.io import read_image

SIZE = 128


@pytest.fixture(scope="module")
def real_ct(pydicom_data_dir):
    return pydicom_data_dir / "693_UNCR.dcm"  # a real head slice, 512 px of 0.479 mm


def test_refining_a_real_slice_keeps_its_field_and_anatomy(real_ct):
    phantom = next(real_phantoms(real_ct, SIZE))
    fine = refine_phantom(phantom, 0.5)
    assert fine.hu.shape == (2 * SIZE, 2 * SIZE) and fine.fov_mm == pytest.approx(phantom.fov_mm)
    assert fine.pixel_spacing_mm == pytest.approx(phantom.pixel_spacing_mm / 2)
    assert fine.body_mask.sum() == pytest.approx(4 * phantom.body_mask.sum(), rel=0.05)
    assert fine.hu.mean() == pytest.approx(phantom.hu.mean(), abs=5.0)  # the same HU, on more pixels
    assert not fine.synthetic and fine.anatomy_id == phantom.anatomy_id


def test_make_ctiqa_gives_real_slices_targeted_and_wide_fields(real_ct, tmp_path):
    plain, fields = tmp_path / "plain", tmp_path / "fields"
    make_dataset(DatasetConfig(out=str(plain), n=8, seed=2, size=SIZE, real=[str(real_ct)]))
    make_dataset(DatasetConfig(out=str(fields), n=8, seed=2, size=SIZE, real=[str(real_ct)], targeted_fov=0.3,
                               wide_fov=0.5))
    before = {r["index"]: r for r in read_records(plain / "annotations.jsonl")}
    after = read_records(fields / "annotations.jsonl")
    assert {r["targeted_fov"] for r in after} == {True, False} and any(r["wide_fov"] for r in after)
    for r in after:
        same = before[r["index"]]
        assert r["synthetic"] and not r["synthetic_anatomy"] and r["anatomy_id"] == same["anatomy_id"]
        image = read_image(fields / r["image"])[0]
        assert image.shape == (SIZE, SIZE) and np.isfinite(image.pixels).all()
        assert image.spacing_mm == pytest.approx(r["pixel_spacing_mm"], rel=1e-4)  # the PNG carries it
        if r["targeted_fov"]:
            assert 0.39 * same["fov_mm"] < r["fov_mm"] < 0.91 * same["fov_mm"]
        elif r["wide_fov"]:
            assert 1.19 * same["fov_mm"] < r["fov_mm"] <= min(1.91 * same["fov_mm"], 500.0)
        else:
            assert r == {**same, "wide_fov": False, "targeted_fov": False}

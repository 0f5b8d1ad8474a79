"""Importers: tiny fixtures in the LDCTIQAC 2023 layout and the generic CSV layout, through the CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tifffile
from typer.testing import CliRunner

from radscribe.cli.main import app
from radscribe.ctiqa.dataset import read_records
from radscribe.ctiqa.dataset.records import REQUIRED_KEYS
from radscribe.io import read_image, write_hu_png

runner = CliRunner()


def _slice(seed: int) -> np.ndarray:
    """A 64 x 64 HU slice: water disc in air with noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:64, :64] - 31.5
    hu = np.where(yy**2 + xx**2 < 28**2, 40.0, -1000.0) + rng.normal(0, 15, (64, 64))
    return np.round(hu).astype(np.float32)


@pytest.fixture()
def ldctiqac(tmp_path):
    folder = tmp_path / "LDCTIQAC2023_train"
    (folder / "image").mkdir(parents=True)
    for i in range(3):
        tifffile.imwrite(folder / "image" / f"{i:04d}.tif", _slice(i))
    scores = {"0000.tif": 3.8, "0001.tif": 1.2, "0002.tif": 2.4, "0003.tif": 0.6}  # 0003 is missing
    (folder / "train.json").write_text(json.dumps(scores))
    return folder


def test_import_ldctiqac_layout(ldctiqac, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["data", "import-ldctiqac", str(ldctiqac), "--out", str(out)])
    assert result.exit_code == 2, result.output  # one listed image is missing: reported, the rest imported
    assert "0003.tif" in result.output and "3 records" in result.output
    records = read_records(out)
    assert [r["score"] for r in records] == [3.8, 1.2, 2.4]
    assert [r["category"] for r in records] == ["excellent", "poor", "fair"]
    for r in records:
        assert set(REQUIRED_KEYS) <= set(r)
        assert r["synthetic"] is False and r["aspects"] is None and r["params"] is None
        assert r["caption_source"] == "score-template" and r["category"] in r["caption"]
    [image] = read_image(out / records[0]["image"])
    assert image.meta.units == "HU"
    np.testing.assert_array_equal(image.pixels, np.maximum(_slice(0), -1024))  # exact; the PNG floor is -1024 HU


def test_imported_tiffs_record_a_given_pixel_spacing_and_a_dicom_keeps_its_own(ldctiqac, tmp_path, pydicom_test_dir):
    """A model with pixel-size channels needs each slice's spacing; LDCTIQAC's TIFFs carry none."""
    out = tmp_path / "out"
    runner.invoke(app, ["data", "import-ldctiqac", str(ldctiqac), "--out", str(out), "--pixel-spacing", "0.68"])
    assert [r["pixel_spacing_mm"] for r in read_records(out)] == [0.68] * 3
    assert {read_image(out / r["image"])[0].spacing_mm for r in read_records(out)} == {0.68}  # in the PNG too
    runner.invoke(app, ["data", "import-ldctiqac", str(ldctiqac), "--out", str(tmp_path / "bare")])
    assert [r["pixel_spacing_mm"] for r in read_records(tmp_path / "bare")] == [None] * 3
    shutil.copy(pydicom_test_dir / "CT_small.dcm", tmp_path / "ct.dcm")
    (tmp_path / "scores.csv").write_text("ct.dcm,3.0\n")
    result = runner.invoke(app, ["data", "import-csv", str(tmp_path / "scores.csv"), "--out", str(tmp_path / "csv"),
                                 "--pixel-spacing", "0.7"])
    assert result.exit_code == 0, result.output
    assert read_records(tmp_path / "csv")[0]["pixel_spacing_mm"] == pytest.approx(0.661468)  # the DICOM's own


def test_import_ldctiqac_needs_one_score_json(ldctiqac, tmp_path):
    (ldctiqac / "other.json").write_text("{}")
    result = runner.invoke(app, ["data", "import-ldctiqac", str(ldctiqac), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--scores" in result.output


def test_import_csv_with_dicom_png_and_bad_rows(tmp_path, pydicom_test_dir):
    shutil.copy(pydicom_test_dir / "CT_small.dcm", tmp_path / "ct.dcm")
    write_hu_png(tmp_path / "slice.png", _slice(7))  # radscribe's own HU PNG: read as HU without flags
    (tmp_path / "scores.csv").write_text(
        "path,score,caption\n"
        "ct.dcm,3.0,Good quality with mild noise.\n"
        "slice.png,1.6\n"
        "missing.dcm,2.0\n"
        "slice.png,seven\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["data", "import-csv", str(tmp_path / "scores.csv"), "--out", str(out)])
    assert result.exit_code == 2
    assert "missing.dcm" in result.output and "seven" in result.output
    records = read_records(out)
    assert len(records) == 2
    assert records[0]["caption"] == "Good quality with mild noise." and records[0]["caption_source"] == "given"
    assert records[1]["category"] == "fair" and "fair" in records[1]["caption"]
    [ct] = read_image(out / records[0]["image"])
    [original] = read_image(tmp_path / "ct.dcm")
    np.testing.assert_allclose(ct.pixels, np.round(original.pixels))


def test_import_csv_refuses_non_hu_images(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((32, 32), 128, np.uint8)).save(tmp_path / "photo.png")
    (tmp_path / "s.csv").write_text("photo.png,2\n")
    result = runner.invoke(app, ["data", "import-csv", str(tmp_path / "s.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not in HU" in result.output

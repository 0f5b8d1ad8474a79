"""Pixel-size input channels (``mm:input``, ``mm:native``): the annotation protocol's thresholds are physical
(mm, a 0.7 mm reference spacing) and pixels are not. Encoding, augmentation, and where the spacing comes from
(the DICOM file, else ``--pixel-spacing``; a PNG without it is refused by name)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from radscribe.errors import ConfigError
from radscribe.iqagpt.preprocess import AIR_HU, preprocess_uint8, resolve_windows


def body(size: int) -> np.ndarray:
    """A square of soft tissue in air."""
    hu = np.full((size, size), AIR_HU, np.float32)
    hu[size // 5:-size // 5, size // 5:-size // 5] = 40.0
    return hu

def test_pixel_size_channels_encode_the_input_and_native_pixel_in_millimetres():
    from radscribe.iqagpt.preprocess import PIXEL_CHANNELS, needs_spacing

    both = ("ldct", "mm:input", "mm:native")
    assert resolve_windows(("ldct", "MM:Input")) == ("W350/L40", "mm:input") and needs_spacing(both)
    assert not needs_spacing(("ldct", "lung:hv", "ldct:d"))
    x512 = preprocess_uint8(body(512), windows=both, spacing_mm=0.7)  # 358 mm field: 1.4 mm input pixels
    x256 = preprocess_uint8(body(256), windows=both, spacing_mm=0.7)  # half the field, same native pixel
    assert (x512[1] == 128).all() and (x512[2] == 128).all()  # the reference sizes are the middle grey
    assert (x256[1] == 64).all() and (x256[2] == 128).all()  # input pixel halved: a quarter of the range lower
    assert np.array_equal(x512[:1], preprocess_uint8(body(512), windows=("ldct",)))
    assert PIXEL_CHANNELS["mm:input"] == 2 * PIXEL_CHANNELS["mm:native"]  # a 512 slice seen at 256
    with pytest.raises(ConfigError, match="pixel spacing"):
        preprocess_uint8(body(256), windows=both)
    # the range is a quarter to 4 times the reference: an 85 mm field (CT_small) clips to the smallest, 90 mm
    assert preprocess_uint8(body(256), windows=("mm:input",), spacing_mm=0.33)[0, 0, 0] == 0


def test_shifting_keeps_each_images_pixel_size_and_fills_air_elsewhere():
    from radscribe.iqagpt.train import random_shift

    windows = ("ldct", "mm:input")
    images = torch.from_numpy(np.stack([preprocess_uint8(body(256), windows=windows, spacing_mm=mm)
                                        for mm in (0.5, 1.5)])).float() / 255
    shifted = random_shift(images, 8, torch.Generator().manual_seed(0), windows)
    assert torch.equal(shifted[:, 1], images[:, 1])  # constant per image, and different between them
    assert images[0, 1, 0, 0] != images[1, 1, 0, 0]


def test_a_pixel_size_captioner_reads_dicom_spacing_and_asks_for_it_on_a_png(tiny_data, tmp_path):
    from typer.testing import CliRunner

    from radscribe import resources
    from radscribe.cli.main import app
    from radscribe.io import read_image, write_hu_png
    from radscribe.iqagpt.assess import load_assessor

    out = tmp_path / "mm"
    result = CliRunner().invoke(app, ["train", "captioner", "--data", str(tiny_data), "--out", str(out), "--config",
                                      "tiny", "--epochs", "1", "--threads", "1", "--windows", "ldct,lung,mm:native"])
    assert result.exit_code == 0, result.output
    assessor = load_assessor(out)
    ct = read_image(resources.pydicom_test_files_dir() / "CT_small.dcm")[0]  # 128 px of 0.661468 mm
    x = assessor.preprocess([ct])
    assert x.shape == (1, 3, 256, 256) and abs(int(x[0, 2, 0, 0]) - round((0.5 + np.log2(0.661468 / 0.7) / 4) * 255)) <= 1

    tagged = next(tiny_data.glob("**/images/*.png"))  # the dataset's own HU PNG: its spacing is in the file
    own = CliRunner().invoke(app, ["assess", str(tagged), "--model", str(out), "--json"])
    assert own.exit_code == 0, own.output
    png = tmp_path / "no-spacing.png"  # the same pixels as a HU PNG that says nothing of its pixel size
    write_hu_png(png, read_image(tagged)[0].pixels)
    bad = CliRunner().invoke(app, ["assess", str(png), "--model", str(out), "--json"])
    assert bad.exit_code == 2 and "pixel spacing" in bad.output and png.name in bad.output
    good = CliRunner().invoke(app, ["assess", str(png), "--model", str(out), "--json", "--pixel-spacing", "0.7"])
    assert good.exit_code == 0, good.output
    assert json.loads(good.output.strip().splitlines()[-1])["path"].endswith(png.name)


def test_benchmark_gives_a_pixel_size_model_each_records_spacing(tiny_data, tmp_path):
    """Datasets made before PNGs carried their spacing: the record's ``pixel_spacing_mm`` is the one read."""
    import shutil

    from typer.testing import CliRunner

    from radscribe.cli.main import app
    from radscribe.io import read_image, write_hu_png

    data = tmp_path / "old-pngs"
    shutil.copytree(tiny_data, data, ignore=shutil.ignore_patterns(".cache"))
    for png in (data / "images").glob("*.png"):
        write_hu_png(png, read_image(png)[0].pixels)  # as written before: no spacing in the file
    assert read_image(next((data / "images").glob("*.png")))[0].spacing_mm is None
    model = tmp_path / "mm"
    trained = CliRunner().invoke(app, ["train", "captioner", "--data", str(data), "--out", str(model), "--config",
                                       "tiny", "--epochs", "1", "--threads", "1", "--windows", "ldct,mm:native"])
    assert trained.exit_code == 0, trained.output
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["benchmark", "ctiqa", "--data", str(data), "--out", str(out), "--model",
                                      str(model), "--tiny", "--llm-subset", "0", "--threads", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["splits"][0]["end_to_end_slices_per_s"] > 0


def test_the_shipped_captioner_reads_the_pixel_size_and_small_trains_the_same_channels():
    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.preprocess import needs_spacing
    from radscribe.iqagpt.train import get_config

    assessor = load_assessor()
    assert needs_spacing(assessor.windows)
    assert assessor.loaded.manifest["train_config"]["windows"] == list(get_config("small").windows)

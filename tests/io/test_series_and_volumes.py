"""Series ordering by slice position, NIfTI volumes, and PNG/TIFF with and without HU."""

from __future__ import annotations

import random

import nibabel as nib
import numpy as np
import pydicom
import pytest
import tifffile
from PIL import Image

from radscribe.io import HUMapping, expand_paths, iter_images, read_image, write_hu_png


def _write_series(folder, source, z_positions, instance_numbers):
    ds = pydicom.dcmread(source)
    names = [f"im{i:03d}.dcm" for i in range(len(z_positions))]
    random.Random(3).shuffle(names)  # file names must not decide the order
    for name, z, number in zip(names, z_positions, instance_numbers):
        ds.ImagePositionPatient = [0.0, 0.0, z]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.InstanceNumber = number
        ds.SliceLocation = z
        ds.save_as(folder / name)


def test_folder_series_sorted_by_position_not_name(tmp_path, pydicom_test_dir):
    z = [30.0, -10.0, 5.0, 12.5, 0.0]
    _write_series(tmp_path, pydicom_test_dir / "CT_small.dcm", z, instance_numbers=[1, 2, 3, 4, 5])
    ordered = expand_paths([tmp_path])
    positions = [float(pydicom.dcmread(p).ImagePositionPatient[2]) for p in ordered]
    assert positions == sorted(z)
    slices = [images[0].meta.slice_position for _, images in iter_images([tmp_path])]
    assert slices == sorted(z)


def test_series_position_follows_orientation_normal(tmp_path, pydicom_test_dir):
    # Sagittal orientation: normal = row x column = (0,1,0) x (0,0,-1) = (-1,0,0),
    # so x (not z, not the file name) orders the slices, descending along +x.
    ds = pydicom.dcmread(pydicom_test_dir / "CT_small.dcm")
    for i, x in enumerate([3.0, -2.0, 1.0]):
        ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
        ds.ImagePositionPatient = [x, 0.0, 100.0 - i]
        ds.save_as(tmp_path / f"s{i}.dcm")
    xs = [float(pydicom.dcmread(p).ImagePositionPatient[0]) for p in expand_paths([tmp_path])]
    assert xs == [3.0, 1.0, -2.0]


def _nifti(tmp_path, data, slope=1.0, inter=0.0, name="vol.nii.gz"):
    image = nib.Nifti1Image(data, affine=np.diag([0.8, 0.8, 2.5, 1.0]))
    image.header.set_slope_inter(slope, inter)
    path = tmp_path / name
    nib.save(image, path)
    return path


def test_nifti_slices_in_hu_and_radiological_orientation(tmp_path):
    data = np.full((40, 32, 3), 1024, dtype=np.int16)  # stored = HU + 1024
    data[35, 30, 1] = 1024 + 500
    path = _nifti(tmp_path, data, slope=1.0, inter=-1024.0)
    slices = read_image(path)
    assert len(slices) == 3 and all(s.meta.units == "HU" for s in slices)
    assert slices[0].shape == (32, 40)  # rows = y (A-P), cols = x (R-L)
    assert slices[1].meta.pixel_spacing == pytest.approx((0.8, 0.8))
    assert slices[2].meta.slice_position - slices[0].meta.slice_position == pytest.approx(5.0)
    # The marked voxel sits at large x (towards patient right in RAS+) and large y (anterior):
    # radiological display puts patient right on the image LEFT and anterior at the TOP.
    r, c = np.unravel_index(np.argmax(slices[1].pixels), slices[1].shape)
    assert slices[1].pixels[r, c] == pytest.approx(500.0)
    assert r < 16 and c < 20


def test_nifti_with_nan_is_refused(tmp_path):
    from radscribe.errors import InvalidPixelDataError

    data = np.zeros((20, 20, 2), dtype=np.float32)
    data[3, 4, 1] = np.nan
    with pytest.raises(InvalidPixelDataError, match="NaN"):
        read_image(_nifti(tmp_path, data, name="nan.nii"))


def test_png_8bit_16bit_rgb(tmp_path):
    grey = (np.arange(64 * 64).reshape(64, 64) % 256).astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / "g8.png")
    deep = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "g16.png")
    rgb = np.stack([grey, grey, grey], axis=-1)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    colour = np.zeros((32, 32, 3), np.uint8)
    colour[..., 1] = 100
    Image.fromarray(colour).save(tmp_path / "green.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g8.png")[0].pixels, grey)
    [g16] = read_image(tmp_path / "g16.png")
    np.testing.assert_array_equal(g16.pixels, deep)
    assert g16.meta.units == "raw" and g16.pixels.max() > 255
    np.testing.assert_array_equal(read_image(tmp_path / "rgb.png")[0].pixels, grey)
    assert read_image(tmp_path / "green.png")[0].pixels[0, 0] == pytest.approx(58.7, abs=0.01)


def test_png_declared_hu_and_radscribe_tagged_png(tmp_path):
    hu = np.linspace(-1000, 1500, 48 * 48, dtype=np.float32).reshape(48, 48).round()
    write_hu_png(tmp_path / "ours.png", hu)
    [ours] = read_image(tmp_path / "ours.png")  # recognised by its tEXt chunk
    assert ours.meta.units == "HU"
    np.testing.assert_array_equal(ours.pixels, hu)
    Image.fromarray((hu + 1024).astype(np.uint16)).save(tmp_path / "plain.png")
    [plain] = read_image(tmp_path / "plain.png", hu=HUMapping(1.0, -1024.0))
    np.testing.assert_array_equal(plain.pixels, hu)


def test_tiff_float_hu_like_ldctiqac(tmp_path):
    hu = np.random.default_rng(0).normal(40, 20, (64, 64)).astype(np.float32)
    tifffile.imwrite(tmp_path / "0001.tif", hu)
    [image] = read_image(tmp_path / "0001.tif", hu=HUMapping())
    assert image.meta.units == "HU"
    np.testing.assert_array_equal(image.pixels, hu)

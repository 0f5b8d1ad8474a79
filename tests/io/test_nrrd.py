"""NRRD volumes (as 3D Slicer and pyradiomics write them): HU slices, radiological orientation, bad files."""

from __future__ import annotations

import nrrd
import numpy as np
import pytest

from radscribe.errors import UnreadableImageError, UnsupportedImageError
from radscribe.io import iter_images, read_image


def _volume(tmp_path, data, space="left-posterior-superior", directions=None, name="vol.nrrd"):
    header = {"space": space, "space directions": directions if directions is not None else np.diag([0.6, 0.6, 5.0]),
              "space origin": np.array([-150.0, -150.0, -300.0]), "encoding": "gzip"}
    path = tmp_path / name
    nrrd.write(str(path), data, header)
    return path


def test_lps_volume_reads_as_hu_slices_left_on_the_right_anterior_up(tmp_path):
    data = np.full((48, 40, 3), -1000, dtype=np.int16)  # x (towards the patient's left), y (posterior), z (up)
    data[44, 2, 1] = 400  # far left, anterior
    slices = read_image(_volume(tmp_path, data))
    assert len(slices) == 3 and all(s.meta.units == "HU" and s.meta.format == "nrrd" for s in slices)
    assert slices[0].shape == (40, 48) and slices[1].meta.pixel_spacing == pytest.approx((0.6, 0.6))
    assert slices[2].meta.slice_position - slices[0].meta.slice_position == pytest.approx(10.0)
    r, c = np.unravel_index(np.argmax(slices[1].pixels), slices[1].shape)
    assert slices[1].pixels[r, c] == pytest.approx(400.0)
    assert r < 20 and c > 24  # anterior at the top, the patient's left on the image right


def test_ras_volume_and_negative_steps_land_the_same_way(tmp_path):
    data = np.full((48, 40, 2), -1000, dtype=np.int16)
    # RAS: +i runs to the patient's right, so the left is at small i; a negative A step makes +j run posterior
    data[3, 2, 0] = 400  # the patient's left, anterior
    slices = read_image(_volume(tmp_path, data, space="right-anterior-superior",
                                directions=np.diag([0.6, -0.6, 5.0])))
    r, c = np.unravel_index(np.argmax(slices[0].pixels), slices[0].shape)
    assert r < 20 and c > 24


def test_oblique_and_corrupt_volumes_are_refused_with_the_reason(tmp_path):
    data = np.zeros((20, 20, 2), dtype=np.int16)
    oblique = np.array([[0.6, 0.3, 0.0], [-0.3, 0.6, 0.0], [0.0, 0.0, 5.0]])
    with pytest.raises(UnsupportedImageError, match="oblique"):
        read_image(_volume(tmp_path, data, directions=oblique, name="oblique.nrrd"))
    bad = tmp_path / "broken.nrrd"
    bad.write_bytes(_volume(tmp_path, data, name="ok.nrrd").read_bytes()[:200])
    with pytest.raises(UnreadableImageError, match="broken.nrrd"):
        read_image(bad)
    # in a batch the bad file is reported and the good one still read
    results = dict(iter_images([tmp_path / "ok.nrrd", bad]))
    assert isinstance(results[bad], UnreadableImageError) and len(results[tmp_path / "ok.nrrd"]) == 2

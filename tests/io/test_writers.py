"""Atomic writers: results appear whole, with the usual file permissions; HU PNGs keep HU and pixel spacing."""

import os
import stat

import numpy as np
import pytest
from PIL import Image

from radscribe.errors import UnreadableImageError
from radscribe.io import read_image
from radscribe.io.writers import HU_PNG_KEY, HU_PNG_SPACING_KEY, HU_PNG_VALUE, atomic_write_text, write_hu_png


def test_atomic_write_gives_umask_permissions_not_0600(tmp_path):
    target = tmp_path / "result.json"
    atomic_write_text(target, "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert target.read_text() == "{}"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_hu_png_round_trips_hu_and_pixel_spacing_but_a_screen_dpi_is_not_a_spacing(tmp_path):
    hu = np.tile(np.array([[-1000, -1], [40, 3000]], dtype=np.float32), (8, 8))  # 16 x 16, the smallest read
    write_hu_png(tmp_path / "ours.png", hu, pixel_spacing_mm=0.488281)
    ours = read_image(tmp_path / "ours.png")[0]
    assert ours.is_hu and np.array_equal(ours.pixels, hu)
    assert ours.meta.pixel_spacing == (0.488281, 0.488281) and ours.spacing_mm == pytest.approx(0.488281)

    write_hu_png(tmp_path / "bare.png", hu)
    assert read_image(tmp_path / "bare.png")[0].spacing_mm is None

    # Someone else's 16-bit PNG at 300 dpi (0.085 mm "pixels"): a display setting, so no spacing is read.
    Image.fromarray((hu + 1024).astype(np.uint16)).save(tmp_path / "dpi.png", dpi=(300, 300))
    assert read_image(tmp_path / "dpi.png")[0].spacing_mm is None

    with pytest.raises(ValueError):
        write_hu_png(tmp_path / "nan.png", hu, pixel_spacing_mm=float("nan"))


def test_a_hu_png_with_a_nonsense_spacing_is_refused_by_name(tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(HU_PNG_KEY, HU_PNG_VALUE)
    info.add_text(HU_PNG_SPACING_KEY, "-0.5")
    Image.fromarray(np.full((16, 16), 1024, dtype=np.uint16)).save(tmp_path / "odd.png", pnginfo=info)
    with pytest.raises(UnreadableImageError, match="odd.png.*not a positive number"):
        read_image(tmp_path / "odd.png")

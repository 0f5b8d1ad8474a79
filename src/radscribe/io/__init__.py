"""Medical image I/O: the one place that reads DICOM, NIfTI and PNG/JPEG/TIFF.

>>> from radscribe.io import read_image, apply_window
>>> [ct] = read_image("slice.dcm")            # CT -> Hounsfield units
>>> preview = apply_window(ct.pixels, "abdomen")  # float32 in [0, 1]
"""

from radscribe.io.image import ImageMeta, MedicalImage
from radscribe.io.raster import RADSCRIBE_PNG, HUMapping
from radscribe.io.reader import detect_format, expand_paths, iter_images, order_series, read_image
from radscribe.io.windowing import PRESETS, Window, apply_window, auto_range, get_window, to_uint8
from radscribe.io.writers import atomic_write_json, atomic_write_text, write_hu_png, write_png_atomic

__all__ = [
    "ImageMeta",
    "MedicalImage",
    "HUMapping",
    "RADSCRIBE_PNG",
    "read_image",
    "iter_images",
    "expand_paths",
    "order_series",
    "detect_format",
    "PRESETS",
    "Window",
    "apply_window",
    "auto_range",
    "get_window",
    "to_uint8",
    "atomic_write_json",
    "atomic_write_text",
    "write_hu_png",
    "write_png_atomic",
]

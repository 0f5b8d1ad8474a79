"""Which mapping to [0, 1] an image gets for display or model input, by its units.

* HU (CT): a window; ``abdomen`` unless the caller names one.
* display (CR/DX after VOI LUT): already display-ready, used as is.
* raw (MR, plain PNG): the caller's window, else the file's stored window, else a percentile stretch.
"""

from __future__ import annotations

import numpy as np

from radscribe.io.image import MedicalImage
from radscribe.io.windowing import Window, apply_window, auto_range, get_window

DEFAULT_CT_WINDOW = "abdomen"


def chosen_window(image: MedicalImage, window: str | Window | None = None) -> Window | None:
    if window is not None and image.meta.units != "display":
        return get_window(window)
    if image.meta.units == "HU":
        return get_window(DEFAULT_CT_WINDOW)
    if image.meta.units == "raw" and image.meta.window is not None:
        center, width = image.meta.window
        return Window(center, width) if width > 0 else None
    return None


def display_unit(image: MedicalImage, window: str | Window | None = None) -> np.ndarray:
    """float32 in [0, 1], larger is brighter."""
    chosen = chosen_window(image, window)
    if chosen is not None:
        return apply_window(image.pixels, chosen)
    if image.meta.units == "display":
        return np.clip(image.pixels, 0.0, 1.0).astype(np.float32)
    return auto_range(image.pixels)

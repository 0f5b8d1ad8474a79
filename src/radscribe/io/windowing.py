"""Display windows: the one place that maps values to [0, 1] for viewing or model input.

A window is (center L, width W) in HU; values below L - W/2 map to 0 and above
L + W/2 to 1, linearly between (DICOM PS3.3 C.11.2.1.2 "LINEAR_EXACT").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from radscribe.errors import ConfigError


@dataclass(frozen=True)
class Window:
    center: float
    width: float

    def __post_init__(self) -> None:
        if not np.isfinite(self.center) or not np.isfinite(self.width) or self.width <= 0:
            raise ConfigError(f"invalid window L={self.center} W={self.width}: width must be a positive number")

    @property
    def low(self) -> float:
        return self.center - self.width / 2

    @property
    def high(self) -> float:
        return self.center + self.width / 2

    def __str__(self) -> str:
        return f"W{self.width:g}/L{self.center:g}"


PRESETS: dict[str, Window] = {
    "abdomen": Window(40, 400),
    "ldct": Window(40, 350),  # LDCTIQAC's reading window
    "lung": Window(-600, 1500),
    "mediastinum": Window(50, 350),
    "brain": Window(40, 80),
    "bone": Window(500, 2000),
    # 2000..3000 HU: black below dense bone, white for implants (titanium ~6000 HU at 70 keV; scanners store
    # up to 3071): the soft-tissue and lung windows paint a clip as white as a rib. A wider W4000/L1000,
    # which keeps bone grey, showed phantom bone (sharper than real bone) to the captioner (docs/iqagpt-experiments.md)
    "metal": Window(2500, 1000),
}

_CUSTOM = re.compile(r"^\s*W?\s*(?P<w>[-+]?\d+(\.\d+)?)\s*[/,:]?\s*L\s*(?P<l>[-+]?\d+(\.\d+)?)\s*$", re.I)
_PAIR = re.compile(r"^\s*(?P<w>[-+]?\d+(\.\d+)?)\s*[/,:]\s*(?P<l>[-+]?\d+(\.\d+)?)\s*$")


def get_window(spec: str | Window) -> Window:
    """A preset name (``abdomen``, ``lung``...) or a custom ``W400/L40`` / ``400/40`` (width/level)."""
    if isinstance(spec, Window):
        return spec
    key = spec.strip().lower()
    if key in PRESETS:
        return PRESETS[key]
    match = _CUSTOM.match(spec) or _PAIR.match(spec)
    if match:
        return Window(center=float(match["l"]), width=float(match["w"]))
    names = ", ".join(PRESETS)
    raise ConfigError(f"unknown window {spec!r}: use a preset ({names}) or width/level such as W400/L40")


def apply_window(values: np.ndarray, window: Window | str) -> np.ndarray:
    """Map values (HU) through a window to float32 in [0, 1]."""
    win = get_window(window)
    out = (np.asarray(values, dtype=np.float32) - np.float32(win.low)) / np.float32(win.width)
    return np.clip(out, 0.0, 1.0, out=out)


def auto_range(values: np.ndarray, lower_pct: float = 0.5, upper_pct: float = 99.5) -> np.ndarray:
    """Percentile stretch to [0, 1] for images with no calibrated units (MR, plain PNG)."""
    arr = np.asarray(values, dtype=np.float32)
    lo, hi = np.percentile(arr, [lower_pct, upper_pct])
    if hi <= lo:
        return np.zeros_like(arr)
    return np.clip((arr - lo) / (hi - lo), 0.0, 1.0)


def to_uint8(unit: np.ndarray) -> np.ndarray:
    """[0, 1] floats to 8-bit grey levels (round half up)."""
    return (np.clip(unit, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)

"""Anatomy for the CT-IQA data: procedural phantoms (SYNTHETIC) and real CT slices.

>>> from radscribe.ctiqa.phantoms import make_phantom
>>> ph = make_phantom("abdomen", seed=7)          # 512 x 512 HU, liver on the image left
>>> ph.regions["liver"].mean(), ph.metal_sites["spine"]

The seed fully determines the anatomy (``anatomy_id`` = ``"<anatomy>-<seed:06d>"``), so
different seeds give different patients and the same seed gives the same pixels.
Radiological convention: the patient's LEFT is on the IMAGE RIGHT, anterior is up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np

from radscribe.ctiqa.phantoms.canvas import Canvas
from radscribe.ctiqa.phantoms.phantom import Phantom
from radscribe.ctiqa.phantoms.real import heldout_real_ct_paths, real_phantoms
from radscribe.ctiqa.phantoms.viscera import Findings
from radscribe.errors import ConfigError

Builder = Callable[[np.random.Generator, int], "tuple[Canvas, Findings]"]
ANATOMIES: tuple[str, ...] = ("abdomen", "chest", "head", "pelvis")
#: anatomies that can be drawn with the arms down at the sides (``arms.py``)
ARMS_DOWN_ANATOMIES: tuple[str, ...] = ("abdomen", "chest")


def _builder(anatomy: str) -> Builder:
    """The ``build_<anatomy>`` function of module ``phantoms/<anatomy>.py``."""
    module = importlib.import_module(f"radscribe.ctiqa.phantoms.{anatomy}")
    return getattr(module, f"build_{anatomy}")


# What usually sits at each implant site, so captions and the simulator can agree on it.
METAL_SITE_INFO: dict[str, dict[str, object]] = {
    "spine": {"device": "pedicle screws / spinal fixation", "radius_mm": 4.0, "material": "titanium"},
    "surgical clips": {"device": "cholecystectomy clips in the gallbladder fossa", "radius_mm": 2.0, "material": "titanium"},
    "IVC filter": {"device": "inferior vena cava filter", "radius_mm": 2.5, "material": "steel"},
    "pacemaker": {"device": "pacemaker generator in the left anterior chest wall", "radius_mm": 12.0, "material": "titanium"},
    "sternal wires": {"device": "sternotomy wires", "radius_mm": 1.5, "material": "steel"},
    "aneurysm clip": {"device": "intracranial aneurysm clip near the sylvian fissure", "radius_mm": 3.0, "material": "cobalt-chrome"},
    "shunt": {"device": "ventricular shunt valve / burr-hole catheter", "radius_mm": 3.0, "material": "titanium"},
    "skull plate": {"device": "craniotomy plate and screws", "radius_mm": 4.0, "material": "titanium"},
    "left hip": {"device": "left hip prosthesis (femoral head)", "radius_mm": 22.0, "material": "cobalt-chrome"},
    "right hip": {"device": "right hip prosthesis (femoral head)", "radius_mm": 22.0, "material": "cobalt-chrome"},
}


def make_phantom(anatomy: str, seed: int, size: int = 512, *, arms_down: bool = False) -> Phantom:
    """A SYNTHETIC axial slice of ``anatomy`` ("abdomen", "chest", "head", "pelvis"), fully set by ``seed``.

    ``arms_down`` puts the arms at the patient's sides (chest and abdomen): the same patient on a wider field.
    It is recorded in ``info["arms_down"]``; False when the patient is too wide for arms on a 500 mm field.
    """
    if anatomy not in ANATOMIES:
        raise ConfigError(f"unknown phantom anatomy {anatomy!r}; choose one of {', '.join(ANATOMIES)}")
    if int(seed) < 0:
        raise ConfigError(f"phantom seed must be a non-negative integer, got {seed}")
    if not 64 <= int(size) <= 2048:
        raise ConfigError(f"phantom size {size} is out of range: use 64 to 2048 pixels (512 is typical)")
    # Each anatomy has its own stream, so abdomen seed 5 and chest seed 5 are unrelated patients.
    rng = np.random.default_rng([int(seed), ANATOMIES.index(anatomy), 0x5EED])
    if arms_down and anatomy not in ARMS_DOWN_ANATOMIES:
        raise ConfigError(f"arms down is drawn for {' and '.join(ARMS_DOWN_ANATOMIES)} only, not {anatomy!r}")
    arms = {"arms": np.random.default_rng([int(seed), ANATOMIES.index(anatomy), 0xA235])} if arms_down else {}
    canvas, findings = _builder(anatomy)(rng, int(size), **arms)
    hu, body, regions = canvas.finish()

    def to_rc(point: tuple[float, float]) -> tuple[float, float]:
        row, col = canvas.to_pixel(*point)
        return round(float(row), 2), round(float(col), 2)

    lesions = []
    for lesion in findings.lesions:
        entry = {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in lesion.items() if k != "center_mm"}
        entry["center_rc"] = to_rc(lesion["center_mm"])
        lesions.append(entry)
    return Phantom(
        hu=hu,
        pixel_spacing_mm=canvas.spacing,
        anatomy=anatomy,
        anatomy_id=f"{anatomy}-{int(seed):06d}",
        body_mask=body,
        regions=regions,
        metal_sites={name: to_rc(p) for name, p in findings.metal_sites.items()},
        synthetic=True,
        lesions=lesions,
        info={"phase": canvas.phase, "fov_mm": round(canvas.n * canvas.spacing, 1), "tissue_hu": dict(canvas.values),
              **({"arms_down": "arm" in regions} if arms_down else {})},
    )


__all__ = ["Phantom", "make_phantom", "real_phantoms", "heldout_real_ct_paths", "ANATOMIES", "ARMS_DOWN_ANATOMIES",
           "METAL_SITE_INFO"]

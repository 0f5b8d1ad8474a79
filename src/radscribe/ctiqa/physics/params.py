"""Acquisition parameters: one dataclass per simulated scan, JSON round-trippable."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from radscribe.ctiqa.physics.tables import METALS
from radscribe.errors import ConfigError

#: Views per 360 deg rotation of the full-quality scan. Clinical scanners read
#: ~1000-1200 views per rotation. The two half-turns are interleaved (see
#: ParallelGeometry.angles), so 1000 views sample 1000 distinct ray directions over
#: 180 deg (0.18 deg apart). At one-pixel detector bins this is free of view aliasing
#: out to a radius of 1000 * spacing / pi (223 mm at 0.7 mm), beyond the inscribed
#: circle of a 512 matrix (see docs/ct-physics.md for the check).
FULL_VIEWS = 1000


@dataclass
class MetalInsert:
    """A circular metal implant cross-section."""

    center_rc: tuple[float, float]  # pixel (row, col)
    radius_mm: float
    material: str = "titanium"  # "titanium" | "steel" | "cobalt-chrome"
    site: str = ""  # anatomical name from Phantom.metal_sites, carried into captions

    def __post_init__(self) -> None:
        self.center_rc = (float(self.center_rc[0]), float(self.center_rc[1]))
        if self.material not in METALS:
            raise ConfigError(f"unknown metal {self.material!r}; choose one of {list(METALS)}")
        if not self.radius_mm > 0:
            raise ConfigError(f"metal radius_mm must be positive, got {self.radius_mm}")


@dataclass
class AcquisitionParams:
    """What degrades a scan. Defaults are the full-quality reference acquisition."""

    dose_fraction: float = 1.0  # fraction of the reference dose (incident photons per rotation) -> noise
    n_views: int = FULL_VIEWS  # projections per rotation; fewer -> sparse-view streaks
    angular_range_deg: float = 360.0  # < 360: limited-angle scan (< 180 deg: missing-wedge artefacts)
    metal: list[MetalInsert] = field(default_factory=list)
    motion_mm: float = 0.0  # peak patient displacement during the rotation
    ring_gain_sd: float = 0.0  # SD of per-detector gain errors (fraction) -> rings
    blur_fwhm_mm: float = 0.0  # extra resolution loss of the signal (focal spot, detector aperture), FWHM in mm; noise is not smoothed
    kernel_fwhm_mm: float = 0.0  # a softer reconstruction kernel than the standard: extra Gaussian FWHM in mm; smooths noise too
    seed: int = 0

    def __post_init__(self) -> None:
        self.metal = [m if isinstance(m, MetalInsert) else MetalInsert(**m) for m in self.metal]
        if isinstance(self.n_views, numbers.Integral):
            self.n_views = int(self.n_views)  # numpy integers from a sampler are fine
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError naming the first value that is out of range."""
        checks = [
            ("dose_fraction", 0.0 < self.dose_fraction <= 100.0, "in (0, 100]"),
            ("n_views", isinstance(self.n_views, int) and 8 <= self.n_views <= 5000, "an integer in [8, 5000]"),
            ("angular_range_deg", 10.0 <= self.angular_range_deg <= 360.0, "in [10, 360]"),
            ("motion_mm", 0.0 <= self.motion_mm <= 100.0, "in [0, 100]"),
            ("ring_gain_sd", 0.0 <= self.ring_gain_sd <= 0.5, "in [0, 0.5]"),
            ("blur_fwhm_mm", 0.0 <= self.blur_fwhm_mm <= 50.0, "in [0, 50]"),
            ("kernel_fwhm_mm", 0.0 <= self.kernel_fwhm_mm <= 50.0, "in [0, 50]"),
        ]
        for name, ok, expected in checks:
            value = getattr(self, name)
            if not ok or (isinstance(value, float) and not math.isfinite(value)):
                raise ConfigError(f"AcquisitionParams.{name} must be {expected}, got {value!r}")

    @property
    def is_reference(self) -> bool:
        """True when nothing degrades the scan except (ideal) metal."""
        return self == AcquisitionParams(metal=self.metal, seed=self.seed)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (metal inserts as dicts, centres as lists)."""
        d = asdict(self)
        for m in d["metal"]:
            m["center_rc"] = list(m["center_rc"])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AcquisitionParams:
        """Inverse of :meth:`to_dict`; unknown keys are a ConfigError (typos must not pass silently)."""
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"unknown acquisition parameter(s) {sorted(unknown)}; known: {sorted(known)}")
        values = dict(d)
        values["metal"] = [MetalInsert(**m) if isinstance(m, dict) else m for m in d.get("metal", [])]
        if "n_views" in values:
            values["n_views"] = int(values["n_views"])
        return cls(**values)

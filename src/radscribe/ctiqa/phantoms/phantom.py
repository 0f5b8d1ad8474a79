"""The Phantom record: one axial slice with its truth (HU image, masks, implant sites)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Phantom:
    """One axial slice with its truth: HU image, masks and where implants could sit."""

    hu: np.ndarray  # float32 (N, N), HU, air -1000: the full-quality "truth" slice
    pixel_spacing_mm: float  # square pixels; FOV = N * spacing
    anatomy: str  # "abdomen" | "chest" | "head" | "pelvis" | "real"
    anatomy_id: str  # unique id of this anatomy; dataset splits are made by it
    body_mask: np.ndarray  # bool (N, N): inside the patient (couch and head holder excluded)
    regions: dict[str, np.ndarray]  # bool masks by name; organ masks exclude their lesions
    metal_sites: dict[str, tuple[float, float]]  # implant centre (row, col) by name, patient terms
    synthetic: bool  # False only for real slices
    # Added beyond the contract (all optional):
    lesions: list[dict] = field(default_factory=list)  # {"name": "lesion_0", "organ", "kind", "diameter_mm", "center_rc"}
    info: dict = field(default_factory=dict)  # e.g. {"phase": "portal", "fov_mm": 400.0, "source": path}

    @property
    def fov_mm(self) -> float:
        return float(self.hu.shape[0] * self.pixel_spacing_mm)

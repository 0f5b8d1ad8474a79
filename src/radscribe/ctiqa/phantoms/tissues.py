"""Target attenuation of every tissue the phantoms paint, with the literature range it comes from.

Each phantom draws one value per tissue uniformly inside the range of its contrast phase
(inter-patient variability), then adds correlated texture of ``fine_sd`` (about 1 mm grain)
and ``coarse_sd`` (1-2 cm blotches) HU. Ranges are typical adult values at 120 kVp from
standard CT references (e.g. Hofer, *CT Teaching Manual*; Lamba et al., RadioGraphics 2014 on
CT number; Kalender, *Computed Tomography*); the phantoms are SYNTHETIC and only aim for the
values a radiologist expects to read off a region of interest.
"""

from __future__ import annotations

from dataclasses import dataclass

from radscribe.errors import ConfigError


@dataclass(frozen=True)
class Tissue:
    """A tissue class: HU range unenhanced (``native``) and in portal-venous phase (``portal``)."""

    native: tuple[float, float]
    portal: tuple[float, float] | None = None  # None: contrast does not change it
    fine_sd: float = 3.0
    coarse_sd: float = 2.0
    group: str = ""  # aggregate region name ("fat", "muscle", "bone", ...), "" for none

    def hu_range(self, phase: str) -> tuple[float, float]:
        return self.portal if (phase == "portal" and self.portal is not None) else self.native


_T = Tissue
TISSUES: dict[str, Tissue] = {
    # generic
    "air": _T((-1000, -1000), fine_sd=0, coarse_sd=0, group="air"),
    "gas": _T((-1000, -990), fine_sd=2, coarse_sd=0, group="air"),
    "fat": _T((-115, -90), fine_sd=5, coarse_sd=3, group="fat"),
    "skin": _T((20, 50), fine_sd=4, coarse_sd=2, group="soft_tissue"),
    "muscle": _T((45, 58), (55, 68), fine_sd=5, coarse_sd=3, group="muscle"),
    "cortical bone": _T((850, 1200), fine_sd=60, coarse_sd=40, group="bone"),
    "marrow": _T((180, 300), fine_sd=45, coarse_sd=25, group="bone"),
    "cartilage": _T((90, 140), fine_sd=10, coarse_sd=10, group="soft_tissue"),
    "csf": _T((2, 10), fine_sd=2, coarse_sd=1, group="csf"),
    "epidural fat": _T((-110, -80), fine_sd=6, coarse_sd=3, group="fat"),
    "table": _T((150, 400), fine_sd=5, coarse_sd=0, group="table"),
    # blood and vessels
    "blood": _T((38, 50), (150, 250), fine_sd=3, coarse_sd=2, group="vessel"),
    "venous blood": _T((38, 50), (130, 180), fine_sd=3, coarse_sd=3, group="vessel"),
    "vessel wall calcium": _T((400, 800), fine_sd=20, coarse_sd=0, group="calcification"),
    # abdomen
    "liver": _T((55, 65), (100, 120), fine_sd=4, coarse_sd=4, group=""),
    "spleen": _T((42, 52), (105, 125), fine_sd=4, coarse_sd=3, group=""),
    "kidney cortex": _T((30, 40), (150, 200), fine_sd=4, coarse_sd=3, group=""),
    "kidney medulla": _T((28, 38), (100, 140), fine_sd=4, coarse_sd=3, group=""),
    "urine": _T((0, 15), fine_sd=2, coarse_sd=1, group="fluid"),
    "pancreas": _T((40, 50), (90, 110), fine_sd=5, coarse_sd=4, group=""),
    "bile": _T((0, 20), fine_sd=2, coarse_sd=1, group="fluid"),
    "bowel wall": _T((35, 45), (70, 100), fine_sd=5, coarse_sd=3, group="bowel"),
    "bowel fluid": _T((5, 25), fine_sd=3, coarse_sd=3, group="bowel"),
    "stool": _T((-40, 40), fine_sd=25, coarse_sd=15, group="bowel"),
    "gastric content": _T((10, 30), fine_sd=4, coarse_sd=5, group="bowel"),
    # chest
    "lung": _T((-900, -850), fine_sd=14, coarse_sd=10, group=""),
    "myocardium": _T((40, 50), (90, 130), fine_sd=3, coarse_sd=2, group=""),
    "esophagus": _T((35, 50), (60, 80), fine_sd=4, coarse_sd=2, group="soft_tissue"),
    "fibroglandular": _T((20, 45), fine_sd=8, coarse_sd=5, group="soft_tissue"),
    "airway wall": _T((20, 50), fine_sd=4, coarse_sd=2, group="soft_tissue"),
    "pericardium": _T((15, 35), fine_sd=3, coarse_sd=1, group="soft_tissue"),
    "lymph node": _T((30, 45), (60, 85), fine_sd=4, coarse_sd=2, group="soft_tissue"),
    # head
    "grey matter": _T((35, 45), fine_sd=1.5, coarse_sd=1.5, group="brain"),
    "white matter": _T((20, 30), fine_sd=1.5, coarse_sd=1.5, group="brain"),
    "deep grey matter": _T((32, 40), fine_sd=1.5, coarse_sd=1.5, group="brain"),
    "skull": _T((1100, 1500), fine_sd=60, coarse_sd=40, group="bone"),
    "diploe": _T((350, 650), fine_sd=70, coarse_sd=40, group="bone"),
    "dura": _T((55, 80), fine_sd=3, coarse_sd=0, group="soft_tissue"),
    "calcification": _T((150, 400), fine_sd=20, coarse_sd=0, group="calcification"),
    # pelvis
    "uterus": _T((40, 55), (80, 110), fine_sd=4, coarse_sd=3, group="soft_tissue"),
    "prostate": _T((35, 50), (60, 85), fine_sd=4, coarse_sd=3, group="soft_tissue"),
    # lesions
    "cyst": _T((0, 15), fine_sd=2, coarse_sd=1, group=""),
    "hypodense lesion": _T((25, 40), (50, 75), fine_sd=5, coarse_sd=3, group=""),
    "hyperdense lesion": _T((75, 95), (140, 180), fine_sd=5, coarse_sd=3, group=""),
    "solid nodule": _T((20, 60), fine_sd=6, coarse_sd=3, group=""),
    "ground-glass nodule": _T((-650, -400), fine_sd=25, coarse_sd=10, group=""),
    "brain hypodensity": _T((10, 20), fine_sd=2.5, coarse_sd=1.5, group=""),
}


def tissue(name: str) -> Tissue:
    """Look a tissue up by name, with a helpful error for a typo."""
    try:
        return TISSUES[name]
    except KeyError:
        raise ConfigError(f"unknown tissue {name!r}; known: {', '.join(sorted(TISSUES))}") from None

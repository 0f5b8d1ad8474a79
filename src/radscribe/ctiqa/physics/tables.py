"""Physical constants and tables of the CT acquisition model.

Every number here is data, not code, and says where it comes from. The
spectrum and attenuation tables were computed once, offline, with SpekPy 2.5.4
(x-ray tube spectra) and xraydb 4.5.8 (Elam et al. photon cross-sections,
total attenuation including coherent scattering); the snippet that made them is
in ``docs/ct-physics.md``. Neither package is needed at run time.
"""

from __future__ import annotations

import numpy as np

#: Effective energy at which images are expressed in HU (keV). 70 keV is the
#: usual virtual-monoenergetic equivalent of a 120 kVp image, and it is close to
#: the effective energy of our spectrum behind 20 cm of water (72 keV).
EFFECTIVE_ENERGY_KEV = 70.0

#: Linear attenuation of water at 70 keV (1/mm): xraydb 4.5.8 (Elam), 0.19285 cm^2/g
#: x 1.0 g/cm^3; NIST XCOM gives 0.1929 cm^2/g (log-log between 60 and 80 keV).
MU_WATER_PER_MM = 0.019285

#: Reference incident photons per view, per millimetre of detector width at the
#: isocentre, at dose_fraction 1 with FULL_VIEWS views per rotation. Calibrated
#: (benchmarks/bench_ctsim.py --calibrate) so that a 320 mm water cylinder at
#: 0.7 mm pixels with the default kernel has a noise SD of about 10 HU at its centre.
I0_REF_PER_MM = 3.0e6

#: Electronic (read-out) noise SD in photon-equivalent counts per detector bin and
#: view. Energy-integrating CT detectors are quoted at an electronic noise variance
#: of roughly 10 quanta^2 (Yu et al., Med Phys 39:7, 2012, low-dose simulation).
ELECTRONIC_NOISE_SD = 3.0

#: Lowest count kept before the logarithm: the scanner's floor for photon starvation.
MIN_COUNTS = 1.0

#: 120 kVp tungsten spectrum, 12 deg anode, 3 mm Al + 0.2 mm Cu filtration
#: (first HVL 7.9 mm Al, typical of a clinical CT beam at the isocentre), in 5 keV
#: bins from 17.5 to 117.5 keV: fluence-weighted mean energy of each bin (keV).
SPECTRUM_KEV = np.array(
    [21.61, 26.0, 30.55, 35.31, 40.18, 45.1, 50.06, 55.03, 59.37, 65.46,
     69.83, 74.99, 79.98, 84.97, 89.95, 94.94, 99.92, 104.88, 109.81, 114.62]
)

#: Detector weight of each bin (energy-integrating detector: fluence x energy),
#: normalised to sum 1. The bin at 59 keV holds the tungsten K lines.
SPECTRUM_WEIGHT = np.array(
    [4e-05, 0.00132, 0.00847, 0.02328, 0.04108, 0.05691, 0.06852, 0.07569,
     0.15831, 0.10222, 0.07803, 0.06488, 0.06204, 0.05781, 0.05249, 0.04617,
     0.03895, 0.03078, 0.02161, 0.01142]
)
SPECTRUM_WEIGHT = SPECTRUM_WEIGHT / SPECTRUM_WEIGHT.sum()

#: Linear attenuation (1/mm) at SPECTRUM_KEV. Compositions by mass and densities:
#: water H 11.19 % O 88.81 %, 1.0 g/cm^3; titanium = Ti-6Al-4V, 4.43 g/cm^3;
#: steel = 316L (Fe 65.5, Cr 17, Ni 12, Mo 2.5, Mn 2, Si 1 %), 8.0 g/cm^3;
#: cobalt-chrome = ASTM F75 (Co 65.5, Cr 28, Mo 6.5 %), 8.3 g/cm^3.
MU_SPECTRUM_PER_MM: dict[str, np.ndarray] = {
    "water": np.array(
        [0.06815, 0.047316, 0.036582, 0.030442, 0.026722, 0.024322, 0.022678,
         0.021489, 0.02069, 0.019813, 0.019303, 0.018793, 0.018368, 0.017993,
         0.017658, 0.017355, 0.017077, 0.01682, 0.016583, 0.016365]
    ),
    "titanium": np.array(
        [5.391585, 3.173732, 2.003725, 1.331379, 0.929795, 0.6793, 0.515978,
         0.405223, 0.33622, 0.267327, 0.231414, 0.198957, 0.174789, 0.155779,
         0.140599, 0.128314, 0.11825, 0.109923, 0.102981, 0.097233]
    ),
    "steel": np.array(
        [17.181813, 10.228173, 6.49674, 4.322739, 3.009469, 2.183039, 1.640922,
         1.27174, 1.04092, 0.809711, 0.688956, 0.579796, 0.4986, 0.43487,
         0.384117, 0.343162, 0.309724, 0.282158, 0.259278, 0.240432]
    ),
    "cobalt-chrome": np.array(
        [19.615884, 11.744911, 7.490127, 4.995287, 3.482579, 2.52836, 1.900296,
         1.471009, 1.202043, 0.932352, 0.791385, 0.663869, 0.568957, 0.494421,
         0.435041, 0.387115, 0.347984, 0.315728, 0.288962, 0.266922]
    ),
}

#: Linear attenuation at EFFECTIVE_ENERGY_KEV (1/mm): what an ideal (monochromatic)
#: reconstruction shows, so the metal's HU in the reference image.
MU_70KEV_PER_MM: dict[str, float] = {
    "water": MU_WATER_PER_MM,
    "titanium": 0.230226,
    "steel": 0.684959,
    "cobalt-chrome": 0.786718,
}

METALS: tuple[str, ...] = ("titanium", "steel", "cobalt-chrome")


def hu_to_mu(hu: np.ndarray) -> np.ndarray:
    """HU -> linear attenuation (1/mm) at 70 keV; below -1000 HU (padding) counts as air."""
    return (MU_WATER_PER_MM * (1.0 + np.maximum(hu, -1000.0) / 1000.0)).astype(np.float32)


def mu_to_hu(mu: np.ndarray) -> np.ndarray:
    """Linear attenuation (1/mm) at 70 keV -> HU."""
    return (1000.0 * (mu / MU_WATER_PER_MM - 1.0)).astype(np.float32)

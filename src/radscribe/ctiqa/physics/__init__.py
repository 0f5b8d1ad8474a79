"""CT acquisition physics: a virtual parallel-beam (rebinned) scanner for one slice.

>>> from radscribe.ctiqa.physics import AcquisitionParams, MetalInsert, simulate
>>> result = simulate(hu, 0.7, AcquisitionParams(dose_fraction=0.25, n_views=180))
>>> result.reference_hu, result.degraded_hu, result.info["noiseless_hu"]

The model (HU -> attenuation at 70 keV, Fourier-slice projector, 120 kVp spectrum
with metal beam hardening, Poisson + electronic noise, detector gains, water
correction, FBP) and its constants are described in ``docs/ct-physics.md``.
Everything it makes is SYNTHETIC.
"""

from radscribe.ctiqa.physics.geometry import ParallelGeometry
from radscribe.ctiqa.physics.kernels import DEFAULT_KERNEL, WINDOWS, ReconKernel
from radscribe.ctiqa.physics.measure import measure_all, roi_sd, streak_energy
from radscribe.ctiqa.physics.params import FULL_VIEWS, AcquisitionParams, MetalInsert
from radscribe.ctiqa.physics.projector import ParallelProjector, projector_for
from radscribe.ctiqa.physics.simulate import SimResult, simulate
from radscribe.ctiqa.physics.tables import METALS, hu_to_mu, mu_to_hu

__all__ = [
    "DEFAULT_KERNEL",
    "FULL_VIEWS",
    "METALS",
    "WINDOWS",
    "AcquisitionParams",
    "MetalInsert",
    "ParallelGeometry",
    "ParallelProjector",
    "ReconKernel",
    "SimResult",
    "hu_to_mu",
    "measure_all",
    "mu_to_hu",
    "projector_for",
    "roi_sd",
    "simulate",
    "streak_energy",
]

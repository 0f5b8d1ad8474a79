"""Two kinds of blur: the signal's (focal spot, detector aperture; the noise stays sharp) and a soft
reconstruction kernel (smooths the noise too). The annotation sees both as blur; only the kernel lowers the noise.

Measured with these settings (abdomen phantom seed 3, 256 px at 1.37 mm, half dose): blur 0.10 / 2.48 / 2.48 mm
and noise SD 2.06 / 2.10 / 1.27 HU for none / 2.5 mm signal blur / 2.5 mm soft kernel.
"""

from __future__ import annotations

import numpy as np
import pytest

from radscribe.ctiqa import annotate_simulation, sample_params
from radscribe.ctiqa.phantoms import make_phantom
from radscribe.ctiqa.physics import AcquisitionParams, simulate
from radscribe.ctiqa.physics.kernels import DEFAULT_KERNEL, ReconKernel, filter_response
from radscribe.errors import ConfigError


@pytest.fixture(scope="module")
def scans():
    phantom = make_phantom("abdomen", 3, 256)
    out = {}
    for name, extra in (("none", {}), ("signal", {"blur_fwhm_mm": 2.5}), ("kernel", {"kernel_fwhm_mm": 2.5})):
        sim = simulate(phantom.hu, phantom.pixel_spacing_mm, AcquisitionParams(dose_fraction=0.5, seed=1, **extra),
                       body_mask=phantom.body_mask)
        out[name] = (sim, annotate_simulation(sim, phantom))
    return out


def test_both_blurs_are_measured_at_the_width_asked_and_called_blur(scans):
    assert scans["none"][1].measurements["blur_fwhm_mm"] < 0.4 and scans["none"][1].aspects["blur"] == "none"
    for name in ("signal", "kernel"):
        sim, ann = scans[name]
        assert ann.measurements["blur_fwhm_mm"] == pytest.approx(2.5, rel=0.15), name
        assert ann.aspects["blur"] == "moderate", name
    assert scans["kernel"][0].info["kernel"] == "hann@0.75+gauss2.5mm"
    assert scans["none"][0].info["kernel"] == "hann@0.75"  # the name older records carry


def test_only_the_soft_kernel_smooths_the_noise(scans):
    noise = {name: ann.measurements["noise_sd_hu"] for name, (_, ann) in scans.items()}
    assert noise["signal"] == pytest.approx(noise["none"], rel=0.08)
    assert noise["kernel"] < 0.75 * noise["none"]


def test_the_soft_kernel_is_the_standard_one_times_a_gaussian():
    k, spacing = 1024, 0.7
    soft = filter_response(ReconKernel(smooth_fwhm_mm=2.0), k, spacing)
    standard = filter_response(DEFAULT_KERNEL, k, spacing)
    freq = np.arange(k // 2 + 1) / k
    sigma_px = 2.0 / 2.3548 / spacing
    np.testing.assert_allclose(soft, standard * np.exp(-0.5 * (2 * np.pi * freq * sigma_px) ** 2), rtol=1e-3, atol=1e-12)
    with pytest.raises(ConfigError):
        ReconKernel(smooth_fwhm_mm=-1.0)
    with pytest.raises(ConfigError, match="kernel_fwhm_mm"):
        AcquisitionParams(kernel_fwhm_mm=80.0)


def test_soft_kernel_share_leaves_every_other_acquisition_as_it_was():
    phantom = make_phantom("chest", 1, 128)
    blurred = 0
    for seed in range(300):
        before = sample_params(np.random.default_rng(seed), phantom)
        default = sample_params(np.random.default_rng(seed), phantom, soft_kernel=0.0)
        kernel = sample_params(np.random.default_rng(seed), phantom, soft_kernel=1.0)
        assert default == before and before.kernel_fwhm_mm == 0.0
        if before.blur_fwhm_mm > 0:  # the same strength, moved to the kernel
            blurred += 1
            assert kernel.kernel_fwhm_mm == before.blur_fwhm_mm and kernel.blur_fwhm_mm == 0.0
        else:
            assert kernel == before
    assert blurred >= 15  # 7% blur draws plus combos: the loop saw the case it tests

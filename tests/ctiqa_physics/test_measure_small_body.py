"""Noise and streak measures on a body too small for the half-tile grid (a head on a wide field)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from radscribe.ctiqa.physics.measure import TILE, directional_split


def _small_disc() -> np.ndarray:
    yy, xx = np.mgrid[:256, :256]
    return (yy - 144) ** 2 + (xx - 144) ** 2 < 44**2


def test_no_half_grid_tile_fits_the_small_disc():
    # what makes the case: no 64 x 64 tile of the usual half-tile grid lies 95% inside this disc
    cover = sliding_window_view(_small_disc(), (TILE, TILE))[:: TILE // 2, :: TILE // 2].mean(axis=(2, 3))
    assert cover.max() < 0.95


def test_noise_is_measured_on_a_small_body_not_nan():
    error = np.random.default_rng(0).normal(0.0, 10.0, (256, 256))
    got = directional_split(error, _small_disc())
    assert got["n_tiles"] > 0
    assert 9.0 < got["noise_sd_hu"] < 11.0
    assert got["streak_sd_hu"] < 3.0


def test_streaks_are_measured_on_a_small_body():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:256, :256]
    stripes = 8.0 * np.sin(2 * np.pi * (0.8 * xx + 0.6 * yy) / 5.0)  # one direction, 5-px period
    noise_only = directional_split(rng.normal(0.0, 5.0, (256, 256)), _small_disc())
    streaked = directional_split(rng.normal(0.0, 5.0, (256, 256)) + stripes, _small_disc())
    assert streaked["streak_sd_hu"] > 3.0 * max(noise_only["streak_sd_hu"], 1.0)

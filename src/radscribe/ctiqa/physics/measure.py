"""Image-quality measurements on a (reference, degraded) pair, in physical units.

All measures look at the error image ``e = degraded - reference`` inside an analysis
mask (the body, eroded, minus metal), so they isolate what the acquisition added.

* ``noise_sd_hu`` and ``streak_sd_hu`` split the local error variance in two. The
  error is cut into 64 x 64 tiles (Hann-tapered); in each tile's power spectrum,
  binned by radial band and orientation (7.5 deg bins), the background is the
  smooth angular trend (a robust fit of low even harmonics: quantum noise is
  isotropic in a round body and broadly anisotropic in an elongated one), and power
  that sticks out above it in narrow orientations is directional structure: streaks,
  view-aliasing fringes, limited-angle smears. ``streak_sd_hu`` is the SD of that
  directional part, ``noise_sd_hu`` of the rest (both HU; squares add up to the
  local error variance). Pure noise gives streak_sd near 0 (tested).
* ``ring_sd_hu``: RMS over radii of the error's mean on circles about the
  isocentre, after removing its slow trend and the noise floor.
* ``blur_fwhm_mm``: FWHM of the Gaussian that best explains the degraded image's
  transfer relative to the reference, from the cross-spectrum (noise is not
  correlated with the reference, so it drops out).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage

TILE = 64
_ANGLE_BINS = 24
_HARMONICS = 2  # smooth angular model: cos/sin of 2*phi and 4*phi
_BAND_EDGES = (4.0, 8.0, 12.0, 17.0, 22.0, 27.0, 32.0)  # cycles per tile (Nyquist = 32)
_MIN_TILE_COVER = 0.95


def error_image(reference_hu: np.ndarray, degraded_hu: np.ndarray) -> np.ndarray:
    """degraded - reference, float64."""
    return np.asarray(degraded_hu, np.float64) - np.asarray(reference_hu, np.float64)


def analysis_mask(body_mask: np.ndarray, exclude: np.ndarray | None = None, *, erode_px: int = 3,
                  exclude_margin_px: int = 3) -> np.ndarray:
    """Body eroded by ``erode_px`` (skin edges), minus ``exclude`` (e.g. metal) grown by a margin."""
    mask = ndimage.binary_erosion(body_mask, iterations=erode_px) if erode_px > 0 else body_mask.copy()
    if exclude is not None and exclude.any():
        mask &= ~ndimage.binary_dilation(exclude, iterations=exclude_margin_px)
    return mask


def roi_sd(image_hu: np.ndarray, roi: np.ndarray) -> float:
    """Plain SD (HU) of the pixels in a region: noise in a uniform region such as water."""
    return float(np.std(np.asarray(image_hu, np.float64)[roi]))


@lru_cache(maxsize=4)
def _spectral_bins(tile: int) -> tuple[np.ndarray, np.ndarray, int]:
    """For each FFT bin of a tile: combined (band, angle) bin index (-1 = unused); counts; n_bins."""
    k = np.fft.fftfreq(tile) * tile
    ky, kx = np.meshgrid(k, k, indexing="ij")
    rho = np.hypot(kx, ky)
    angle = np.mod(np.arctan2(ky, kx), np.pi)
    band = np.digitize(rho, _BAND_EDGES) - 1  # -1 below the first edge, len-1 at/after the last
    a_bin = np.mod(np.floor(angle / np.pi * _ANGLE_BINS + 0.5).astype(int), _ANGLE_BINS)  # centred on 0, 7.5, ...deg
    n_bands = len(_BAND_EDGES) - 1
    valid = (band >= 0) & (band < n_bands)
    index = np.where(valid, band * _ANGLE_BINS + a_bin, -1).ravel()
    counts = np.bincount(index[index >= 0], minlength=n_bands * _ANGLE_BINS)
    return index, counts, n_bands


def _tiles(error: np.ndarray, mask: np.ndarray, tile: int) -> np.ndarray:
    """(n, tile, tile) error tiles that lie inside the mask, on a half-tile grid.

    When none fits (a small body on a wide field: a head at 1.8 mm pixels is under 100 pixels across,
    its eroded mask holds no 64 x 64 square) the tiles are taken on an eighth-tile grid and judged by
    their coverage weighted with the Hann taper the spectra use, which gives a tile's corners almost no
    weight; the error outside the mask (the skin edge) is zeroed. Without any tile every measure built
    on them would be NaN, and an artefact that cannot be measured would be labelled absent.
    """
    step = tile // 2
    keep = sliding_window_view(mask, (tile, tile))[::step, ::step].mean(axis=(2, 3)) >= _MIN_TILE_COVER
    if keep.any():
        return sliding_window_view(error, (tile, tile))[::step, ::step][keep]
    step = tile // 8
    taper = np.outer(np.hanning(tile), np.hanning(tile)) ** 2
    windows = sliding_window_view(mask, (tile, tile))[::step, ::step]
    cover = np.tensordot(windows.astype(np.float64), taper, axes=([2, 3], [0, 1])) / taper.sum()
    keep = cover >= _MIN_TILE_COVER
    return sliding_window_view(np.where(mask, error, 0.0), (tile, tile))[::step, ::step][keep]


@lru_cache(maxsize=1)
def _harmonic_projector() -> np.ndarray:
    """Least-squares fit matrix (A, A): angular profile -> its smooth part (low even harmonics)."""
    phi = np.arange(_ANGLE_BINS) * np.pi / _ANGLE_BINS
    cols = [np.ones_like(phi)]
    for h in range(1, _HARMONICS + 1):
        cols += [np.cos(2 * h * phi), np.sin(2 * h * phi)]
    design = np.stack(cols, axis=1)
    return design @ np.linalg.pinv(design)


def _smooth_angular_model(mean: np.ndarray, scatter: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Per tile and band, the broad angular trend of the power (e.g. the anisotropic noise of an
    elongated body), fitted robustly: narrow peaks (streaks) are clipped before each refit."""
    fit = _harmonic_projector()
    model = mean @ fit.T
    for _ in range(iterations):
        clipped = np.minimum(mean, np.maximum(model, 0.0) * (1.0 + 2.0 * scatter))
        model = clipped @ fit.T
    floor = 1e-3 * mean.mean(axis=2, keepdims=True) + 1e-12
    return np.maximum(model, floor)


def directional_split(error: np.ndarray, mask: np.ndarray, tile: int = TILE) -> dict[str, float]:
    """Split the local error variance into isotropic (noise) and directional (streak) parts; HU."""
    tiles = _tiles(error, mask, tile)
    if tiles.shape[0] == 0:
        return {"noise_sd_hu": float("nan"), "streak_sd_hu": float("nan"), "n_tiles": 0}
    window = np.outer(np.hanning(tile), np.hanning(tile))
    centred = tiles - tiles.mean(axis=(1, 2), keepdims=True)
    spec = np.abs(np.fft.fft2(centred * window)) ** 2 / (tile * tile * (window**2).sum())
    total = spec.sum(axis=(1, 2))  # local variance of each tile
    index, counts, n_bands = _spectral_bins(tile)
    flat = spec.reshape(spec.shape[0], -1)[:, index >= 0]
    onehot = np.zeros((flat.shape[1], counts.size))
    onehot[np.arange(flat.shape[1]), index[index >= 0]] = 1.0
    mean = (flat @ onehot / counts).reshape(-1, n_bands, _ANGLE_BINS)
    n = counts.reshape(n_bands, _ANGLE_BINS)[None]
    scatter = np.sqrt(3.0 / n)  # relative SD of a bin mean of n Hann-correlated, +-k paired values
    smooth = _smooth_angular_model(mean, scatter)
    # Soft threshold: only power beyond 3 scatter-SDs above the background counts, so the
    # chance peaks of pure noise add almost nothing while a streak loses only the margin.
    excess = mean - smooth * (1.0 + 3.0 * scatter)
    directional = (np.maximum(excess, 0.0) * n).sum(axis=(1, 2))
    directional = np.minimum(directional, total)
    return {
        "noise_sd_hu": float(np.sqrt(np.mean(total - directional))),
        "streak_sd_hu": float(np.sqrt(np.mean(directional))),
        "n_tiles": int(tiles.shape[0]),
    }


def ring_sd(error: np.ndarray, mask: np.ndarray, *, trend_px: int = 9) -> float:
    """RMS (HU) of the error's circular means about the image centre, minus trend and noise floor."""
    n = error.shape[0]
    yy, xx = np.indices(error.shape)
    radius = np.rint(np.hypot(yy - (n - 1) / 2, xx - (error.shape[1] - 1) / 2)).astype(int)
    r = radius[mask]
    counts = np.bincount(r)
    used = counts >= 16
    if used.sum() < 2 * trend_px:
        return float("nan")
    e = error[mask]
    sums, sq = np.bincount(r, e), np.bincount(r, e * e)
    mean = np.where(used, sums / np.maximum(counts, 1), 0.0)
    var = np.where(used, sq / np.maximum(counts, 1) - mean**2, 0.0)
    weight = used.astype(float)
    trend = ndimage.uniform_filter1d(mean * weight, trend_px) / np.maximum(
        ndimage.uniform_filter1d(weight, trend_px), 1e-9)
    detail = (mean - trend)[used]
    # Noise floor: each circle mean averages ~counts/2 independent pixels (FBP noise is
    # correlated over ~2 pixels along the circle).
    floor = (var / np.maximum(counts / 2.0, 1.0))[used]
    return float(np.sqrt(max(np.mean(detail**2) - np.mean(floor), 0.0)))


def blur_fwhm_mm(reference_hu: np.ndarray, degraded_hu: np.ndarray, mask: np.ndarray,
                 pixel_spacing_mm: float) -> float:
    """Extra Gaussian blur (FWHM, mm) of degraded relative to reference, from their cross-spectrum."""
    window = ndimage.gaussian_filter(mask.astype(float), 3.0)
    ref = (reference_hu - reference_hu[mask].mean()) * window
    deg = (degraded_hu - degraded_hu[mask].mean()) * window
    fr, fd = np.fft.rfft2(ref), np.fft.rfft2(deg)
    fy = np.fft.fftfreq(ref.shape[0])[:, None]
    fx = np.fft.rfftfreq(ref.shape[1])[None, :]
    rho = np.hypot(fy, fx)  # cycles per pixel
    edges = np.linspace(0.02, 0.35, 23)
    band = np.digitize(rho, edges) - 1
    ok = (band >= 0) & (band < edges.size - 1)
    cross = np.bincount(band[ok], (fd * np.conj(fr)).real[ok], minlength=edges.size - 1)
    power = np.bincount(band[ok], (np.abs(fr) ** 2)[ok], minlength=edges.size - 1)
    centre = 0.5 * (edges[1:] + edges[:-1])
    good = power > 1e-3 * power.max()
    transfer = np.clip(cross[good] / power[good], 1e-3, 1.0)
    # ln H = -(2 pi f sigma)^2 / 2: least squares through the origin in f^2.
    x = (2 * np.pi * centre[good]) ** 2 / 2
    y = -np.log(transfer)
    w = transfer  # trust bands where the signal survives
    sigma2 = max(float((w * x * y).sum() / (w * x * x).sum()), 0.0)
    return float(np.sqrt(sigma2) * 2.0 * np.sqrt(2.0 * np.log(2.0)) * pixel_spacing_mm)


def local_sd(error: np.ndarray, mask: np.ndarray, tile: int = TILE) -> float:
    """SD (HU) of the error about its local (tile) mean: what the eye sees as texture, not bias."""
    tiles = _tiles(error, mask, tile)
    if tiles.shape[0] == 0:
        return float("nan")
    return float(np.sqrt(tiles.var(axis=(1, 2)).mean()))


def streak_energy(error: np.ndarray, mask: np.ndarray) -> float:
    """Directional power (HU^2) of an error image: see :func:`directional_split`."""
    return directional_split(error, mask)["streak_sd_hu"] ** 2


def measure_all(reference_hu: np.ndarray, degraded_hu: np.ndarray, *, body_mask: np.ndarray | None = None,
                pixel_spacing_mm: float = 0.7, metal_mask: np.ndarray | None = None,
                noiseless_hu: np.ndarray | None = None) -> dict[str, Any]:
    """Every measure at once (what annotate() uses), in a flat dict of floats.

    Keys: ``noise_sd_hu``, ``artifact_sd_hu``, ``streak_sd_hu``, ``ring_sd_hu``,
    ``blur_fwhm_mm``, ``error_rms_hu``, ``error_mean_hu``, ``error_p99_hu``, ``n_tiles``,
    ``exact_split`` (1.0 when ``noiseless_hu`` was given).

    With ``noiseless_hu`` (``SimResult.info["noiseless_hu"]``) the split is exact:
    noise = SD of degraded - noiseless; artefacts = local SD of noiseless - reference,
    and the streak measure looks at the artefacts only. Without it, noise and streaks
    come from the spectral split of the whole error and ``artifact_sd_hu`` equals
    ``streak_sd_hu`` (broad, non-directional artefacts then count as noise).
    """
    if body_mask is None:
        body_mask = np.asarray(reference_hu) > -500.0
    mask = analysis_mask(body_mask, metal_mask)
    error = error_image(reference_hu, degraded_hu)
    out: dict[str, Any] = {}
    if noiseless_hu is not None:
        artefact = error_image(reference_hu, noiseless_hu)
        split = directional_split(artefact, mask)
        out["noise_sd_hu"] = float(np.std(error_image(noiseless_hu, degraded_hu)[mask])) if mask.any() else float("nan")
        out["artifact_sd_hu"] = local_sd(artefact, mask)
        out["streak_sd_hu"] = split["streak_sd_hu"]
    else:
        split = directional_split(error, mask)
        out["noise_sd_hu"] = split["noise_sd_hu"]
        out["artifact_sd_hu"] = split["streak_sd_hu"]
        out["streak_sd_hu"] = split["streak_sd_hu"]
    out["ring_sd_hu"] = ring_sd(error, mask)
    out["blur_fwhm_mm"] = blur_fwhm_mm(reference_hu, degraded_hu, mask, pixel_spacing_mm)
    out["error_rms_hu"] = float(np.sqrt(np.mean(error[mask] ** 2))) if mask.any() else float("nan")
    out["error_mean_hu"] = float(np.mean(error[mask])) if mask.any() else float("nan")
    out["error_p99_hu"] = float(np.percentile(np.abs(error[mask]), 99)) if mask.any() else float("nan")
    out["n_tiles"] = float(split["n_tiles"])
    out["exact_split"] = 1.0 if noiseless_hu is not None else 0.0
    return out

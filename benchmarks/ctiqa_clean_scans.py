"""Clean scans a captioner should call clean: which scan settings does it misread as degradation?

Every scan here has NO degradation (full dose, full views, no motion, metal, rings or extra blur), so
every correct caption says "no visible ..." and scores near 4. Two checks:

* ``kernel``: SYNTHETIC phantoms and the held-out REAL slices, each reconstructed soft (Hann 0.4 lp/mm),
  standard and sharp (Shepp-Logan to Nyquist). A call that appears only on real anatomy, whatever the
  kernel, says the cue is the anatomy, not the physics.
* ``dose``: SYNTHETIC phantoms and the held-out REAL slices from 3% to 4x the reference dose, nothing
  else degraded. Is the cue for a false "blur" an image that is too smooth? (Then more noise texture
  should remove the call and less should add it.)
* ``anatomy``: SYNTHETIC phantoms and the held-out REAL slices, the anatomy itself changed before a clean scan:
  softened (Gaussian, 0.5 / 1 mm), sharpened (unsharp mask), or everything more than 10 mm outside the body
  set to air (no table, no clothing). Real slices carry unlabelled native softness (thick slices, partial
  volume, resampling) that ideal phantoms never have: if softening phantoms makes "blur" appear and
  sharpening real slices makes it go, the cue is the anatomy's own sharpness.
* ``fov``: SYNTHETIC phantoms reconstructed on a targeted (zoomed-in) or wider field of view: the
  whole phantom is scanned on a finer grid and the central N x N pixels are kept, which is what a
  targeted reconstruction from full projections shows; or the phantom is padded with air and
  resampled to a coarser grid before the scan (a wide field: a head holder's, a small patient's).
* ``anatomy`` also turns each slice by 90 degrees (a patient on the side, an image stored turned) and
  makes everything between -1000 and -200 HU 15% more negative (real slices' air reads about -950 HU on
  average: their own noise, clipped at -1000 when they become a phantom, and foam pads; phantom air is -1000).

    .venv/bin/python benchmarks/ctiqa_clean_scans.py kernel --json kernels.json
    .venv/bin/python benchmarks/ctiqa_clean_scans.py fov --json fov.json
    .venv/bin/python benchmarks/ctiqa_clean_scans.py dose --json dose.json
    .venv/bin/python benchmarks/ctiqa_clean_scans.py anatomy --json anatomy.json
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import numpy as np

KERNELS = {"soft (hann 0.4 lp/mm)": ("hann", 0.4), "standard (default)": ("hann", 0.75),
           "sharp (shepp-logan, Nyquist)": ("shepp-logan", None)}
FOV_FACTORS = (0.3, 0.5, 0.75, 1.0, 1.4, 1.9)  # reconstructed field of view / the phantom's own
DOSE_FRACTIONS = (0.03, 0.1, 0.25, 1.0, 4.0)  # of the reference dose (make-ctiqa: low dose 0.005-0.4); 1.0 as in the kernel check


def clean_scan(hu: np.ndarray, spacing_mm: float, body: np.ndarray, kernel=None, dose: float = 1.0) -> np.ndarray:
    from radscribe.ctiqa.physics.kernels import DEFAULT_KERNEL
    from radscribe.ctiqa.physics.params import AcquisitionParams
    from radscribe.ctiqa.physics.simulate import simulate

    params = AcquisitionParams(dose_fraction=dose, seed=1)
    return simulate(hu, spacing_mm, params, body_mask=body, kernel=kernel or DEFAULT_KERNEL).degraded_hu


def _synthetic_and_real(size: int, seeds: int):
    from radscribe.ctiqa.phantoms import ANATOMIES, heldout_real_ct_paths, make_phantom, real_phantoms

    yield from (make_phantom(a, s, size) for a in ANATOMIES for s in range(seeds))
    yield from real_phantoms([str(p) for p in heldout_real_ct_paths()], size)


def dose_scans(size: int, seeds: int):
    for phantom in _synthetic_and_real(size, seeds):
        for dose in DOSE_FRACTIONS:
            image = clean_scan(phantom.hu, phantom.pixel_spacing_mm, phantom.body_mask, dose=dose)
            yield f"{'synthetic' if phantom.synthetic else 'real'} | dose x{dose}", phantom.anatomy_id, image


def kernel_scans(size: int, seeds: int):
    from radscribe.ctiqa.physics.kernels import ReconKernel

    for phantom in _synthetic_and_real(size, seeds):
        for name, (window, cutoff) in KERNELS.items():
            image = clean_scan(phantom.hu, phantom.pixel_spacing_mm, phantom.body_mask, ReconKernel(window, cutoff))
            yield f"{'synthetic' if phantom.synthetic else 'real'} | {name}", phantom.anatomy_id, image


ANATOMY_VARIANTS = ("as is", "softened 0.5 mm", "softened 1 mm", "sharpened", "air outside body", "turned 90 degrees",
                    "air-side HU x1.15")


def changed_anatomy(hu: np.ndarray, spacing_mm: float, body: np.ndarray, variant: str) -> np.ndarray:
    """The ground-truth HU map changed as ``variant`` says (before any scan physics)."""
    from scipy import ndimage

    if variant.startswith("softened"):
        return ndimage.gaussian_filter(hu, float(variant.split()[1]) / spacing_mm)
    if variant == "sharpened":  # unsharp mask: 1 mm Gaussian, amount 1
        return np.clip(2 * hu - ndimage.gaussian_filter(hu, 1.0 / spacing_mm), -1024, 3071).astype(np.float32)
    if variant == "air outside body":
        near_body = ndimage.binary_dilation(body, iterations=max(1, int(round(10 / spacing_mm))))
        return np.where(near_body, hu, -1000.0).astype(np.float32)
    if variant == "turned 90 degrees":  # a patient lying on the side, or an image stored turned
        return np.ascontiguousarray(np.rot90(hu))
    if variant == "air-side HU x1.15":  # -1000..-200 HU made 15% more negative: air, gas, foam and their edges
        return np.where((hu > -1000) & (hu < -200), hu * 1.15, hu).astype(np.float32)
    return hu


def anatomy_scans(size: int, seeds: int):
    for phantom in _synthetic_and_real(size, seeds):
        for variant in ANATOMY_VARIANTS:
            hu = changed_anatomy(phantom.hu, phantom.pixel_spacing_mm, phantom.body_mask, variant)
            body = np.ascontiguousarray(np.rot90(phantom.body_mask)) if variant.startswith("turned") else phantom.body_mask
            image = clean_scan(hu, phantom.pixel_spacing_mm, body)
            yield f"{'synthetic' if phantom.synthetic else 'real'} | {variant}", phantom.anatomy_id, image


def fov_scans(size: int, seeds: int):
    from radscribe.ctiqa.dataset.pipeline import widen_phantom
    from radscribe.ctiqa.phantoms import ANATOMIES, make_phantom

    for anatomy in ANATOMIES:
        for seed in range(seeds):
            full_fov = make_phantom(anatomy, seed, size).fov_mm
            for factor in FOV_FACTORS:
                # zoomed in: the same patient on a finer grid, centre kept; wider: the patient's truth map padded
                # with air and resampled to N x N, then scanned on that coarser grid (make-ctiqa --wide-fov; until
                # 2026-11-30 the padded scan was shrunk after reconstruction, which also smoothed its noise)
                if factor <= 1:
                    grid = int(round(size / factor))
                    phantom = make_phantom(anatomy, seed, grid)
                    start = (grid - size) // 2
                    image = clean_scan(phantom.hu, phantom.pixel_spacing_mm, phantom.body_mask)[start:start + size, start:start + size]
                else:
                    phantom = widen_phantom(make_phantom(anatomy, seed, size), factor)
                    image = clean_scan(phantom.hu, phantom.pixel_spacing_mm, phantom.body_mask)
                yield f"fov x{factor}", f"{phantom.anatomy_id} ({round(full_fov * factor)} mm)", image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("check", choices=("kernel", "fov", "dose", "anatomy"))
    parser.add_argument("--model", default=None, help="captioner folder (default: the shipped one)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=2, help="synthetic phantoms per anatomy")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.preprocess import preprocess_uint8

    model = args.model or str(Path(__file__).resolve().parents[1] / "src" / "radscribe" / "checkpoints" / "ctiqa-captioner")
    assessor = load_assessor(model)
    scans = {"kernel": kernel_scans, "fov": fov_scans, "dose": dose_scans,
             "anatomy": anatomy_scans}[args.check](args.size, args.seeds)
    results = collections.defaultdict(list)
    for group, phantom_id, image in scans:
        row = assessor.assess_arrays(preprocess_uint8(image, windows=assessor.windows)[None])[0]
        called = {k: v for k, v in row["aspects"].items() if v not in (None, "none")}
        results[group].append({"id": phantom_id, "called": called, "score": row["score"]})
        print(f"{group:<40} {phantom_id[:26]:<26} {called or 'clean'} score {row['score']}", flush=True)
    summary = {group: {"n": len(rows), "degradation_called": sum(bool(r["called"]) for r in rows),
                       "blur_called": sum("blur" in r["called"] for r in rows),
                       "motion_called": sum("motion" in r["called"] for r in rows),
                       "mean_score": round(float(np.mean([r["score"] for r in rows if r["score"] is not None])), 2)}
               for group, rows in results.items()}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"check": args.check, "model": model, "summary": summary, "scans": results,
                                         "note": "clean scans: every correct caption is 'no degradation'"}, indent=1))


if __name__ == "__main__":
    main()

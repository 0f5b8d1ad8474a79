"""Physics acceptance numbers and plots for docs/ct-physics.md (the tests in tests/ctiqa_physics/test_acceptance.py
check the same quantities with tolerances).

1. Noise SD in a uniform water ROI vs dose fraction (320 mm water cylinder): should follow 1/sqrt(dose).
2. Streak energy (directional error power, noiseless scan) of an abdomen-like body vs number of views.

    .venv/bin/python benchmarks/ctiqa_physics_acceptance.py --json accept.json --plot-dir docs/img
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from radscribe.ctiqa.physics import AcquisitionParams, roi_sd, simulate, streak_energy
from radscribe.ctiqa.physics.calibration import centre_roi, ellipse_body, water_cylinder
from radscribe.ctiqa.physics.measure import analysis_mask, error_image

DOSES = (0.05, 0.1, 0.25, 0.5, 1.0)
VIEWS = (1000, 500, 250, 120, 60)


def noise_vs_dose(n: int, spacing: float, seeds=(1, 2), roi_mm: float = 80.0) -> list[dict]:
    hu, body = water_cylinder(n, spacing)
    roi = centre_roi(n, spacing, roi_mm)
    rows = []
    for dose in DOSES:
        sd = float(np.mean([roi_sd(simulate(hu, spacing, AcquisitionParams(dose_fraction=dose, seed=s),
                                             body_mask=body).degraded_hu, roi) for s in seeds]))
        rows.append({"dose_fraction": dose, "noise_sd_hu": round(sd, 3)})
    full = rows[-1]["noise_sd_hu"]
    for row in rows:
        row["expected_hu"] = round(full / math.sqrt(row["dose_fraction"]), 3)
        row["measured_over_expected"] = round(row["noise_sd_hu"] / row["expected_hu"], 4)
    return rows


def streaks_vs_views(n: int, spacing: float) -> list[dict]:
    hu, body = ellipse_body(n, spacing)
    mask = analysis_mask(body)
    rows = []
    for views in VIEWS:
        r = simulate(hu, spacing, AcquisitionParams(n_views=views), body_mask=body)
        noiseless = streak_energy(error_image(r.reference_hu, r.info["noiseless_hu"]), mask)
        with_noise = streak_energy(error_image(r.reference_hu, r.degraded_hu), mask)
        rows.append({"n_views": views, "streak_energy_hu2": float(f"{noiseless:.4g}"),
                     "streak_energy_with_noise_hu2": float(f"{with_noise:.4g}")})
    return rows


def plot(result: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    made = []
    for key, rows in result["noise"].items():
        fig, ax = plt.subplots(figsize=(4.5, 3.2), dpi=100)
        d = np.array([r["dose_fraction"] for r in rows])
        ax.loglog(d, [r["noise_sd_hu"] for r in rows], "o", label="measured (water ROI)")
        grid = np.geomspace(d.min(), 1, 50)
        ax.loglog(grid, rows[-1]["noise_sd_hu"] / np.sqrt(grid), "-", label="SD(1) / sqrt(dose)")
        ax.set_xlabel("dose fraction"), ax.set_ylabel("noise SD (HU)")
        ax.set_title(f"SYNTHETIC water cylinder, {key}", fontsize=9), ax.legend(fontsize=7)
        fig.tight_layout()
        path = out / f"ct-physics-noise-dose-{key}.png"
        fig.savefig(path)
        plt.close(fig)
        made.append(str(path))
    fig, ax = plt.subplots(figsize=(4.5, 3.2), dpi=100)
    rows = result["streaks"]
    v = [r["n_views"] for r in rows]
    ax.semilogy(v, [max(r["streak_energy_hu2"], 1e-9) for r in rows], "o-", label="noiseless scan")
    ax.semilogy(v, [r["streak_energy_with_noise_hu2"] for r in rows], "s--", label="with full-dose noise")
    ax.invert_xaxis()
    ax.set_xlabel("views per rotation"), ax.set_ylabel("streak energy (HU$^2$)")
    ax.set_title(f"SYNTHETIC ellipse body, {result['streak_setting']}", fontsize=9), ax.legend(fontsize=7)
    fig.tight_layout()
    path = out / "ct-physics-streaks-views.png"
    fig.savefig(path)
    plt.close(fig)
    made.append(str(path))
    return made


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--plot-dir", type=Path)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    result = {
        "noise": {"256px-1.5mm": noise_vs_dose(256, 1.5), "512px-0.75mm": noise_vs_dose(512, 0.75)},
        "streak_setting": "512px-0.75mm",
        "streaks": streaks_vs_views(512, 0.75),
        "synthetic": True,
    }
    for key, rows in result["noise"].items():
        print(f"noise vs dose, {key}:")
        for r in rows:
            print(f"  dose {r['dose_fraction']:<5} SD {r['noise_sd_hu']:7.2f} HU  expected {r['expected_hu']:7.2f}  "
                  f"ratio {r['measured_over_expected']:.3f}")
    print("streak energy vs views (512 px, 0.75 mm):")
    for r in result["streaks"]:
        print(f"  {r['n_views']:5d} views  {r['streak_energy_hu2']:.4g} HU^2 (with noise {r['streak_energy_with_noise_hu2']:.4g})")
    if args.plot_dir:
        result["plots"] = plot(result, args.plot_dir)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])

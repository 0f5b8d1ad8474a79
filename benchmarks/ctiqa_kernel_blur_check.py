"""Does the captioner's blur call follow the reconstruction kernel, or the anatomy?

Clean scans (no degradation at all) of SYNTHETIC phantoms and of the held-out REAL slices, each
reconstructed with a soft, the standard and a sharp kernel, assessed by a captioner. A good model
calls none of them blurred; a blur call that appears only on real anatomy, whatever the kernel, says
the cue is the anatomy, not the physics.

    .venv/bin/python benchmarks/ctiqa_kernel_blur_check.py --json kernels.json
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import numpy as np

KERNELS = {"soft (hann 0.4 lp/mm)": ("hann", 0.4), "standard (default)": ("hann", 0.75),
           "sharp (shepp-logan, Nyquist)": ("shepp-logan", None)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="captioner folder (default: the shipped one)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=2, help="synthetic phantoms per anatomy")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from radscribe.ctiqa.phantoms import ANATOMIES, heldout_real_ct_paths, make_phantom, real_phantoms
    from radscribe.ctiqa.physics.kernels import ReconKernel
    from radscribe.ctiqa.physics.params import AcquisitionParams
    from radscribe.ctiqa.physics.simulate import simulate
    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.preprocess import preprocess_uint8

    model = args.model or str(Path(__file__).resolve().parents[1] / "src" / "radscribe" / "checkpoints" / "ctiqa-captioner")
    assessor = load_assessor(model)
    phantoms = [make_phantom(a, s, args.size) for a in ANATOMIES for s in range(args.seeds)]
    phantoms += list(real_phantoms([str(p) for p in heldout_real_ct_paths()], args.size))
    results = collections.defaultdict(list)
    for phantom in phantoms:
        kind = "synthetic" if phantom.synthetic else "real"
        for name, (window, cutoff) in KERNELS.items():
            scan = simulate(phantom.hu, phantom.pixel_spacing_mm, AcquisitionParams(seed=1), body_mask=phantom.body_mask,
                            kernel=ReconKernel(window, cutoff))
            row = assessor.assess_arrays(preprocess_uint8(scan.degraded_hu)[None])[0]
            blur = row["aspects"].get("blur", "none")
            results[f"{kind} | {name}"].append({"id": phantom.anatomy_id, "blur": blur, "score": row["score"]})
            print(f"{kind:<9} {phantom.anatomy_id[:26]:<26} {name:<30} blur {blur or 'none':<9} score {row['score']}")
    summary = {key: {"n": len(rows), "blur_called": sum(r["blur"] not in (None, "none") for r in rows),
                     "mean_score": round(float(np.mean([r["score"] for r in rows if r["score"] is not None])), 2)}
               for key, rows in results.items()}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"model": model, "note": "clean scans: every correct answer is 'no blur'",
                                         "summary": summary, "scans": results}, indent=1))


if __name__ == "__main__":
    main()

"""Does a captioner read the same slices the same way when they are flipped or turned? SYNTHETIC labels.

Image quality does not depend on which way up a slice lies, and the captioner is trained with flips and
90-degree turns, so each of the eight views (identity, flips, transposes) is an equally fair test of it.
On slices unlike its training data (the held-out real anatomy) the views disagree; their spread shows how
much of one number is the model and how much the orientation the scanner happened to store. Printed per
split: |PLCC|+|SROCC|+|KROCC| of each view, their mean and SD, and of the mean score over the views.

    .venv/bin/python benchmarks/ctiqa_orientation.py --data ctiqa-heldout:test-real ctiqa-heldout512:test-real \\
        --model runs/captioner --json orientation.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

#: the eight symmetries of the square, applied to a (..., H, W) stack
VIEWS = {
    "identity": lambda a: a,
    "flip up-down": lambda a: a[..., ::-1, :],
    "flip left-right": lambda a: a[..., :, ::-1],
    "turn 180": lambda a: a[..., ::-1, ::-1],
    "transpose": lambda a: a.swapaxes(-1, -2),
    "turn 90": lambda a: a.swapaxes(-1, -2)[..., :, ::-1],
    "turn 270": lambda a: a.swapaxes(-1, -2)[..., ::-1, :],
    "anti-transpose": lambda a: a.swapaxes(-1, -2)[..., ::-1, ::-1],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", required=True, help="FOLDER:SPLIT pairs, e.g. ctiqa-heldout:test-real")
    parser.add_argument("--model", default=None, help="captioner folder (default: the shipped one)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.data import load_split_spec
    from radscribe.iqagpt.metrics import correlations

    assessor = load_assessor(args.model, threads=args.threads)
    results = {}
    for spec in args.data:
        key, data = load_split_spec(spec, assessor.windows)
        true = data.scores.tolist()
        scores = {}
        for name, view in VIEWS.items():
            rows = assessor.assess_arrays(np.ascontiguousarray(view(data.images)))
            scores[name] = np.array([np.nan if r["score"] is None else r["score"] for r in rows])
        per_view = {name: round(correlations(s.tolist(), true)["sum_abs"], 3) for name, s in scores.items()}
        values = np.array(list(per_view.values()))
        mean_score = np.nanmean(np.stack(list(scores.values())), axis=0)
        results[key] = {"per_view": per_view, "mean_over_views": round(float(values.mean()), 3),
                        "sd_over_views": round(float(values.std(ddof=1)), 3),
                        "of_mean_score": round(correlations(mean_score.tolist(), true)["sum_abs"], 3)}
        r = results[key]
        print(f"{key}: identity {per_view['identity']}, views {values.min():.3f}-{values.max():.3f}, "
              f"mean {r['mean_over_views']} (SD {r['sd_over_views']}), mean score over views {r['of_mean_score']}",
              flush=True)
    if args.json:
        args.json.write_text(json.dumps({"model": args.model or "shipped", "synthetic_labels": True,
                                         "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Two captioners on the same slices: |PLCC|+|SROCC|+|KROCC| of each, the difference, and its paired bootstrap CI.

Resampling the same slices for both models gives the interval of the difference on this data (not the
run-to-run variance of training). Each dataset is scored overall and by the size the slice was made at,
and by source slice for real-anatomy splits. SYNTHETIC labels (radscribe's protocol).

    .venv/bin/python benchmarks/ctiqa_paired.py --against runs/old --model runs/new \\
        --data ctiqa-mix:test ctiqa-heldout:test-real ctiqa-heldout512:test-real --json paired.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="captioner B (default: the shipped one)")
    parser.add_argument("--against", required=True, help="captioner A, the reference")
    parser.add_argument("--data", nargs="+", required=True, help="FOLDER:SPLIT pairs, e.g. ctiqa-heldout:test-real")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.data import load_splits
    from radscribe.iqagpt.metrics import correlations

    def sum_abs(pred: np.ndarray, true: np.ndarray) -> float:
        return correlations(pred.tolist(), true.tolist())["sum_abs"]

    assessors = {"A": load_assessor(args.against, threads=args.threads),
                 "B": load_assessor(args.model, threads=args.threads)}
    rng = np.random.default_rng(0)
    results = {}
    for spec in args.data:
        folder, _, split = spec.rpartition(":")
        preds, data = {}, None
        for name, assessor in assessors.items():
            data = load_splits(Path(folder), [split], windows=assessor.windows)
            rows = assessor.assess_arrays(data.images)
            preds[name] = np.array([np.nan if r["score"] is None else r["score"] for r in rows])
        true = data.scores
        groups = {"all": np.arange(len(true))}
        for key, label in (("size", "made at {} px"), ("source", "{}")):
            values = [r.get(key) for r in data.records]
            if len(set(values)) < 2:  # one group is "all" again
                continue
            for value in dict.fromkeys(values):
                groups[label.format(Path(str(value)).name)] = np.flatnonzero([v == value for v in values])
        for group, idx in groups.items():
            if len(idx) < 10:
                continue
            a, b = sum_abs(preds["A"][idx], true[idx]), sum_abs(preds["B"][idx], true[idx])
            boots = [sum_abs(preds["B"][i], true[i]) - sum_abs(preds["A"][i], true[i])
                     for i in (rng.choice(idx, len(idx)) for _ in range(args.resamples))]
            lo, hi = np.percentile(boots, [2.5, 97.5])
            mae = {k: round(float(np.nanmean(np.abs(preds[k][idx] - true[idx]))), 3) for k in preds}
            key = f"{Path(folder).name}:{split} {group} (n={len(idx)})"
            results[key] = {"A": round(a, 3), "B": round(b, 3), "B-A": round(b - a, 3),
                            "ci95": [round(float(lo), 3), round(float(hi), 3)], "mae": mae}
            print(f"{key}: A {a:.3f}  B {b:.3f}  B-A {b - a:+.3f} (95% CI {lo:+.3f}, {hi:+.3f}); "
                  f"MAE A {mae['A']} B {mae['B']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"A": args.against, "B": args.model or "shipped", "synthetic": True,
                                         "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

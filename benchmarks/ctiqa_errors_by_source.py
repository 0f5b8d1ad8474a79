"""Where a captioner's aspect errors come from: over- and under-calls per aspect, tallied by source slice.

On the held-out real-anatomy split (each real pydicom-data slice scanned several ways) this shows
whether false calls belong to particular slices (their texture, thickness or resolution) or to all of
them. Over = the caption says a more severe degradation than the acquisition had.

    .venv/bin/python benchmarks/ctiqa_errors_by_source.py --data heldout256 --json errors.json
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a make-ctiqa / make-heldout folder")
    parser.add_argument("--model", default=None, help="captioner folder (default: the shipped one)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from radscribe.iqagpt.assess import Assessor
    from radscribe.iqagpt.benchmark import _captioner_eval
    from radscribe.iqagpt.checkpoint import load_captioner
    from radscribe.iqagpt.data import ASPECTS, load_splits

    rows = [json.loads(line) for line in (args.data / "annotations.jsonl").read_text().splitlines() if line.strip()]
    model = args.model or str(Path(__file__).resolve().parents[1] / "src" / "radscribe" / "checkpoints" / "ctiqa-captioner")
    assessor = Assessor(load_captioner(model))
    data = load_splits(args.data, sorted({r["split"] for r in rows}), windows=assessor.windows)
    said = _captioner_eval(assessor, data, 0)["aspects"]
    by = collections.defaultdict(collections.Counter)
    for i, row in enumerate(rows):
        source = row.get("anatomy_id", "?")
        by[source]["n"] += 1
        for j, name in enumerate(ASPECTS):
            if said[i][j] > data.aspects[i][j] >= 0:
                by[source][f"over_{name}"] += 1
            elif 0 <= said[i][j] < data.aspects[i][j]:
                by[source][f"under_{name}"] += 1
    total = collections.Counter()
    for counts in by.values():
        total.update(counts)
    for source, counts in by.items():
        print(f"{source[:40]:<40} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("total", ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    if args.json:
        args.json.write_text(json.dumps({"model": model, "data": str(args.data), "by_source_slice": {k: dict(v) for k, v in by.items()},
                                         "total": dict(total), "synthetic_acquisitions": True}, indent=1))


if __name__ == "__main__":
    main()

"""Score survey: how sample_params + simulate + annotate spread over the 0-4 scale (SYNTHETIC).

    python -m radscribe.ctiqa.annotation.survey --n 320 --size 256 --out survey.json

Slice i uses anatomy ANATOMIES[i % 4], phantom seed ``first_seed + i`` and sampler
``default_rng([i, 77])``, so a survey is reproducible. docs/ctiqa-annotation.md
quotes its histograms.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from radscribe.ctiqa.annotation.annotate import annotate_simulation
from radscribe.ctiqa.annotation.protocol import ASPECTS, SEVERITIES


def score_bins(scores: list[float]) -> list[int]:
    """Counts in the integer-centred bins [k-0.5, k+0.5), k = 0..4."""
    s = np.asarray(scores, float)
    return [int(np.sum((s >= k - 0.5) & (s < k + 0.5))) for k in range(5)]


def survey(n: int, size: int, *, first_seed: int = 1000, progress: bool = False) -> dict[str, Any]:
    """Simulate and annotate ``n`` sampled slices; return rows and summary counts."""
    from radscribe.ctiqa.phantoms import ANATOMIES, make_phantom
    from radscribe.ctiqa.physics import simulate
    from radscribe.ctiqa.sampling import sample_params

    rows, start = [], time.time()
    for i in range(n):
        anatomy = ANATOMIES[i % len(ANATOMIES)]
        phantom = make_phantom(anatomy, first_seed + i, size=size)
        params = sample_params(np.random.default_rng([i, 77]), phantom)
        sim = simulate(phantom.hu, phantom.pixel_spacing_mm, params, body_mask=phantom.body_mask)
        ann = annotate_simulation(sim, phantom)
        rows.append({"i": i, "anatomy": anatomy, "params": params.to_dict(), "annotation": ann.to_dict()})
        if progress and i % 20 == 0:
            print(f"{i}/{n} {time.time() - start:.0f}s", flush=True)
    return {"synthetic": True, "n": n, "size": size, **_summary(rows), "seconds": round(time.time() - start, 1),
            "rows": rows}


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    scores = [r["annotation"]["score"] for r in rows]
    severity_counts = {a: {s: sum(r["annotation"]["aspects"][a] == s for r in rows) for s in SEVERITIES}
                       for a in ASPECTS}
    per_anatomy = {a: score_bins([r["annotation"]["score"] for r in rows if r["anatomy"] == a])
                   for a in sorted({r["anatomy"] for r in rows})}
    return {"bins": score_bins(scores), "per_anatomy_bins": per_anatomy, "severity_counts": severity_counts}


def reannotate(result: dict[str, Any]) -> dict[str, Any]:
    """Re-run the current protocol on a survey's stored measurements (no re-simulation)."""
    from radscribe.ctiqa.annotation.annotate import annotate

    dummy = np.zeros((2, 2), np.float32)
    rows = []
    for r in result["rows"]:
        old = r["annotation"]
        ann = annotate(dummy, dummy, r["params"], pixel_spacing_mm=old["measurements"]["pixel_spacing_mm"],
                       measurements={k: (float("nan") if v is None else v) for k, v in old["measurements"].items()})
        rows.append({**r, "annotation": ann.to_dict()})
    return {**result, **_summary(rows), "rows": rows, "reannotated": True}


def main() -> None:
    import json

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", default="ctiqa-score-survey.json")
    args = parser.parse_args()
    result = survey(args.n, args.size, progress=True)
    with open(args.out, "w") as fh:
        json.dump(result, fh)
    print("bins", result["bins"], "fractions", [round(b / args.n, 3) for b in result["bins"]])


if __name__ == "__main__":
    main()

"""Where a captioner's score error comes from: per true aspect severity, how often it is read right or
called "none", and its share of the squared score error; one line per model, side by side. Motion and blur are
also split by whether the displacement (peak motion, mm) or the extra blur (FWHM, mm) is under one pixel of the
slice: the protocol's thresholds are in mm, so on a wide field a "mild" one can be smaller than a pixel; a what-if
line scores the model against labels with those two graded per pixel instead (not the benchmark's labels).
False alarms (an aspect called present where the truth has none) are counted per aspect on one line.
Each row also gives its headroom: the model's |PLCC|+|SROCC|+|KROCC| were those slices scored exactly right
(the rest as the model scored them), and one line does it for mild and moderate motion and blur together.

SYNTHETIC labels (radscribe's annotation protocol). Use it to pick what to fix next, and to compare two
checkpoints on the same split (their input windows may differ: each model gets its own channels).

    .venv/bin/python benchmarks/ctiqa_error_budget.py --data ctiqa-mix-w25-real --split test \\
        --model runs/a --model runs/b --json budget.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

SEVERITIES = ("none", "mild", "moderate", "severe")
#: the size (mm) each aspect's protocol measure gives, compared with the slice's pixel spacing
SIZE_MM = {"motion": ("params", "motion_mm"), "blur": ("measurements", "blur_fwhm_mm")}


def size_mm(record: dict, aspect: str) -> float | None:
    group, key = SIZE_MM[aspect]
    return (record.get(group) or {}).get(key)


def under_a_pixel(record: dict, aspect: str) -> bool | None:
    """Is the aspect's size (mm) under the slice's pixel spacing? None where the record lacks either (imports)."""
    size, pixel = size_mm(record, aspect), record.get("pixel_spacing_mm")
    return None if size is None or not pixel else size < pixel


def per_pixel_score(record: dict) -> float | None:
    """What-if label: the record's score with motion and blur graded per pixel (their size scaled by 0.7 mm / the
    slice's spacing where the pixels are coarser; the protocol's thresholds assume 0.7 mm). None for imports."""
    from radscribe.ctiqa.annotation.protocol import ASPECTS, REFERENCE_SPACING_MM, burden, score_from_burdens

    measured = record.get("measurements") or {}
    burdens = {a: measured.get(f"burden_{a}") for a in ASPECTS}
    if None in burdens.values() or not record.get("pixel_spacing_mm"):
        return None
    scale = min(1.0, REFERENCE_SPACING_MM / record["pixel_spacing_mm"])
    for aspect in SIZE_MM:
        if burdens[aspect] > 0:  # present: its cause is in the acquisition
            burdens[aspect] = burden(aspect, size_mm(record, aspect) * scale)
    return score_from_burdens(burdens)


def if_scored_right(pred: np.ndarray, true: np.ndarray, idx: np.ndarray) -> float | None:
    """|PLCC|+|SROCC|+|KROCC| with the slices ``idx`` given their true score, the others the model's."""
    from radscribe.iqagpt.metrics import correlations

    fixed = pred.copy()
    fixed[idx] = true[idx]
    return correlations(fixed.tolist(), true.tolist())["sum_abs"]


def _entry(idx: np.ndarray, said: list[str], level: int, err2: np.ndarray, pred: np.ndarray,
           true: np.ndarray) -> dict:
    right = if_scored_right(pred, true, idx)
    return {
        "n": int(idx.size),
        "read_right": round(float(np.mean([said[i] == SEVERITIES[level] for i in idx])), 3),
        "called_none": round(float(np.mean([said[i] == "none" for i in idx])), 3),
        "share_of_squared_error": round(float(err2[idx].sum() / max(err2.sum(), 1e-9)), 3),
        "sum_abs_if_scored_right": None if right is None else round(right, 3),
    }


def budget(model: str, data_dir: Path, splits: list[str]) -> dict:
    from radscribe.iqagpt.assess import load_assessor
    from radscribe.iqagpt.data import ASPECTS, load_splits
    from radscribe.iqagpt.metrics import correlations

    assessor = load_assessor(model)
    data = load_splits(data_dir, splits, windows=assessor.windows)
    rows = assessor.assess_arrays(data.images)
    pred = np.array([np.nan if r["score"] is None else r["score"] for r in rows])
    err2 = np.nan_to_num(pred - data.scores, nan=4.0) ** 2  # no score read: counted as the worst miss
    out = {"model": model, "windows": list(assessor.windows), "n": len(rows),
           **{k: correlations(pred.tolist(), data.scores.tolist())[k] for k in ("sum_abs", "mae")}, "aspects": {}}
    what_if = [per_pixel_score(r) for r in data.records]
    if None not in what_if:
        out["per_pixel_what_if"] = {"labels_changed": int(np.sum(np.abs(np.array(what_if) - data.scores) > 1e-4)),
                                    "sum_abs": correlations(pred.tolist(), what_if)["sum_abs"]}
    for j, aspect in enumerate(ASPECTS):
        said = [said_of(rows, aspect, i) for i in range(len(rows))]
        for level in (1, 2, 3):
            idx = np.flatnonzero(data.aspects[:, j] == level)
            if idx.size == 0:
                continue
            out["aspects"][f"{aspect} {SEVERITIES[level]}"] = _entry(idx, said, level, err2, pred, data.scores)
            flags = [under_a_pixel(data.records[i], aspect) for i in idx] if aspect in SIZE_MM and level < 3 else []
            if flags and None not in flags:
                under = np.array(flags)
                for name, part in (("< 1 px", idx[under]), (">= 1 px", idx[~under])):
                    if part.size:
                        out["aspects"][f"{aspect} {SEVERITIES[level]} {name}"] = _entry(part, said, level, err2,
                                                                                         pred, data.scores)
    out["false_alarms"] = {}
    for j, aspect in enumerate(ASPECTS):
        clean = np.flatnonzero(data.aspects[:, j] == 0)
        out["false_alarms"][aspect] = {"n": int(clean.size), "called_present": int(sum(said_of(rows, aspect, i) != "none"
                                                                                       for i in clean))}
    columns = [ASPECTS.index(a) for a in SIZE_MM]
    mild_or_moderate = np.flatnonzero(np.isin(data.aspects[:, columns], (1, 2)).any(axis=1))
    out["mild_moderate_motion_blur_scored_right"] = {"n": int(mild_or_moderate.size),
                                                     "sum_abs": if_scored_right(pred, data.scores, mild_or_moderate)}
    return out


def said_of(rows: list[dict], aspect: str, i: int) -> str:
    return rows[i]["aspects"].get(aspect) or "none"


def number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"  # None: under three slices had a score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a make-ctiqa / make-ctiqa-heldout folder")
    parser.add_argument("--split", action="append", help="split(s) to read (default: test)")
    parser.add_argument("--model", action="append", help="captioner folder(s) (default: the shipped one)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    shipped = str(Path(__file__).resolve().parents[1] / "src" / "radscribe" / "checkpoints" / "ctiqa-captioner")
    results = [budget(m, args.data, args.split or ["test"]) for m in (args.model or [shipped])]
    print("SYNTHETIC labels. |PLCC|+|SROCC|+|KROCC| / MAE:", "   ".join(
        f"{Path(r['model']).name}: {number(r['sum_abs'], 3)} / {number(r['mae'], 2)}" for r in results))
    for r in results:
        if "per_pixel_what_if" in r:
            w = r["per_pixel_what_if"]
            print(f"  what-if, motion and blur graded per pixel ({w['labels_changed']} labels change): "
                  f"{Path(r['model']).name} {number(w['sum_abs'], 3)}")
        alarms = ", ".join(f"{a} {v['called_present']}/{v['n']}" for a, v in r["false_alarms"].items())
        print(f"  false alarms (called present / truly none): {Path(r['model']).name}: {alarms}")
        h = r["mild_moderate_motion_blur_scored_right"]
        print(f"  what-if, the {h['n']} mild or moderate motions and blurs scored exactly right: "
              f"{Path(r['model']).name} {number(h['sum_abs'], 3)}")
    print(f"{'true aspect':<24}" + "".join(f"{Path(r['model']).name[:24]:>43}" for r in results))
    print(f"{'':<24}" + "".join(f"{'n':>16}{'right':>6}{'none':>6}{'share':>6}{'if right':>9}" for _ in results))
    for key in results[0]["aspects"]:
        cells = [r["aspects"].get(key) for r in results]
        print(f"{key:<24}" + "".join(
            f"{c['n']:>16} {c['read_right']:>5.2f} {c['called_none']:>5.2f} {c['share_of_squared_error']:>5.2f}"
            f"{number(c['sum_abs_if_scored_right'], 3):>9}" if c else f"{'-':>43}" for c in cells))
    if args.json:
        args.json.write_text(json.dumps({"synthetic": True, "data": str(args.data), "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

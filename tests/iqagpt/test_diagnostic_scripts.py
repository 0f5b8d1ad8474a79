"""The captioner diagnostics in benchmarks/ run end to end on a tiny real dataset and a tiny trained captioner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *args, "--threads", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_an_ensemble_of_one_model_twice_scores_as_that_model(tiny_data, tiny_checkpoint, tmp_path):
    out = tmp_path / "ensemble.json"
    run("ctiqa_ensemble.py", "--data", f"{tiny_data}:test", f"{tiny_data}:val",
        "--models", str(tiny_checkpoint), str(tiny_checkpoint), "--json", str(out))
    report = json.loads(out.read_text())
    assert report["synthetic_labels"] is True
    for per_split in report["results"].values():
        everything = per_split["all"]
        assert everything["n"] == 5
        single = list(everything["per_model"].values())
        if single[0] is not None:  # one tiny epoch may write no score at all; then there is nothing to correlate
            assert everything["mean_score_ensemble"] == pytest.approx(single[0])
            assert everything["ensemble_over_best_single"] == pytest.approx(1.0)


def test_the_error_budget_splits_motion_and_blur_at_one_pixel(tiny_data, tiny_checkpoint, tmp_path):
    out = tmp_path / "budget.json"
    run("ctiqa_error_budget.py", "--data", str(tiny_data), "--split", "train", "--model", str(tiny_checkpoint),
        "--json", str(out))
    [result] = json.loads(out.read_text())["results"]
    records = [json.loads(line) for line in (tiny_data / "annotations.jsonl").read_text().splitlines()]
    train = [r for r in records if r["split"] == "train"]
    seen = 0
    for aspect, size in (("motion", lambda r: r["params"]["motion_mm"]), ("blur", lambda r: r["measurements"]["blur_fwhm_mm"])):
        for level in ("mild", "moderate"):
            cases = [r for r in train if r["aspects"][aspect] == level]
            under = sum(size(r) < r["pixel_spacing_mm"] for r in cases)
            got = {name: result["aspects"].get(f"{aspect} {level} {name}", {}).get("n", 0) for name in ("< 1 px", ">= 1 px")}
            assert got == {"< 1 px": under, ">= 1 px": len(cases) - under}
            if cases:
                assert result["aspects"][f"{aspect} {level}"]["n"] == len(cases)
            seen += len(cases)
    assert seen > 0  # the tiny set (seed 3) has mild and moderate motion and blur to split
    headroom = result["mild_moderate_motion_blur_scored_right"]
    moved = [r for r in train if {r["aspects"]["motion"], r["aspects"]["blur"]} & {"mild", "moderate"}]
    assert headroom["n"] == len(moved) > 0  # a slice with both counts once
    for aspect, alarms in result["false_alarms"].items():  # every truly clean slice, per aspect
        assert alarms["n"] == sum(r["aspects"][aspect] == "none" for r in train) >= alarms["called_present"] >= 0


def test_the_headroom_is_the_models_number_with_those_slices_scored_right(tiny_data):
    import importlib.util

    from radscribe.iqagpt.metrics import correlations

    spec = importlib.util.spec_from_file_location("error_budget", BENCHMARKS / "ctiqa_error_budget.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    true = np.array([0.4, 1.2, 2.0, 2.8, 3.6, 4.0])
    pred = np.array([1.0, 1.0, 3.0, 2.0, 3.8, np.nan])
    assert module.if_scored_right(pred, true, np.arange(6)) == pytest.approx(3.0)
    assert module.if_scored_right(pred, true, np.array([], int)) == pytest.approx(correlations(pred.tolist(), true.tolist())["sum_abs"])
    assert module.if_scored_right(pred, true, np.array([2, 3])) > correlations(pred.tolist(), true.tolist())["sum_abs"]
    assert np.isnan(pred[5])  # the model's own array is left as it was


def test_the_per_pixel_what_if_only_eases_motion_and_blur_on_coarse_pixels(tiny_data):
    import importlib.util

    spec = importlib.util.spec_from_file_location("error_budget", BENCHMARKS / "ctiqa_error_budget.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    records = [json.loads(line) for line in (tiny_data / "annotations.jsonl").read_text().splitlines()]
    eased = 0
    for r in records:
        what_if = module.per_pixel_score(r)
        moved = r["measurements"]["burden_motion"] > 0 or r["measurements"]["burden_blur"] > 0
        if not moved or r["pixel_spacing_mm"] <= 0.7:
            assert what_if == pytest.approx(r["score"])  # nothing to regrade: the protocol's own label
        else:
            assert what_if >= r["score"] - 1e-6  # a displacement counted in pixels is never larger
            eased += what_if > r["score"] + 1e-6
    assert eased > 0  # the tiny set's sub-pixel motions (0.9 mm at 1.9 mm pixels) are eased
    assert module.per_pixel_score({"score": 3.0}) is None  # an imported record carries no measurements


def test_the_motion_probe_trains_each_arm_on_the_slices_degraded_only_there(tiny_data, tmp_path):
    out = tmp_path / "probe.json"
    text = run("ctiqa_motion_probe.py", "--train", str(tiny_data), "--test", str(tiny_data), "--steps", "3",
               "--batch", "4", "--json", str(out))
    report = json.loads(out.read_text())
    records = [json.loads(line) for line in (tiny_data / "annotations.jsonl").read_text().splitlines()]

    def only_motion(r):  # nothing but motion degraded (or nothing at all), on a standard field
        return all(s == "none" for a, s in r["aspects"].items() if a != "motion") and not r["wide_fov"] \
            and not r["targeted_fov"]

    train = [r for r in records if r["split"] == "train" and only_motion(r)]
    assert sum(report["n_train"].values()) == len(train) > 0
    assert sum(report["n_test"].values()) == sum(only_motion(r) for r in records)
    assert report["synthetic"] is True and "SYNTHETIC" in text
    assert set(report["arms"]) == {"native", "input", "difference"}
    for arm in report["arms"].values():
        assert 0.0 <= arm["accuracy"] <= 1.0
        assert all(v is None or 0.0 <= v <= 1.0 for k, v in arm.items() if k.startswith("auc_"))


def test_the_probe_input_arm_is_the_captioners_grid(tiny_data):
    import importlib.util

    spec = importlib.util.spec_from_file_location("motion_probe", BENCHMARKS / "ctiqa_motion_probe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    records = module.select(tiny_data, None, "motion")[:2]
    native, grid, difference = (module.load(tiny_data, records, arm) for arm in ("native", "input", "difference"))
    assert native.shape == (2, 2, 128, 128) and torch.equal(native, grid)  # a 128 slice is not resized
    assert difference.shape == native.shape and not torch.equal(difference, native)
    assert float(difference.mean()) == pytest.approx(0.5, abs=0.05)  # degraded minus reference: centred on mid-grey

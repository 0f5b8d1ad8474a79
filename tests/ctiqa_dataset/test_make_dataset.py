"""Building a tiny dataset: record schema, HU round trip, DICOM, settings guard, kill-and-resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from radscribe.ctiqa.dataset import DatasetConfig, make_dataset, read_records
from radscribe.ctiqa.dataset.records import REQUIRED_KEYS
from radscribe.errors import ConfigError
from radscribe.io import read_image

SIZE = 128
N = 6


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ctiqa") / "ds"
    summary = make_dataset(DatasetConfig(out=str(out), n=N, seed=5, size=SIZE, dicom=True))
    assert summary == {"out": str(out), "planned": N, "skipped": 0, "made": N}
    return out


def test_records_have_the_schema(built):
    records = read_records(built)
    assert [r["index"] for r in records] == list(range(N))
    for r in records:
        assert set(REQUIRED_KEYS) <= set(r)
        assert r["synthetic"] is True and r["seed"] is not None
        assert 0.0 <= r["score"] <= 4.0 and r["category"] in {"bad", "poor", "fair", "good", "excellent"}
        assert r["caption"] and r["protocol_version"] and r["aspects"] and r["measurements"]
        assert r["params"]["n_views"] >= 8 and r["split"] in {"train", "val", "test"}
    # two slices per patient, differently degraded
    assert records[0]["anatomy_id"] == records[1]["anatomy_id"] and records[0]["params"] != records[1]["params"]
    splits = {}
    for r in records:
        assert splits.setdefault(r["anatomy_id"], r["split"]) == r["split"]


def test_pngs_read_back_as_hu_and_dicom_agrees(built):
    r = read_records(built)[0]
    [image] = read_image(built / r["image"])
    [reference] = read_image(built / r["reference_image"])
    assert image.meta.units == "HU" and image.shape == (SIZE, SIZE)
    assert reference.pixels.min() >= -1030 and reference.pixels.max() > 100  # air and bone in HU
    assert np.all(np.mod(image.pixels, 1) == 0)  # stored to 1 HU
    [dicom] = read_image(built / r["dicom"])
    assert dicom.meta.units == "HU" and dicom.meta.modality == "CT"
    np.testing.assert_array_equal(dicom.pixels, image.pixels)
    import pydicom

    ds = pydicom.dcmread(built / r["dicom"], stop_before_pixels=True)
    assert "SYNTHETIC" in ds.SeriesDescription and "SYNTHETIC" in ds.ImageComments


def test_rerun_skips_and_other_settings_refuse(built):
    again = make_dataset(DatasetConfig(out=str(built), n=N, seed=5, size=SIZE, dicom=True))
    assert again["skipped"] == N and again["made"] == 0
    with pytest.raises(ConfigError, match="seed"):
        make_dataset(DatasetConfig(out=str(built), n=N, seed=6, size=SIZE, dicom=True))


def test_bad_config_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="anatomy"):
        make_dataset(DatasetConfig(out=str(tmp_path / "x"), n=2, anatomies=("knee",)))
    with pytest.raises(ConfigError, match="size"):
        make_dataset(DatasetConfig(out=str(tmp_path / "x"), n=2, size=64))


def _snapshot(folder: Path) -> tuple[list[dict], dict[str, bytes]]:
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.png"))}
    return read_records(folder), files


def test_killed_run_resumes_to_the_same_result(tmp_path):
    n, seed = 5, 11
    whole = tmp_path / "whole"
    make_dataset(DatasetConfig(out=str(whole), n=n, seed=seed, size=SIZE))

    broken = tmp_path / "broken"
    cmd = [sys.executable, "-m", "radscribe", "data", "make-ctiqa", "--out", str(broken), "--n", str(n),
           "--seed", str(seed), "--size", str(SIZE), "--no-card"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = broken / "annotations.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and log.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"run ended before it could be killed: {proc.stderr.read().decode()[-500:]}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = log.read_bytes().count(b"\n")
    assert 2 <= done_before < n

    summary = make_dataset(DatasetConfig(out=str(broken), n=n, seed=seed, size=SIZE))
    assert summary["skipped"] == done_before and summary["made"] == n - done_before
    assert _snapshot(broken) == _snapshot(whole)
    assert not list(broken.rglob("*.tmp"))  # no half-written image left behind as a file that counts


def test_workers_give_the_same_dataset(tmp_path):
    """--workers only changes how fast: two processes write the same records and bytes as one."""
    one, two = tmp_path / "one", tmp_path / "two"
    make_dataset(DatasetConfig(out=str(one), n=3, seed=2, size=SIZE, workers=1))
    make_dataset(DatasetConfig(out=str(two), n=3, seed=2, size=SIZE, workers=2))
    assert _snapshot(one) == _snapshot(two)


def test_resume_under_another_protocol_version_is_refused(tmp_path):
    import json

    cfg = DatasetConfig(out=str(tmp_path / "old"), n=2, size=SIZE)
    settings = cfg.settings() | {"protocol_version": "ctiqa-annotation/0.9"}
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "dataset.json").write_text(json.dumps({"settings": settings}))
    with pytest.raises(ConfigError, match="protocol_version"):
        make_dataset(cfg)
    assert not (tmp_path / "old" / "annotations.jsonl").exists()


def test_targeted_field_of_view_slices(tmp_path):
    """--targeted-fov: the same patient scanned whole on a finer grid, the central field kept and annotated."""
    from radscribe.ctiqa.dataset.pipeline import crop_phantom, run_targeted_slice
    from radscribe.ctiqa.phantoms import make_phantom

    out = tmp_path / "tf"
    make_dataset(DatasetConfig(out=str(out), n=8, seed=3, size=SIZE, targeted_fov=1.0, anatomies=("chest",)))
    records = read_records(out / "annotations.jsonl")
    assert all(r["targeted_fov"] for r in records)
    for r in records:
        image = read_image(out / r["image"])[0]
        assert image.shape == (SIZE, SIZE) and np.isfinite(image.pixels).all()
        full = make_phantom("chest", 0, SIZE).fov_mm  # every chest phantom's own field is 300-450 mm
        assert 0.3 * 300 < r["fov_mm"] < 0.91 * 460 and r["fov_mm"] < full + 60
        assert r["pixel_spacing_mm"] == pytest.approx(r["fov_mm"] / SIZE, rel=0.01)

    full = make_phantom("chest", 1, 2 * SIZE)
    field, offset = crop_phantom(full, SIZE)
    assert offset == SIZE // 2 and field.hu.shape == (SIZE, SIZE)
    assert np.array_equal(field.hu, full.hu[offset:offset + SIZE, offset:offset + SIZE])
    for r, c in field.metal_sites.values():  # only implants inside the field, in the field's pixels
        assert 0 <= r < SIZE and 0 <= c < SIZE
    result, same_field = run_targeted_slice(full, SIZE, seed=4)
    assert result.sim.degraded_hu.shape == (SIZE, SIZE) and same_field.fov_mm == pytest.approx(full.fov_mm / 2)
    for insert in result.sim.params.metal:
        assert 0 <= insert.center_rc[0] < SIZE and 0 <= insert.center_rc[1] < SIZE


def test_folders_from_before_targeted_fov_still_resume(tmp_path):
    import json

    cfg = DatasetConfig(out=str(tmp_path / "old"), n=2, size=SIZE)
    settings = cfg.settings()
    settings.pop("targeted_fov")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "dataset.json").write_text(json.dumps({"settings": settings}))
    assert make_dataset(cfg)["made"] == 2
    with pytest.raises(ConfigError, match="targeted_fov"):
        make_dataset(DatasetConfig(out=str(tmp_path / "old"), n=2, size=SIZE, targeted_fov=0.5))


def test_wide_field_of_view_slices(tmp_path):
    """--wide-fov: the same patient on a wider field (body smaller in the matrix); other slices unchanged."""
    from radscribe.ctiqa.dataset.pipeline import widen_phantom
    from radscribe.ctiqa.phantoms import make_phantom

    plain, wide = tmp_path / "plain", tmp_path / "wide"
    make_dataset(DatasetConfig(out=str(plain), n=8, seed=3, size=SIZE, anatomies=("pelvis",)))
    make_dataset(DatasetConfig(out=str(wide), n=8, seed=3, size=SIZE, anatomies=("pelvis",), wide_fov=0.5))
    before = {r["index"]: r for r in read_records(plain / "annotations.jsonl")}
    after = read_records(wide / "annotations.jsonl")
    widened = [r for r in after if r["wide_fov"]]
    assert 0 < len(widened) < len(after)
    for r in after:
        same = before[r["index"]]
        if r["wide_fov"]:  # the same acquisition of the same patient, on a 1.2-1.9x field
            assert r["anatomy_id"] == same["anatomy_id"] and r["params"]["seed"] == same["params"]["seed"]
            assert [m["site"] for m in r["params"]["metal"]] == [m["site"] for m in same["params"]["metal"]]
            assert 1.09 * same["fov_mm"] < r["fov_mm"] <= min(1.95 * same["fov_mm"], 500) * 1.01
        else:  # its own random stream: a slice that is not wide is the very slice made without --wide-fov
            assert r == {**same, "wide_fov": False}
            assert (wide / r["image"]).read_bytes() == (plain / same["image"]).read_bytes()

    phantom = make_phantom("pelvis", 2, SIZE)
    wider = widen_phantom(phantom, 1.5)
    assert wider.hu.shape == (SIZE, SIZE) and wider.fov_mm == pytest.approx(1.5 * phantom.fov_mm, rel=0.02)
    assert wider.body_mask.sum() == pytest.approx(phantom.body_mask.sum() / 1.5 ** 2, rel=0.1)
    for name, (r, c) in wider.metal_sites.items():  # implants stay on the same anatomy: bone under each hip
        assert wider.hu[int(round(r)), int(round(c))] > 200, name
        assert abs(r - (SIZE - 1) / 2) < abs(phantom.metal_sites[name][0] - (SIZE - 1) / 2) + 1


def test_arms_down_slices(tmp_path):
    """--arms-down: some chest/abdomen slices with the arms at the sides on a ~500 mm field; the others unchanged."""
    plain, arms = tmp_path / "plain", tmp_path / "arms"
    make_dataset(DatasetConfig(out=str(plain), n=8, seed=3, size=SIZE, anatomies=("abdomen", "head")))
    make_dataset(DatasetConfig(out=str(arms), n=8, seed=3, size=SIZE, anatomies=("abdomen", "head"), arms_down=0.6))
    before = {r["index"]: r for r in read_records(plain / "annotations.jsonl")}
    after = read_records(arms / "annotations.jsonl")
    down = [r for r in after if r["arms_down"]]
    assert 0 < len(down) < len(after) and {r["anatomy"] for r in down} == {"abdomen"}  # never a head
    for r in after:
        same = before[r["index"]]
        assert r["anatomy_id"] == same["anatomy_id"] and r["params"]["seed"] == same["params"]["seed"]
        if r["arms_down"]:
            assert same["fov_mm"] < r["fov_mm"] <= 500.5
        else:  # its own random stream: a slice without arms is the very slice made without --arms-down
            assert r == same
            assert (arms / r["image"]).read_bytes() == (plain / same["image"]).read_bytes()
    with pytest.raises(ConfigError, match="arms-down"):
        make_dataset(DatasetConfig(out=str(tmp_path / "bad"), n=2, arms_down=1.5))


def test_phantom_split_puts_every_slice_in_one_split(tmp_path):
    """--phantom-split train: a supplement whose merge leaves another set's val and test as they were."""
    from radscribe.ctiqa.dataset.merge import merge_datasets

    base, extra = tmp_path / "base", tmp_path / "extra"
    make_dataset(DatasetConfig(out=str(base), n=6, seed=3, size=SIZE, anatomies=("head",)))
    make_dataset(DatasetConfig(out=str(extra), n=6, seed=4, size=SIZE, anatomies=("head",), phantom_split="train"))
    assert {r["split"] for r in read_records(extra / "annotations.jsonl")} == {"train"}
    merged = tmp_path / "merged"
    merge_datasets(merged, [base, extra])
    held = [(r["split"], r["anatomy_id"]) for r in read_records(merged / "annotations.jsonl") if r["split"] != "train"]
    assert held == [(r["split"], r["anatomy_id"]) for r in read_records(base / "annotations.jsonl")
                    if r["split"] != "train"]
    with pytest.raises(ConfigError, match="phantom-split"):
        make_dataset(DatasetConfig(out=str(tmp_path / "bad"), n=2, phantom_split="holdout"))
    with pytest.raises(ConfigError, match="real-split"):
        make_dataset(DatasetConfig(out=str(tmp_path / "bad2"), n=2, real=[str(base)], phantom_split="train"))


def test_kinds_make_a_supplement_of_those_aspects_only(tmp_path):
    """--kinds motion,blur: every slice is moved or blurred (and captioned so); other kinds are refused by name."""
    out = tmp_path / "mb"
    make_dataset(DatasetConfig(out=str(out), n=6, seed=3, size=SIZE, anatomies=("head",), phantom_split="train",
                               kinds=("motion", "blur")))
    records = read_records(out / "annotations.jsonl")
    assert len(records) == 6
    for r in records:
        p = r["params"]
        assert (p.get("motion_mm", 0) > 0) != (p.get("blur_fwhm_mm", 0) > 0), p
        assert not p.get("metal") and not p.get("ring_gain_sd")
        assert r["aspects"]["motion"] != "none" or r["aspects"]["blur"] != "none" or r["score"] >= 3.4  # sub-threshold
    from radscribe.ctiqa.dataset.card import write_card

    card = write_card(out, grid=False).read_text()  # its "built with" line gives the command that remakes it
    assert f"--out mb --n 6 --seed 3 --size {SIZE} --anatomies head --per-patient 2 --phantom-split train " \
           "--kinds motion,blur`" in card
    with pytest.raises(ConfigError, match="settings"):  # the kinds are part of what fixes the content
        make_dataset(DatasetConfig(out=str(out), n=6, seed=3, size=SIZE, anatomies=("head",), phantom_split="train"))
    with pytest.raises(ConfigError, match="--kinds: unknown degradation kind wobble"):
        make_dataset(DatasetConfig(out=str(tmp_path / "bad"), n=2, kinds=("wobble",)))

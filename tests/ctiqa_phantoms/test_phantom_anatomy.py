"""Procedural phantoms: contract, determinism, distinctness, laterality, tissue HU, masks, speed."""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np
import pytest
from scipy import ndimage

from radscribe.ctiqa.phantoms import ANATOMIES, METAL_SITE_INFO, Phantom, make_phantom
from radscribe.ctiqa.phantoms.tissues import TISSUES
from radscribe.errors import ConfigError

N = 512
SEEDS = (0, 1, 2)


@lru_cache(maxsize=None)
def phantom(anatomy: str, seed: int, size: int = N) -> Phantom:
    return make_phantom(anatomy, seed, size)


def centroid_col(mask: np.ndarray) -> float:
    return float(np.nonzero(mask)[1].mean())


@pytest.mark.parametrize("anatomy", ANATOMIES)
def test_contract(anatomy):
    p = phantom(anatomy, 0)
    assert p.hu.dtype == np.float32 and p.hu.shape == (N, N)
    assert p.hu.min() >= -1000.0 and np.isfinite(p.hu).all()
    assert p.body_mask.dtype == bool and 0.2 < p.body_mask.mean() < 0.9
    assert p.synthetic is True and p.anatomy == anatomy and p.anatomy_id == f"{anatomy}-000000"
    lo, hi = (0.42, 0.5) if anatomy == "head" else (0.68, 0.88)  # FOV 220-250 / 350-450 mm
    assert lo <= p.pixel_spacing_mm <= hi
    assert abs(p.fov_mm - N * p.pixel_spacing_mm) < 1e-6
    for name, (r, c) in p.metal_sites.items():
        assert name in METAL_SITE_INFO
        assert p.body_mask[int(round(r)), int(round(c))], f"{name} implant site lies outside the body"


@pytest.mark.parametrize("anatomy", ANATOMIES)
def test_same_seed_same_pixels_different_seed_different_patient(anatomy):
    a, b = phantom(anatomy, 1), make_phantom(anatomy, 1)
    assert np.array_equal(a.hu, b.hu) and a.metal_sites == b.metal_sites
    assert a.regions.keys() == b.regions.keys()
    assert all(np.array_equal(a.regions[k], b.regions[k]) for k in a.regions)
    ids = {phantom(anatomy, s).anatomy_id for s in SEEDS}
    assert len(ids) == len(SEEDS)
    for s1, s2 in ((0, 1), (0, 2), (1, 2)):
        # Different anatomy, not just different noise: body outlines differ by many pixels.
        outline_change = np.mean(phantom(anatomy, s1).body_mask != phantom(anatomy, s2).body_mask)
        assert outline_change > 0.01, (s1, s2, outline_change)


def test_anatomies_with_the_same_seed_are_unrelated():
    assert phantom("abdomen", 0).pixel_spacing_mm != phantom("chest", 0).pixel_spacing_mm


@pytest.mark.parametrize("seed", SEEDS)
def test_abdomen_laterality(seed):
    """Radiological convention: patient's left on the image right."""
    p, mid = phantom("abdomen", seed), N / 2
    r = p.regions
    assert centroid_col(r["liver"]) < mid < centroid_col(r["spleen"]) if "spleen" in r else centroid_col(r["liver"]) < mid
    assert centroid_col(r["kidney_right"]) < mid < centroid_col(r["kidney_left"])
    assert centroid_col(r["ivc"]) < centroid_col(r["aorta"])
    assert centroid_col(r["stomach"]) > mid


@pytest.mark.parametrize("seed", SEEDS)
def test_chest_pelvis_head_laterality(seed):
    chest, pelvis, head, mid = phantom("chest", seed), phantom("pelvis", seed), phantom("head", seed), N / 2
    assert centroid_col(chest.regions["lung_right"]) < mid < centroid_col(chest.regions["lung_left"])
    assert chest.metal_sites["pacemaker"][1] > mid  # left anterior chest wall
    assert chest.metal_sites["pacemaker"][0] < chest.metal_sites["spine"][0]  # anterior is up
    assert pelvis.metal_sites["right hip"][1] < mid < pelvis.metal_sites["left hip"][1]
    assert head.metal_sites["shunt"][1] < mid  # right frontal burr hole


def _check_drawn_values(p: Phantom) -> None:
    for name, value in p.info["tissue_hu"].items():
        lo, hi = TISSUES[name].hu_range(p.info["phase"])
        assert lo - 1e-6 <= value <= hi + 1e-6, (name, value, lo, hi)


# organ region -> (tissue it is made of), measured in the eroded mask against the value drawn
SINGLE_TISSUE = {
    "abdomen": {"liver": "liver", "spleen": "spleen", "aorta": "blood", "subcutaneous_fat": "fat", "psoas": "muscle"},
    "chest": {"lung_left": "lung", "lung_right": "lung", "aorta": "blood", "subcutaneous_fat": "fat"},
    "head": {"white_matter": "white matter", "ventricles": "csf"},
    "pelvis": {"bladder": "urine", "gluteal_muscle": "muscle", "subcutaneous_fat": "fat"},
}


@pytest.mark.parametrize("anatomy", ANATOMIES)
def test_tissue_hu_within_literature_ranges(anatomy):
    for seed in SEEDS:
        p = phantom(anatomy, seed)
        _check_drawn_values(p)
        for region, tissue_name in SINGLE_TISSUE[anatomy].items():
            if region not in p.regions:
                continue
            core = ndimage.binary_erosion(p.regions[region], iterations=2)
            if core.sum() < 30:
                continue
            median = float(np.median(p.hu[core]))
            drawn = p.info["tissue_hu"][tissue_name]
            tol = 45.0 if tissue_name == "lung" else 6.0  # lungs carry a front-to-back gradient
            assert abs(median - drawn) < tol, (region, median, drawn)
            lo, hi = TISSUES[tissue_name].hu_range(p.info["phase"])
            assert lo - tol <= median <= hi + tol, (region, median, lo, hi)


def test_head_grey_white_csf_contrast():
    p = phantom("head", 0)
    gm = float(np.median(p.hu[p.regions["grey_matter"]]))
    wm = float(np.median(p.hu[ndimage.binary_erosion(p.regions["white_matter"], iterations=3)]))
    csf = float(np.median(p.hu[ndimage.binary_erosion(p.regions["ventricles"], iterations=2)]))
    assert csf + 8 < wm < gm - 4, (csf, wm, gm)
    assert 30 <= gm <= 48 and 18 <= wm <= 32 and -2 <= csf <= 14


@pytest.mark.parametrize("anatomy", ANATOMIES)
def test_masks_consistent(anatomy):
    p = phantom(anatomy, 2)
    covered = np.zeros_like(p.body_mask)
    for name, mask in p.regions.items():
        assert mask.dtype == bool and mask.shape == (N, N)
        if name == "table":
            assert not (mask & p.body_mask).any()
            continue
        assert not (mask & ~p.body_mask).any(), f"{name} leaks outside the body"
        covered |= mask
    assert np.array_equal(covered, p.body_mask)
    if anatomy == "chest":
        assert not (p.regions["lung_left"] & p.regions["lung_right"]).any()
    for lesion in p.lesions:
        mask = p.regions[lesion["name"]]
        assert mask.any() and not (mask & p.regions.get(lesion["organ"], np.zeros_like(mask))).any()
        r, c = lesion["center_rc"]
        assert p.body_mask[int(r), int(c)]


def test_lesions_occur_and_are_labelled():
    found = {}
    for anatomy in ("abdomen", "chest", "head"):
        for seed in range(8):
            for lesion in phantom(anatomy, seed).lesions:
                found.setdefault(anatomy, set()).add(lesion["kind"])
    assert {"cyst", "hypodense lesion"} & found["abdomen"]
    assert found["chest"] & {"solid nodule", "ground-glass nodule"}
    assert found["head"] & {"infarct", "lacune"}


def test_other_sizes_and_bad_arguments():
    small = make_phantom("abdomen", 3, size=256)
    assert small.hu.shape == (256, 256) and 1.3 < small.pixel_spacing_mm < 1.8
    with pytest.raises(ConfigError, match="unknown phantom anatomy"):
        make_phantom("knee", 0)
    with pytest.raises(ConfigError, match="seed"):
        make_phantom("head", -1)
    with pytest.raises(ConfigError, match="size"):
        make_phantom("head", 0, size=16)


def test_speed_sanity():
    """Not a benchmark (that is in the docs); catches an accidental 10x slowdown."""
    make_phantom("chest", 100)
    t0 = time.process_time()
    for seed in range(101, 105):
        make_phantom("chest", seed)
    per_phantom = (time.process_time() - t0) / 4
    assert per_phantom < 1.0, per_phantom

"""Findings appear on the side, and with the look, that the report text names."""

import numpy as np
import pytest
from scipy import ndimage

from radscribe.cxr.labeler import label_report
from radscribe.cxr.render import plan_findings, render_cxr

SIZE = 256


def _costophrenic(rendered, side: str) -> np.ndarray:
    """Lower, lateral quarter of one lung (patient side) as drawn without fluid."""
    lung = rendered.masks["lung_right" if side == "right" else "lung_left"]
    ys, xs = np.nonzero(lung)
    low = ys.min() + 0.7 * (ys.max() - ys.min())
    mid = xs.mean()
    lateral = (np.arange(SIZE)[None, :] < mid) if side == "right" else (np.arange(SIZE)[None, :] > mid)
    return lung & (np.arange(SIZE)[:, None] > low) & lateral


@pytest.mark.parametrize("side", ["left", "right"])
def test_effusion_whitens_the_named_costophrenic_angle(side):
    other = "right" if side == "left" else "left"
    rendered = render_cxr(f"Large {side} pleural effusion. Heart size is normal.", seed=3, size=SIZE)
    named = rendered.image[_costophrenic(rendered, side)].mean()
    unnamed = rendered.image[_costophrenic(rendered, other)].mean()
    assert named > unnamed + 0.15
    (finding,) = rendered.truth["findings"]
    assert (finding["kind"], finding["side"], finding["size"]) == ("effusion", side, "large")


def test_small_effusion_is_lower_than_large():
    small = render_cxr("Small right pleural effusion.", seed=4, size=SIZE)
    large = render_cxr("Large right pleural effusion.", seed=4, size=SIZE)
    assert small.truth["findings"][0]["bbox"][1] > large.truth["findings"][0]["bbox"][1] + 0.05  # top edge lower


def _fine(image: np.ndarray) -> np.ndarray:
    """Band-pass: vessels and noise survive, broad shading does not."""
    return ndimage.gaussian_filter(image, 0.7) - ndimage.gaussian_filter(image, 3.0)


@pytest.mark.parametrize("side", ["left", "right"])
def test_pneumothorax_on_named_side_has_no_lung_markings(side):
    """Same seed = same patient: the only change is the finding, so the fine detail lost is the lung markings."""
    other = "right" if side == "left" else "left"
    rendered = render_cxr(f"Large {side} pneumothorax.", seed=5, size=SIZE)
    normal = render_cxr("No pneumothorax.", seed=5, size=SIZE)
    space = rendered.masks[f"pneumothorax_{side}"]
    assert space.sum() > 200
    centre_x = np.nonzero(space)[1].mean() / SIZE
    assert (centre_x < 0.5) if side == "right" else (centre_x > 0.5)  # patient right = image left
    core = ndimage.binary_erosion(space, iterations=3)
    control = ndimage.binary_erosion(rendered.masks[f"lung_{other}"], iterations=3)
    lost = _fine(normal.image) - _fine(rendered.image)
    assert lost[core].std() > 3 * lost[control].std()  # fine structure (markings) removed only beyond the pleural line
    assert rendered.image[core].mean() < normal.image[core].mean() - 0.01  # more air, no lung tissue: darker
    assert abs(rendered.image[control].mean() - normal.image[control].mean()) < 0.01


def test_consolidation_is_in_the_named_zone():
    rendered = render_cxr("Right lower lobe consolidation.", seed=6, size=SIZE)
    finding = rendered.truth["findings"][0]
    x0, y0, x1, y1 = finding["bbox"]
    lung = rendered.masks["lung_right"]
    ys = np.nonzero(lung)[0] / SIZE
    assert (x0 + x1) / 2 < 0.5 and (y0 + y1) / 2 > ys.min() + 0.5 * (ys.max() - ys.min())


def test_nodule_and_mass_sizes():
    nodule = render_cxr("A 1 cm nodule in the left upper lobe.", seed=1, size=SIZE)
    mass = render_cxr("Large right upper lobe mass.", seed=1, size=SIZE)
    assert nodule.truth["findings"][0]["kind"] == "nodule" and nodule.truth["findings"][0]["diameter_cm"] < 2.1
    assert mass.truth["findings"][0]["kind"] == "mass" and mass.truth["findings"][0]["diameter_cm"] > 3
    cx, cy = mass.truth["findings"][0]["center"]
    assert cx < 0.5  # right lung: image left


def test_negated_findings_are_not_drawn():
    rendered = render_cxr("No pleural effusion or pneumothorax. No focal consolidation. Heart size normal.", seed=2, size=SIZE)
    assert rendered.truth["findings"] == []


def test_uncertain_findings_drawn_about_half_the_time_and_faint():
    text = "Possible small left pleural effusion."
    labels = label_report(text)
    assert labels["Pleural Effusion"] == -1
    plans = [plan_findings(labels, text, np.random.default_rng(s))[0] for s in range(200)]
    drawn = [p for p in plans if p]
    assert 70 <= len(drawn) <= 130  # probability 0.5
    assert all(p[0].subtle and p[0].side == "left" for p in drawn)
    seed = next(s for s in range(50) if render_cxr(text, seed=s, size=64).truth["findings"])
    assert render_cxr(text, seed=seed, size=64).truth["findings"][0]["subtle"] is True


def test_devices_named_in_the_text():
    rendered = render_cxr("Endotracheal tube and nasogastric tube in place. Left chest wall pacemaker.", seed=0, size=SIZE)
    kinds = {f["kind"] for f in rendered.truth["findings"]}
    assert {"ett", "ng", "pacemaker"} <= kinds
    pacer = next(f for f in rendered.truth["findings"] if f["kind"] == "pacemaker")
    x0, y0, x1, y1 = pacer["bbox"]
    gen = rendered.image[int(y0 * SIZE):int(y1 * SIZE), int(x0 * SIZE):int(x1 * SIZE)]
    assert gen.max() > 0.95  # metal is the brightest thing on the film


def test_rib_fracture_breaks_a_rib_on_the_named_side():
    broken = render_cxr("Right rib fracture.", seed=9, size=SIZE)
    intact = render_cxr("No fracture.", seed=9, size=SIZE)
    (finding,) = broken.truth["findings"]
    x0, y0, x1, y1 = finding["bbox"]
    assert (x0 + x1) / 2 < 0.5  # patient right = image left
    box = (slice(int(y0 * SIZE), int(y1 * SIZE) + 1), slice(int(x0 * SIZE), int(x1 * SIZE) + 1))
    changed = np.abs(broken.image - intact.image)
    assert changed[box].mean() > 5 * changed.mean()  # the only change is at the break


def test_multiple_bilateral_nodules_are_several_on_both_sides():
    rendered = render_cxr("Multiple bilateral pulmonary nodules.", seed=1, size=128)
    nodules = [f for f in rendered.truth["findings"] if f["kind"] == "nodule"]
    assert len(nodules) >= 3 and {f["side"] for f in nodules} == {"right", "left"}
    for f in nodules:
        assert (f["center"][0] < 0.5) == (f["side"] == "right")  # patient right = image left

"""Image conventions: float [0, 1], dense = bright, PA orientation, deterministic per seed, labelled synthetic."""

import numpy as np

from radscribe.cxr.render import render_cxr
from radscribe.cxr.render.anatomy import dome_level


def test_image_conventions_and_determinism():
    a = render_cxr("Normal chest.", seed=11, size=192)
    b = render_cxr("Normal chest.", seed=11, size=192)
    c = render_cxr("Normal chest.", seed=12, size=192)
    assert a.image.dtype == np.float32 and a.image.shape == (192, 192)
    assert 0.0 <= a.image.min() and a.image.max() <= 1.0
    assert np.array_equal(a.image, b.image) and not np.array_equal(a.image, c.image)
    assert a.synthetic and a.truth["synthetic"] is True
    assert a.truth["lung_mask_source"]  # a real lung shape, named


def test_lungs_dark_heart_bright_and_heart_to_the_image_right():
    r = render_cxr("Normal chest.", seed=3, size=256)
    lungs = r.masks["lung_right"] | r.masks["lung_left"]
    heart = r.masks["heart"] & (np.arange(256)[:, None] < 0.75 * 256)
    assert r.image[lungs].mean() + 0.3 < r.image[heart].mean()
    # patient's left (image right) holds most of the heart; patient's right lung is on the image left
    assert np.nonzero(r.masks["heart"])[1].mean() > np.nonzero(r.masks["lung_right"])[1].mean()
    assert np.nonzero(r.masks["lung_right"])[1].mean() < 128 < np.nonzero(r.masks["lung_left"])[1].mean()


def test_right_hemidiaphragm_higher_than_left():
    for seed in range(4):
        r = render_cxr({}, seed=seed, size=128)
        assert dome_level(r.masks["lung_right"], "right") <= dome_level(r.masks["lung_left"], "left") + 1


def test_label_dict_input():
    r = render_cxr({"Pleural Effusion": 1, "Cardiomegaly": 1}, seed=0, size=128)
    assert r.truth["ctr"] > 0.5
    assert [f["kind"] for f in r.truth["findings"]] == ["effusion"]

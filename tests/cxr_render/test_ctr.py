"""The heart is drawn at the cardiothoracic ratio asked for, and measure_ctr finds it from pixels alone."""

import pytest

from radscribe.cxr.render import measure_ctr, render_cxr


@pytest.mark.parametrize("ctr", [0.42, 0.5, 0.6])
@pytest.mark.parametrize("seed", [0, 7, 21])
def test_measured_ctr_matches_requested(ctr, seed):
    rendered = render_cxr({}, seed=seed, size=256, ctr=ctr)
    assert abs(measure_ctr(rendered.image) - ctr) < 0.05  # from the image, by thresholds and edge profiles
    assert abs(measure_ctr(rendered.masks) - ctr) < 0.04  # from the drawn lung masks


def test_cardiomegaly_in_text_means_ctr_over_half_and_normal_heart_under():
    for seed in range(3):
        big = render_cxr("Moderate cardiomegaly.", seed=seed, size=256)
        normal = render_cxr("Heart size is normal.", seed=seed, size=256)
        assert big.truth["ctr"] > 0.52 and measure_ctr(big.image) > 0.5
        assert 0.4 < normal.truth["ctr"] < 0.49 and measure_ctr(normal.image) < 0.52
